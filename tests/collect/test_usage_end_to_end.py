"""The Copilot usage reports over HTTP: CSV v1.0 (version 2, falling back to 1), JSON beta, the legacy 302,
concealed names, and the user-count summary and trend."""

from __future__ import annotations

from dataclasses import replace

import pytest

from m365audit.simulator import Tenant, TenantConfig
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
        host = record["CopilotEventData"]["AppHost"]
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


def _iso(value) -> str | None:
    return value.isoformat() if value else None


@pytest.mark.parametrize(("version", "report_version", "days"),
                         [("v1.0", "v2", 28), ("beta", "v1", 30), ("legacy", "v1", 30)])
def test_usage_report_rows_match_the_audit_records(make_server, tmp_path, version, report_version, days) -> None:
    tenant = _tenant()
    server = make_server(tenant)
    db = tmp_path / "u.duckdb"
    result = collect_from(server, db, only=("usage",), extra={"usage_version": version})
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
    collect_from(server, tmp_path / "u.duckdb", only=("usage",), extra={"usage_version": "legacy"})
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
