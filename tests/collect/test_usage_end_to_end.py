"""The Copilot usage report over HTTP: CSV v1.0, JSON beta, the legacy 302, concealed names."""

from __future__ import annotations

from dataclasses import replace

import pytest

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


@pytest.mark.parametrize("version", ["v1.0", "beta", "legacy"])
def test_usage_report_rows_match_the_audit_records(make_server, tmp_path, version) -> None:
    tenant = _tenant()
    server = make_server(tenant)
    db = tmp_path / "u.duckdb"
    result = collect_from(server, db, only=("usage",), extra={"usage_version": version})
    assert result.counts["usage"]["source"] == f"graph-{version}"
    assert "notices" not in result.counts["usage"]
    rows = _usage(db)
    # The truth, computed from the audit records themselves: last day per app in the 30 days.
    model = tenant.activity
    end = model.window[1]
    last: dict[str, dict[str, object]] = {}
    for record in model.records(model.window[0], end, ["CopilotInteraction"]):
        day = record["CreationTime"][:10]
        if ac.program_of(record) is not None:
            continue  # programs and other Copilot products are not in Microsoft 365 Copilot's usage report
        if (end.date().toordinal() - 30) <= _ordinal(day):
            host = record["CopilotEventData"]["AppHost"]
            if host == "appchat":  # Copilot in an app, named by its context
                host = ac.APP_OF_CONTEXT[record["CopilotEventData"]["Contexts"][0]["Type"]]
            column = {"BizChat": "copilot_chat", "Bing": "copilot_chat", "Teams": "teams"}.get(host, host.lower())
            last.setdefault(record["UserId"].lower(), {})[column] = day
    seat_holders = {u.user_principal_name.lower() for u in tenant.iter_users() if u.holds_copilot_seat()}
    assert set(rows) == seat_holders
    for upn, row in rows.items():
        concealed, period, last_any, *apps = row
        assert concealed is False and period == 30
        want = last.get(upn, {})
        assert [a.isoformat() if a else None for a in apps] == [want.get(c) for c in COLUMNS], upn
        assert (last_any.isoformat() if last_any else None) == max(want.values(), default=None)


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
