"""The simulated audit log query API speaks Graph's wire format (raw HTTP, no SDK)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator.audit import service_for
from m365audit.simulator.behaviour import ApiBehaviour
from tests.conftest import ANCHOR

AUTH = {"Authorization": "Bearer test"}
START = ANCHOR - timedelta(days=5)


def _tenant(**api) -> Tenant:
    return Tenant(TenantConfig(users=400, seed=9, anchor=ANCHOR, api=replace(ApiBehaviour(), **api)))


def _body(**extra) -> dict:
    return {"displayName": "t", "filterStartDateTime": START.isoformat(),
            "filterEndDateTime": ANCHOR.isoformat().replace("+00:00", "Z"), **extra}


def _records(http: httpx.Client, url: str) -> tuple[list[dict], list[int]]:
    records, sizes = [], []
    while url:
        page = http.get(url).json()
        records += page["value"]
        sizes.append(len(page["value"]))
        url = page.get("@odata.nextLink")
    return records, sizes


def _run(http: httpx.Client, root: str, body: dict) -> tuple[dict, list[dict], list[int]]:
    created = http.post(f"{root}/security/auditLog/queries", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "notStarted"
    qid = created.json()["id"]
    statuses = [http.get(f"{root}/security/auditLog/queries/{qid}").json() for _ in range(3)]
    assert [s["status"] for s in statuses] == ["notStarted", "running", "succeeded"]
    records, sizes = _records(http, f"{root}/security/auditLog/queries/{qid}/records")
    return statuses[-1], records, sizes


def test_query_lifecycle_and_paging(make_server) -> None:
    server = make_server(_tenant(audit_page_size=300, audit_empty_page_every=3))
    with httpx.Client(headers=AUTH) as http:
        status, records, sizes = _run(http, server.url, _body(recordTypeFilters=["CopilotInteraction"]))
    expected = list(server.tenant.activity.records(START, ANCHOR, ["CopilotInteraction"]))
    assert [r["id"] for r in records] == [r["Id"] for r in expected]
    assert status["approximateReturnedRecordCount"] == len(expected)
    assert status["isRecordCountLimitExceeded"] is False
    assert 0 in sizes[:-1] and max(sizes) == 300  # empty pages that still carry a nextLink
    first = records[0]
    assert first["auditLogRecordType"] == "CopilotInteraction" and first["userPrincipalName"] == first["userId"]
    assert first["auditData"]["Id"] == first["id"]
    assert first["auditData"]["@odata.type"] == "#microsoft.graph.security.copilotInteractionAuditRecord"


def test_filters_by_type_operation_user_and_admin_unit(make_server) -> None:
    tenant = _tenant()
    server = make_server(tenant)
    model = tenant.activity
    every = list(model.records(START, ANCHOR))
    upn = every[0]["UserId"]
    finance = next(u for u in tenant.administrative_units() if u.department == "Finance")
    in_finance = {tenant.user(i).user_principal_name for i in tenant.unit_member_indexes(finance.id)}
    with httpx.Client(headers=AUTH) as http:
        _, third, _ = _run(http, server.url, _body(operationFilters=["AIAppInteraction"]))
        _, mine, _ = _run(http, server.url, _body(userPrincipalNameFilters=[upn.upper()]))
        _, unit, _ = _run(http, server.url, _body(administrativeUnitIdFilters=[finance.id.upper()]))
        _, nobody, _ = _run(http, server.url, _body(administrativeUnitIdFilters=[str(uuid.uuid4())]))
    assert len(third) == sum(r["Operation"] == "AIAppInteraction" for r in every) > 0
    assert {r["userId"] for r in mine} == {upn} and len(mine) == sum(r["UserId"] == upn for r in every)
    assert {r["userId"] for r in unit} <= in_finance and nobody == []
    assert len(unit) == sum(r["UserId"] in in_finance for r in every) > 0
    # Every record carries the units of its user: the organisation's, and Finance's for Finance staff.
    own = tenant.unit_id(tenant.config.org_name)
    assert all(set(r["administrativeUnits"]) == {own, finance.id} for r in unit)
    assert all(own in r["administrativeUnits"] for r in mine)


def test_record_count_limit(make_server) -> None:
    server = make_server(_tenant(audit_record_limit=500))
    with httpx.Client(headers=AUTH) as http:
        status, records, _ = _run(http, server.url, _body())
    assert status["isRecordCountLimitExceeded"] is True and status["recordCountLimit"] == 500
    assert status["approximateReturnedRecordCount"] > 500 and len(records) == 500


def test_v1_switch_and_bad_requests(make_server) -> None:
    server = make_server(_tenant(audit_v1=False))
    with httpx.Client(headers=AUTH) as http:
        assert http.post(f"{server.url}/security/auditLog/queries", json=_body()).status_code == 404
        beta = f"{server.base_url}/beta/security/auditLog/queries"
        assert http.post(beta, json=_body()).status_code == 201
        bad = http.post(beta, json=_body(recordTypeFilters=["NotAType"]))
        assert bad.status_code == 400 and "NotAType" in bad.json()["error"]["message"]
        backwards = http.post(beta, json={**_body(), "filterEndDateTime": START.isoformat()})
        assert backwards.status_code == 400
        qid = http.post(beta, json=_body()).json()["id"]
        assert http.get(f"{beta}/{qid}/records").status_code == 400  # not finished yet
        assert http.get(f"{beta}/00000000-0000-0000-0000-000000000000").status_code == 404


@pytest.mark.parametrize("verdict", ["failed", "cancelled"])
def test_fault_injection_ends_a_query(make_server, verdict) -> None:
    tenant = _tenant()
    server = make_server(tenant)
    service_for(tenant).fail_query = lambda q: verdict
    with httpx.Client(headers=AUTH) as http:
        qid = http.post(f"{server.url}/security/auditLog/queries", json=_body()).json()["id"]
        seen = [http.get(f"{server.url}/security/auditLog/queries/{qid}").json()["status"] for _ in range(3)]
    assert seen[-1] == verdict


def test_the_list_of_queries_is_paged_and_takes_no_filter(make_server) -> None:
    """"List auditLogQueries": every query, oldest first, @odata.nextLink paging; no documented $filter."""
    server = make_server(_tenant(audit_list_page_size=2))
    root = f"{server.url}/security/auditLog/queries"
    with httpx.Client(headers=AUTH) as http:
        made = [http.post(root, json=_body(displayName=f"q{i}")).json()["id"] for i in range(5)]
        pages, url = [], root
        while url:
            page = http.get(url).json()
            pages.append([(q["id"], q["displayName"], q["status"]) for q in page["value"]])
            assert "@odata.context" not in page["value"][0]
            assert page["value"][0]["@odata.type"] == "#microsoft.graph.security.auditLogQuery"
            url = page.get("@odata.nextLink")
        refused = http.get(root, params={"$filter": "displayName eq 'q1'"})
        top = http.get(root, params={"$top": "1"}).json()
    assert pages == [[(made[0], "q0", "notStarted"), (made[1], "q1", "notStarted")],
                     [(made[2], "q2", "notStarted"), (made[3], "q3", "notStarted")],
                     [(made[4], "q4", "notStarted")]]
    assert refused.status_code == 400 and "$filter" in refused.json()["error"]["message"]
    assert [q["id"] for q in top["value"]] == made[:1] and "$top=1" in top["@odata.nextLink"]


def test_the_first_creations_can_be_refused_for_the_quota(make_server) -> None:
    tenant = _tenant(audit_quota_refusals=2, audit_quota_retry_after=1.5)
    server = make_server(tenant)
    with httpx.Client(headers=AUTH) as http:
        answers = [http.post(f"{server.url}/security/auditLog/queries", json=_body()) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 201]
    assert [a.headers.get("Retry-After") for a in answers[:2]] == ["1.5", "1.5"]
    assert service_for(tenant).refused == 2 and len(service_for(tenant).created) == 1
