"""A tenant shared by two organisations, its administrative units, and the one-pass aggregates."""

from __future__ import annotations

from collections import Counter

import httpx

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from m365audit.simulator.aggregates import compute_aggregates
from m365audit.simulator.tenant import SimAssignment
from tests.conftest import ANCHOR

AUTH = {"Authorization": "Bearer anything"}
TRUST = cat.NORTHSHIRE_TRUST


def _tenant(users: int = 800) -> Tenant:
    return Tenant(TenantConfig(users=users, seed=4, anchor=ANCHOR, organisations=(TRUST,)))


def test_second_organisation_has_its_own_domain_company_and_departments() -> None:
    users = list(_tenant().iter_users())
    trust = [u for u in users if u.organisation == TRUST.name]
    assert 0.25 < len(trust) / len(users) < 0.35
    members = [u for u in trust if u.user_type == "Member"]
    assert all(u.user_principal_name.endswith("@" + TRUST.domain) and u.company_name == TRUST.name for u in members)
    assert {u.department for u in members} <= {d.name for d in cat.NHS_DEPARTMENTS}
    council = [u for u in users if u.organisation == "Example Borough Council" and u.user_type == "Member"]
    assert all(u.user_principal_name.endswith("@example.gov.uk") for u in council)


def test_aggregates_agree_with_each_user() -> None:
    tenant = _tenant(500)
    tenant.override_user(3, assignments=(SimAssignment(cat.COPILOT.sku_id, cat.GROUP_COPILOT),
                                         SimAssignment(cat.COPILOT.sku_id, cat.GROUP_COPILOT, state="Error")))
    tenant.delete_user(7)
    users = list(tenant.iter_users())
    agg = compute_aggregates(tenant)
    assert agg.consumed == Counter(sku for u in users for sku in u.active_skus())
    for name in tenant.group_names():
        groups = {a.group for u in users for a in u.assignments if a.group}
        expected = [u.index for u in users if name in {a.group for a in u.assignments if a.group}
                    or (name == cat.GROUP_TRAINED and u.trained)]
        assert list(agg.group_members[name]) == expected, (name, groups)
    holders = [u for u in users if u.holds_copilot_seat()]
    assert agg.licensed_users == len(holders)
    assert agg.licensed_by_department == Counter(u.department for u in holders)


def test_administrative_units_and_their_members(make_server) -> None:
    server = make_server(_tenant())
    tenant = server.tenant
    body = httpx.get(f"{server.url}/directory/administrativeUnits", headers=AUTH).json()
    names = [u["displayName"] for u in body["value"]]
    assert names == ["Example Borough Council", TRUST.name, "Example Borough Council - Finance",
                     "Example Borough Council - Children's Services"]
    trust = next(u for u in body["value"] if u["displayName"] == TRUST.name)
    one = httpx.get(f"{server.url}/directory/administrativeUnits/{trust['id']}", headers=AUTH).json()
    assert one["displayName"] == TRUST.name
    link = f"{server.url}/directory/administrativeUnits/{trust['id']}/members?$select=id&$top=100"
    seen, pages = [], 0
    while link:
        page = httpx.get(link, headers=AUTH).json()
        seen += page["value"]
        link = page.get("@odata.nextLink")
        pages += 1
    expected = {u.id for u in tenant.iter_users() if u.organisation == TRUST.name}
    assert {m["id"] for m in seen} == expected and len(seen) == len(expected) and pages > 1
    council = next(u for u in body["value"] if u["displayName"] == "Example Borough Council")
    first = httpx.get(f"{server.url}/directory/administrativeUnits/{council['id']}/members", headers=AUTH).json()
    assert first["value"][0] == {"@odata.type": "#microsoft.graph.group", "id": tenant.group_id(cat.GROUP_COPILOT),
                                 "displayName": cat.GROUP_COPILOT}
    finance = next(u for u in tenant.administrative_units() if u.department == "Finance")
    assert {tenant.user(i).department for i in tenant.unit_member_indexes(finance.id)} == {"Finance"}


def test_unknown_administrative_unit_is_404(make_server) -> None:
    server = make_server(_tenant(50))
    response = httpx.get(f"{server.url}/directory/administrativeUnits/00000000-0000-0000-0000-000000000000/members",
                         headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "Request_ResourceNotFound"
