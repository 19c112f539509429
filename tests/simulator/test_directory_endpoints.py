"""The simulated tenant speaks Graph's wire format for the directory endpoints."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from tests.conftest import ANCHOR

AUTH = {"Authorization": "Bearer anything"}


def get(url: str, **params: str) -> httpx.Response:
    return httpx.get(url, params=params or None, headers=AUTH, timeout=30)


def test_same_seed_same_tenant_and_realistic_shape() -> None:
    a = Tenant(TenantConfig(users=3000, seed=7, anchor=ANCHOR))
    b = Tenant(TenantConfig(users=3000, seed=7, anchor=ANCHOR))
    assert [a.user(i) for i in range(50)] == [b.user(i) for i in range(50)]
    users = list(a.iter_users())
    depts = Counter(u.department for u in users if u.department)
    assert 12 <= len(depts) <= 20
    sizes = sorted(depts.values())
    assert sizes[-1] > 5 * sizes[0]  # uneven
    seats = [u for u in users if u.holds_copilot_seat()]
    assert 0.05 <= len(seats) / len(users) <= 0.15
    top3 = sum(n for _, n in Counter(u.department for u in seats).most_common(3))
    assert top3 / len(seats) > 0.4  # concentrated in a few departments
    assert any(not u.account_enabled for u in seats)
    assert any(u.user_type == "Guest" for u in users)
    copilot = [a for u in users for a in u.assignments if a.sku_id == cat.COPILOT.sku_id]
    assert any(a.group is None for a in copilot) and any(a.group for a in copilot)
    assert any(a.state == "Error" for a in copilot)
    assert any(u.activity == 0 for u in seats)


def test_users_paging_select_and_top(make_server) -> None:
    server = make_server(users=250)
    first = get(f"{server.url}/users", **{"$top": "100", "$select": "id,displayName,department"})
    assert first.status_code == 200
    body = first.json()
    assert body["@odata.context"].endswith("$metadata#users(id,displayName,department)")
    assert len(body["value"]) == 100
    assert set(body["value"][0]) == {"id", "displayName", "department"}
    ids = [u["id"] for u in body["value"]]
    link = body["@odata.nextLink"]
    assert link.startswith(server.url + "/users?") and "$skiptoken=" in link
    pages = 1
    while link:
        page = httpx.get(link, headers=AUTH).json()
        ids += [u["id"] for u in page["value"]]
        link = page.get("@odata.nextLink")
        pages += 1
    assert pages == 3 and len(ids) == len(set(ids)) == 250


@pytest.mark.parametrize("top", ["0", "1000", "x"])
def test_bad_top_is_a_graph_error(make_server, top: str) -> None:
    server = make_server(users=50)
    response = get(f"{server.url}/users", **{"$top": top})
    assert response.status_code == 400
    assert set(response.json()["error"]) >= {"code", "message", "innerError"}


def test_default_page_size_is_100_and_default_properties(make_server) -> None:
    server = make_server(users=150)
    body = get(f"{server.url}/users").json()
    assert len(body["value"]) == 100
    assert "assignedLicenses" not in body["value"][0]
    assert {"id", "userPrincipalName", "displayName"} <= set(body["value"][0])


def test_filter_by_sku(make_server) -> None:
    server = make_server(users=400)
    flt = f"assignedLicenses/any(u:u/skuId eq {cat.COPILOT.sku_id})"
    ids = []
    link = f"{server.url}/users?$filter={flt}&$select=id,assignedLicenses&$top=25"
    while link:
        page = httpx.get(link, headers=AUTH).json()
        ids += [u["id"] for u in page["value"]]
        assert all(any(lic["skuId"] == cat.COPILOT.sku_id for lic in u["assignedLicenses"]) for u in page["value"])
        link = page.get("@odata.nextLink")
    expected = [u.id for u in server.tenant.iter_users() if cat.COPILOT.sku_id in u.active_skus()]
    assert ids == expected and len(ids) > 10


def test_unknown_property_and_missing_token(make_server) -> None:
    server = make_server(users=50)
    assert get(f"{server.url}/users", **{"$select": "nope"}).status_code == 400
    response = httpx.get(f"{server.url}/users")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_subscribed_skus_agree_with_users(make_server) -> None:
    server = make_server(users=500)
    skus = {s["skuPartNumber"]: s for s in get(f"{server.url}/subscribedSkus").json()["value"]}
    assert set(skus) == {"ENTERPRISEPACK", "ENTERPRISEPREMIUM", "SPE_F1", "Microsoft_365_Copilot"}
    consumed = Counter(sku for u in server.tenant.iter_users() for sku in u.active_skus())
    for sku in skus.values():
        assert sku["consumedUnits"] == consumed[sku["skuId"]]
        assert sku["prepaidUnits"]["enabled"] >= sku["consumedUnits"]
    chat = {p["servicePlanName"] for p in skus["ENTERPRISEPACK"]["servicePlans"]}
    assert "Bing_Chat_Enterprise" in chat


def test_delta_rounds_report_changes_and_removals(make_server) -> None:
    server = make_server(users=120)
    link = f"{server.url}/users/delta()?$select=id,displayName&$top=50"
    seen = 0
    delta_link = None
    while link:
        page = httpx.get(link, headers=AUTH).json()
        seen += len(page["value"])
        link = page.get("@odata.nextLink")
        delta_link = page.get("@odata.deltaLink")
    assert seen == 120 and delta_link
    server.tenant.override_user(3, display_name="Renamed Person")
    server.tenant.delete_user(5)
    page = httpx.get(delta_link, headers=AUTH).json()
    by_id = {u["id"]: u for u in page["value"]}
    assert by_id[server.tenant.user(3).id]["displayName"] == "Renamed Person"
    removed = [u for u in page["value"] if "@removed" in u]
    assert len(removed) == 1 and removed[0]["@removed"] == {"reason": "deleted"}
    assert "@odata.deltaLink" in page


def test_expired_delta_token(make_server) -> None:
    server = make_server(users=10)
    page = get(f"{server.url}/users/delta").json()
    server.tenant.delta_token_ttl = -1  # type: ignore[attr-defined]
    response = httpx.get(page["@odata.deltaLink"], headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "syncStateNotFound"


def test_groups_and_transitive_members(make_server) -> None:
    server = make_server(users=600)
    groups = get(f"{server.url}/groups", **{"$select": "id,displayName,assignedLicenses"}).json()["value"]
    by_name = {g["displayName"]: g for g in groups}
    assert by_name[cat.GROUP_COPILOT]["assignedLicenses"][0]["skuId"] == cat.COPILOT.sku_id
    assert by_name[cat.GROUP_TRAINED]["assignedLicenses"] == []
    one = get(f"{server.url}/groups", **{"$filter": f"displayName eq '{cat.GROUP_TRAINED}'"}).json()["value"]
    assert [g["displayName"] for g in one] == [cat.GROUP_TRAINED]
    gid = by_name[cat.GROUP_COPILOT]["id"]
    members = get(f"{server.url}/groups/{gid}/transitiveMembers", **{"$select": "id", "$top": "999"}).json()["value"]
    nested = [m for m in members if m["@odata.type"] == "#microsoft.graph.group"]
    assert [m["displayName"] for m in nested] == [cat.GROUP_COPILOT_PILOT]
    user_ids = {m["id"] for m in members if m["@odata.type"] == "#microsoft.graph.user"}
    tenant = server.tenant
    expected = {tenant.user(i).id for i in tenant.group_members(cat.GROUP_COPILOT) + tenant.group_members(cat.GROUP_COPILOT_PILOT)}
    assert user_ids == expected
    direct = get(f"{server.url}/groups/{gid}/members", **{"$select": "id", "$top": "999"}).json()["value"]
    assert len(direct) < len(members)
