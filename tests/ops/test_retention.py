"""Retention strips raw JSON and who-did-what after N days, and keeps daily totals exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from m365audit.ops.retention import RetentionSettings, apply_retention
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, collect_from

NOW = ANCHOR


def _land(con, days_ago: float, n: int, upn: str, user_id: str | None, app: str = "Word") -> None:
    for i in range(n):
        record_id = f"{upn}-{days_ago}-{i}-{app}"
        at = NOW - timedelta(days=days_ago) + timedelta(hours=12, minutes=i)
        con.execute("INSERT INTO audit_records VALUES (?, ?, 'CopilotInteraction', 'CopilotInteraction', ?, ?,"
                    " 'org', 'graph', 'r1', ?, ?)", [record_id, at, upn, "key-" + upn, NOW,
                                                     '{"UserId": "' + upn + '"}'])
        con.execute("INSERT INTO copilot_interaction_facts (record_id, created_at, user_principal_name, user_id,"
                    " record_type, operation, app_host, client_region, app, actor_type, client_ip)"
                    " VALUES ($1, $2, $3, $4, 'CopilotInteraction', 'CopilotInteraction', $5, 'GBR',"
                    " copilot_app($5, NULL, NULL), 'person', '81.2.69.160')", [record_id, at, upn, user_id, app])
        con.execute("INSERT INTO copilot_accessed_resource_facts VALUES (?, 'r', 'Budget.xlsx', 'File', ?, NULL,"
                    " 'Read', 'Success', false, NULL, NULL, NULL)",
                    [record_id, f"https://ex-my.sharepoint.com/personal/{upn.split('@')[0]}_ex/Documents/a.xlsx"])


def _daily(con) -> list[tuple]:
    return con.execute("SELECT day, department, app_host, active_users, interactions FROM copilot_activity_daily "
                       "ORDER BY ALL").fetchall()


def test_retention_strips_old_activity_and_keeps_totals(make_server, tmp_path) -> None:
    server = make_server(users=40)
    db = tmp_path / "t.duckdb"
    collect_from(server, db, now=NOW)
    alice, bob = server.tenant.user(0), server.tenant.user(1)
    with open_db(db) as con:
        _land(con, 200, 3, alice.user_principal_name.lower(), alice.id)
        _land(con, 200, 2, bob.user_principal_name.lower(), bob.id, app="Excel")
        _land(con, 45, 2, alice.user_principal_name.lower(), alice.id)
        _land(con, 2, 4, bob.user_principal_name.lower(), bob.id)
        con.execute("INSERT INTO usage_report_rows (run_id, source, user_principal_name, names_concealed,"
                    " collected_at) VALUES ('old', 'graph-v1.0', 'a@x', false, ?), ('new', 'graph-v1.0', 'a@x',"
                    " false, ?)", [NOW - timedelta(days=300), NOW - timedelta(days=250)])
        before = _daily(con)
        counts = apply_retention(con, RetentionSettings(raw_audit_days=30, activity_days=180), NOW, "run-1")
        assert counts == {"raw_audit_purged": 7, "activity_summarised": 5, "activity_stripped": 5,
                          "usage_rows_deleted": 1}
        assert _daily(con) == before  # the view counts the same after the purge
        assert con.execute("SELECT count(*) FROM audit_records WHERE audit_data IS NOT NULL").fetchone() == (4,)
        old = NOW - timedelta(days=180)
        assert con.execute("SELECT count(*) FROM copilot_interaction_facts WHERE created_at < ? AND"
                           " (user_principal_name IS NOT NULL OR user_id IS NOT NULL OR client_ip IS NOT NULL)",
                           [old]).fetchone() == (0,)
        assert con.execute("SELECT count(client_ip) FROM copilot_interaction_facts WHERE created_at >= ?",
                           [old]).fetchone() == (6,)  # newer records keep theirs
        assert con.execute("SELECT DISTINCT app FROM copilot_activity_daily_totals ORDER BY 1").fetchall() == [
            ("Excel",), ("Word",)]
        assert con.execute("SELECT count(*) FROM audit_records WHERE created_at < ? AND"
                           " (user_principal_name IS NOT NULL OR user_key IS NOT NULL)", [old]).fetchone() == (0,)
        urls = {r[0] for r in con.execute("SELECT site_url FROM copilot_accessed_resource_facts f JOIN"
                                          " copilot_interaction_facts i USING (record_id) WHERE i.created_at < ?",
                                          [old]).fetchall()}
        assert urls == {"https://ex-my.sharepoint.com/personal/[removed]/Documents/a.xlsx"}
        assert con.execute("SELECT run_id FROM usage_report_rows").fetchall() == [("new",)]
        # Totals by department come from the directory: both users' departments, from the snapshot.
        day = (NOW - timedelta(days=200)).date()
        rows = con.execute("SELECT department, app_host, active_users, interactions FROM copilot_activity_daily"
                           " WHERE day = ? ORDER BY app_host", [day]).fetchall()
        assert rows == [(bob.department, "Excel", 1, 2), (alice.department, "Word", 1, 3)]


def test_a_second_purge_and_a_longer_setting_do_not_double_count(tmp_path) -> None:
    db = tmp_path / "t.duckdb"
    with open_db(db) as con:
        _land(con, 100, 3, "a@x.gov.uk", None)
        _land(con, 20, 2, "b@x.gov.uk", None)
        before = _daily(con)
        apply_retention(con, RetentionSettings(activity_days=30), NOW, "r1")
        apply_retention(con, RetentionSettings(activity_days=30), NOW + timedelta(days=1), "r2")
        # A late record for a day already summarised is added on the next purge.
        _land(con, 150, 1, "c@x.gov.uk", None)
        later = apply_retention(con, RetentionSettings(activity_days=90), NOW + timedelta(days=1), "r3")
        assert later["activity_summarised"] == 1
        assert sum(r[4] for r in _daily(con)) == sum(r[4] for r in before) + 1
        boundary = con.execute("SELECT value FROM collection_state WHERE key = 'activity_purged_before'").fetchone()
        assert datetime.fromisoformat(boundary[0].replace(" ", "T")).astimezone(UTC) == \
            NOW + timedelta(days=1) - timedelta(days=30)
