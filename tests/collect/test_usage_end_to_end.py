"""The Copilot usage reports over HTTP: CSV v1.0 (version 2, falling back to 1), JSON beta, the legacy 302,
concealed names, and the user-count summary and trend."""

from __future__ import annotations

from dataclasses import replace

import pytest

from m365audit.collect.usage import UsageSettings
from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator.behaviour import ApiBehaviour
from m365audit.simulator.reports import service_for
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, collect_from

COLUMNS = ("copilot_chat", "teams", "word", "excel", "powerpoint", "outlook", "onenote", "loop")


def _tenant(**api) -> Tenant:
    return Tenant(TenantConfig(users=700, seed=8, days=40, anchor=ANCHOR, api=replace(ApiBehaviour(), **api)))


def _usage(db) -> dict:
    with open_db(db, read_only=True) as con:
        rows = con.execute(
            "SELECT user_principal_name, names_concealed, report_period, last_activity_date, "
            + ", ".join(f"{c}{'' if c == 'copilot_chat' else '_copilot'}_last_activity_date" for c in COLUMNS)
            + " FROM copilot_usage").fetchall()
    return {r[0]: r[1:] for r in rows}


def _truth(tenant: Tenant, days: int) -> dict[str, dict[str, object]]:
    """Per seat holder, from the audit records of the period: last day per app, prompts, active days, agents."""
    model = tenant.activity
    end = model.window[1]
    seat_holders = {u.user_principal_name.lower() for u in tenant.iter_users() if u.holds_copilot_seat()}
    truth: dict[str, dict[str, object]] = {upn: {"prompts": 0, "work": 0, "web": 0, "days": set()}
                                           for upn in seat_holders}
    for record in model.records(model.window[0], end, ["CopilotInteraction"]):
        day = record["CreationTime"][:10]
        upn = record["UserId"].lower()
        if upn not in truth or _ordinal(day) < end.date().toordinal() - days:
            continue
        host = _report_host(record)
        if host is None:
            continue
        column = {"BizChat": "copilot_chat", "Bing": "copilot_chat", "Teams": "teams"}.get(host, host.lower())
        seen = truth[upn]
        seen[column] = day
        prompts = sum(1 for m in record["CopilotEventData"]["Messages"] if m.get("isPrompt"))
        seen["prompts"] += prompts
        seen["days"].add(day)
        if host in ("BizChat", "Bing"):
            kind = "work" if host == "BizChat" else "web"
            seen[kind] += prompts
            seen[f"{kind}_last"] = day
        if record.get("AgentId"):
            seen["agent_last"] = day
    return truth


def _report_host(record: dict) -> str | None:
    """The AppHost Microsoft's usage report counts a record under; None for programs and other products."""
    if ac.program_of(record) is not None:
        return None  # programs and other Copilot products are not in Microsoft 365 Copilot's usage report
    host = record["CopilotEventData"]["AppHost"]
    if host == "appchat":  # Copilot in an app, named by its context
        host = ac.APP_OF_CONTEXT[record["CopilotEventData"]["Contexts"][0]["Type"]]
    return str(host)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


@pytest.mark.parametrize(("version", "report_version", "days"),
                         [("v1.0", "v2", 28), ("beta", "v1", 30), ("legacy", "v1", 30)])
def test_usage_report_rows_match_the_audit_records(make_server, tmp_path, version, report_version, days) -> None:
    tenant = _tenant()
    server = make_server(tenant)
    db = tmp_path / "u.duckdb"
    result = collect_from(server, db, only=("usage",), usage=UsageSettings(version=version))
    usage = result.counts["usage"]
    assert (usage["source"], usage["report_version"], usage["period"]) == (
        f"graph-{version}", report_version, "D28" if report_version == "v2" else "D30")
    assert "notices" not in usage
    rows = _usage(db)
    truth = _truth(tenant, days)
    assert set(rows) == set(truth)
    for upn, row in rows.items():
        concealed, period, last_any, *apps = row
        assert concealed is False and period == days
        want = truth[upn]
        assert [_iso(a) for a in apps] == [want.get(c) for c in COLUMNS], upn
        dates = [v for k, v in want.items() if k in COLUMNS]
        assert _iso(last_any) == max(dates, default=None)
    with open_db(db, read_only=True) as con:
        v2 = {r[0]: r[1:] for r in con.execute("""
            SELECT user_principal_name, report_version, prompts_submitted, copilot_chat_work_prompts_submitted,
                   copilot_chat_web_prompts_submitted, active_usage_days, copilot_chat_work_last_activity_date,
                   copilot_chat_web_last_activity_date, microsoft_365_copilot_last_activity_date,
                   edge_copilot_last_activity_date, agent_last_activity_date FROM copilot_usage""").fetchall()}
    for upn, (got_version, *figures) in v2.items():
        assert got_version == report_version
        want = truth[upn]
        expected = [want["prompts"], want["work"], want["web"], len(want["days"]), want.get("work_last"),
                    want.get("web_last"), None, None, want.get("agent_last")]
        if report_version == "v1":
            expected = [None] * 9
        assert [_iso(f) if hasattr(f, "isoformat") else f for f in figures] == expected, upn
    if report_version == "v2":
        assert sum(f[1] for f in v2.values()) > 0 and any(f[9] for f in v2.values())  # prompts and agents seen


def _ordinal(day: str) -> int:
    from datetime import date

    return date.fromisoformat(day).toordinal()


def test_concealed_names_are_detected_and_explained(make_server, tmp_path) -> None:
    tenant = _tenant(conceal_report_names=True)
    server = make_server(tenant)
    db = tmp_path / "u.duckdb"
    result = collect_from(server, db, only=("licences", "usage"))
    notice = " ".join(result.counts["usage"]["notices"])
    assert "Settings > Org settings > Reports" in notice and "conceal" in notice
    rows = _usage(db)
    assert rows and all(r[0] is True for r in rows.values())
    with open_db(db, read_only=True) as con:
        joined = con.execute("SELECT count(*) FROM copilot_usage u JOIN users s "
                             "ON lower(s.user_principal_name) = u.user_principal_name").fetchone()
    assert joined == (0,)
    service_for(tenant).conceal_names = False  # the administrator changes the setting
    result = collect_from(server, db, only=("usage",))
    assert result.counts["usage"]["names_concealed"] == 0
    assert all(r[0] is False and "@" in upn for upn, r in _usage(db).items())


def test_legacy_download_is_fetched_without_the_authorization_header(make_server, tmp_path) -> None:
    server = make_server(_tenant())
    seen: list[bool] = []

    def watch(request):
        if "/reports/downloads/" in request.path:
            seen.append("authorization" in request.headers)
        return None

    server.graph.hooks.append(watch)
    collect_from(server, tmp_path / "u.duckdb", only=("usage",), usage=UsageSettings(version="legacy"))
    assert seen == [False]


def test_v1_falls_back_to_beta_when_the_path_is_unknown(make_server, tmp_path) -> None:
    server = make_server(_tenant())
    from m365audit.simulator.http import GraphHttpError

    def no_v1(request):
        if request.version == "v1.0" and request.path.startswith("/copilot/"):
            raise GraphHttpError(400, "BadRequest", "Resource not found for the segment 'copilot'.")
        return None

    server.graph.hooks.append(no_v1)
    result = collect_from(server, tmp_path / "u.duckdb", only=("usage",))
    assert result.counts["usage"]["source"] == "graph-beta" and result.counts["usage"]["rows"] > 0


def test_a_tenant_without_version_2_gets_version_1(make_server, tmp_path) -> None:
    server = make_server(_tenant(usage_report_v2=False))
    answers: list[tuple[str, int]] = []

    def watch(request):
        if "getMicrosoft365CopilotUsageUserDetail" in request.path:
            answers.append((request.path.split("(", 1)[1], 0))
        return None

    server.graph.hooks.append(watch)
    db = tmp_path / "u.duckdb"
    result = collect_from(server, db, only=("usage",))
    usage = result.counts["usage"]
    assert (usage["source"], usage["report_version"], usage["period"]) == ("graph-v1.0", "v1", "D30")
    assert [a for a, _ in answers] == ["period='D28',version='v2')", "period='D30')"]
    assert any("does not serve version 2" in n for n in usage["notices"])
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT DISTINCT report_version, report_period, prompts_submitted FROM copilot_usage"
                           ).fetchall() == [("v1", 30, None)]
        # The count reports fell back the same way.
        assert con.execute("SELECT DISTINCT report_version FROM usage_user_counts").fetchall() == [("v1",)]


def test_what_the_unserved_version_answer_is(make_server) -> None:
    """A v1-only tenant answers the version parameter as Graph answers an unknown function."""
    import httpx

    server = make_server(_tenant(usage_report_v2=False))
    response = httpx.get(f"{server.base_url}/v1.0/copilot/reports/getMicrosoft365CopilotUsageUserDetail"
                         "(period='D28',version='v2')", headers={"Authorization": "Bearer demo"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (
        "BadRequest", "Resource not found for the segment 'getMicrosoft365CopilotUsageUserDetail'.")


def test_a_validation_error_is_not_a_reason_to_fall_back(make_server, tmp_path) -> None:
    server = make_server(_tenant())
    from m365audit.simulator.http import GraphHttpError

    def refuse(request):
        if "version=" in request.path:
            raise GraphHttpError(400, "BadRequest", "Invalid value for parameter 'period'.")
        return None

    server.graph.hooks.append(refuse)
    from m365audit.errors import CollectionError

    with pytest.raises(CollectionError, match="Invalid value for parameter 'period'"):
        collect_from(server, tmp_path / "u.duckdb", only=("usage",))
    with open_db(tmp_path / "u.duckdb", read_only=True) as con:
        assert con.execute("SELECT count(*) FROM usage_report_rows").fetchone() == (0,)


def _count_truth(tenant: Tenant, days: int) -> tuple[dict[str, tuple[int, int]], dict[str, dict[str, int]], int]:
    """From the audit records: per app, (seat holders on the refresh day, active seat holders in the period);
    per day, active seat holders per app; and the period's prompts."""
    model = tenant.activity
    refresh = model.window[1].date().toordinal() - 1
    first = refresh - days + 1
    people = {p.upn.lower(): p for p in model.people}
    apps = {"Microsoft Teams": {"Teams"}, "Word": {"Word"}, "Excel": {"Excel"}, "PowerPoint": {"PowerPoint"},
            "Outlook": {"Outlook"}, "OneNote": {"OneNote"}, "Loop": {"Loop"}, "Copilot Chat": {"BizChat", "Bing"},
            "Copilot Chat (work)": {"BizChat"}, "Copilot Chat (web)": {"Bing"}, "Edge": set(),
            "Microsoft 365 Copilot": set(), "Any App": None}
    active: dict[str, set[str]] = {a: set() for a in apps}
    daily: dict[str, dict[str, set[str]]] = {}
    prompts = 0
    for record in model.records(model.window[0], model.window[1], ["CopilotInteraction"]):
        day = _ordinal(record["CreationTime"][:10])
        person = people.get(record["UserId"].lower())
        host = _report_host(record)
        if person is None or host is None or not first <= day <= refresh or not model.licensed_on(person, day):
            continue
        prompts += sum(1 for m in record["CopilotEventData"]["Messages"] if m.get("isPrompt"))
        for app, hosts in apps.items():
            if hosts is None or host in hosts:
                active[app].add(person.upn)
                daily.setdefault(record["CreationTime"][:10], {}).setdefault(app, set()).add(person.upn)
    enabled = sum(1 for p in model.people if model.licensed_on(p, refresh))
    return ({a: (enabled, len(u)) for a, u in active.items()},
            {d: {a: len(u) for a, u in apps_.items()} for d, apps_ in daily.items()}, prompts)


def test_user_count_summary_and_trend(make_server, tmp_path) -> None:
    tenant = _tenant()
    server = make_server(tenant)
    db = tmp_path / "u.duckdb"
    result = collect_from(server, db, only=("usage",))
    summary_truth, daily_truth, prompts = _count_truth(tenant, 28)
    assert result.counts["usage"]["summary_rows"] == 13 and result.counts["usage"]["trend_rows"] == 13 * 28
    with open_db(db, read_only=True) as con:
        summary = {r[0]: r[1:] for r in con.execute(
            "SELECT app, enabled_users, active_users, prompts_submitted, report_period, report_version "
            "FROM copilot_usage_summary").fetchall()}
        trend = con.execute("SELECT report_date, app, active_users FROM copilot_usage_trend "
                            "WHERE active_users > 0").fetchall()
    assert {a: v[:2] for a, v in summary.items()} == summary_truth
    assert summary["Any App"][2] == prompts and {v[3:] for v in summary.values()} == {(28, "v2")}
    assert summary["Word"][1] > 0 and summary["Copilot Chat (web)"][1] > 0
    got: dict[str, dict[str, int]] = {}
    for day, app, active in trend:
        got.setdefault(day.isoformat(), {})[app] = active
    assert got == daily_truth


def test_beta_count_reports_use_the_documented_json(make_server, tmp_path) -> None:
    tenant = _tenant()
    db = tmp_path / "u.duckdb"
    collect_from(make_server(tenant), db, only=("usage",), usage=UsageSettings(version="beta"))
    summary_truth, _, _ = _count_truth(tenant, 30)
    with open_db(db, read_only=True) as con:
        summary = {r[0]: r[1:] for r in con.execute(
            "SELECT app, enabled_users, active_users, report_version FROM copilot_usage_summary").fetchall()}
    assert {a: v[:2] for a, v in summary.items()} == {
        a: v for a, v in summary_truth.items()
        if a not in ("Copilot Chat (work)", "Copilot Chat (web)", "Edge", "Microsoft 365 Copilot")}
    assert {v[2] for v in summary.values()} == {"v1"}


def test_a_collected_report_older_than_an_imported_one_is_not_stored(make_server, tmp_path) -> None:
    from tests.conftest import run_cli

    db = tmp_path / "u.duckdb"
    newer = tmp_path / "newer.csv"
    newer.write_text("Report Refresh Date,User Principal Name,Report Period\n2099-01-31,x@example.gov.uk,30\n",
                     encoding="utf-8")
    assert run_cli("import", "usage-report", str(newer), "--db", str(db)).code == 0
    result = collect_from(make_server(_tenant()), db, only=("usage",))
    usage = result.counts["usage"]
    assert (usage["rows"], usage["newer_report_kept"]) == (0, "2099-01-31")
    assert any("older than the one already stored (refreshed 2099-01-31)" in n for n in usage["notices"])
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT user_principal_name FROM copilot_usage").fetchall() == [("x@example.gov.uk",)]
