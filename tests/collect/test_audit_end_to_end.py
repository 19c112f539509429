"""Audit records over HTTP through msgraph-sdk's adapter land in the views exactly as generated."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import duckdb
import pytest

from m365audit.collect.audit_settings import AuditSettings
from m365audit.errors import CollectionError
from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator.activity_expected import expected_activity
from m365audit.simulator.audit import service_for
from m365audit.simulator.behaviour import ApiBehaviour
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, collect_from

BOTH = ["CopilotInteraction", "AIAppInteraction"]
FAST = AuditSettings(poll_initial=0.01, poll_max=0.05, record_types=tuple(BOTH))


def _tenant(users: int = 800, days: int = 8, **api) -> Tenant:
    return Tenant(TenantConfig(users=users, seed=21, days=days, anchor=ANCHOR,
                               api=replace(ApiBehaviour(), **api)))


def collect_audit(server, db, **options):
    audit = replace(FAST, **options.pop("audit", {}))
    return collect_from(server, db, only=options.pop("only", ("audit",)), audit=audit, **options)


def view_counts(db) -> dict:
    with open_db(db, read_only=True) as con:
        return _counts(con)


def _counts(con: duckdb.DuckDBPyConnection) -> dict:
    one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731 - a short local helper
    return {
        "interactions": one("SELECT count(*) FROM copilot_interactions"),
        "messages": one("SELECT count(*) FROM copilot_messages"),
        "prompts": one("SELECT count(*) FROM copilot_messages WHERE is_prompt"),
        "jailbreaks": one("SELECT count(*) FROM copilot_messages WHERE jailbreak_detected"),
        "accessed_resources": one("SELECT count(*) FROM copilot_accessed_resources"),
        "xpia": one("SELECT count(*) FROM copilot_accessed_resources WHERE xpia_detected"),
        "contexts": one("SELECT count(*) FROM copilot_contexts"),
        "plugins": one("SELECT count(*) FROM copilot_plugins"),
        # an agent named by AgentId, by AppIdentity or (Microsoft's own) by name only
        "agent_interactions": one("SELECT count(*) FROM copilot_interactions "
                                  "WHERE agent_id IS NOT NULL OR agent_name IS NOT NULL"),
        "users": one("SELECT count(DISTINCT user_principal_name) FROM copilot_interactions"),
        "by_app_host": dict(con.execute("SELECT app_host, count(*) FROM copilot_interactions GROUP BY 1").fetchall()),
        "by_record_type": dict(con.execute(
            "SELECT record_type, count(*) FROM copilot_interactions GROUP BY 1").fetchall()),
        "by_label": dict(con.execute("SELECT sensitivity_label_id, count(*) FROM copilot_accessed_resources "
                                     "WHERE sensitivity_label_id IS NOT NULL GROUP BY 1").fetchall()),
        "raw": one("SELECT count(*) FROM audit_records"),
        "by_app": dict(con.execute("SELECT app, count(*) FROM copilot_interactions GROUP BY 1").fetchall()),
        "by_actor_type": dict(con.execute(
            "SELECT actor_type, count(*) FROM copilot_interactions GROUP BY 1").fetchall()),
        "agents": {(r[0], r[1]): r[2] for r in con.execute(
            "SELECT agent_id, agent_name, count(*) FROM copilot_interactions "
            "WHERE agent_id IS NOT NULL OR agent_name IS NOT NULL GROUP BY 1, 2").fetchall()},
        "copilot_users": one("SELECT count(DISTINCT user_principal_name) FROM copilot_use"),
    }


def _expected(tenant: Tenant, start, end) -> dict:
    truth = expected_activity(tenant.activity, start, end, BOTH)
    truth.pop("safeguarding_resources")
    truth.pop("highly_confidential_resources")
    truth["raw"] = truth["interactions"]
    truth["agent_interactions"] = sum(truth["agents"].values())  # AgentId, or an agent named by AppIdentity
    return truth


def test_view_counts_equal_what_the_tenant_generated(make_server, tmp_path) -> None:
    tenant = _tenant()
    server = make_server(tenant)
    start, end = tenant.activity.window
    db = tmp_path / "a.duckdb"
    result = collect_audit(server, db, only=("licences", "audit"), since=start, until=end)
    assert view_counts(db) == _expected(tenant, start, end)
    assert result.counts["audit"]["queries"] == 1 and result.counts["audit"]["api_version"] == "v1.0"
    with open_db(db, read_only=True) as con:
        # Every record's user is in the directory, so every user_id is filled.
        assert con.execute("SELECT count(*) FROM copilot_interactions WHERE user_id IS NULL").fetchone() == (0,)
        stored = con.execute("SELECT value FROM collection_state WHERE key = 'watermark:CopilotInteraction'")
        assert stored.fetchone() == (end.isoformat(),)
        sample = con.execute("SELECT audit_data FROM audit_records LIMIT 1").fetchone()[0]
    assert '"CopilotEventData"' in sample  # the raw JSON is kept


def test_every_documented_shape_lands_as_what_it_means(make_server, tmp_path) -> None:
    """appchat with contexts, Copilot Chat at work and on the web, agents by AgentId and by AppIdentity
    only, applications and service principals, Security Copilot and an unknown AppHost, over HTTP."""
    tenant = _tenant()
    server = make_server(tenant)
    start, end = tenant.activity.window
    db = tmp_path / "a.duckdb"
    collect_audit(server, db, only=("licences", "audit"), since=start, until=end)
    got = view_counts(db)
    truth = _expected(tenant, start, end)
    for key in ("by_app", "by_actor_type", "agents", "copilot_users", "by_app_host"):
        assert got[key] == truth[key], key
    assert got["by_app_host"]["appchat"] > 0 and got["by_app_host"]["CopilotAPI"] > 0
    assert set(got["by_app"]) == {"Word", "Excel", "PowerPoint", "Outlook", "Teams", "OneNote", "Loop",
                                  "Copilot Chat (work)", "Copilot Chat (web)", "Copilot Studio agent",
                                  "Security Copilot", "other"}
    assert set(got["by_actor_type"]) == {"person", "application", "service principal"}
    with open_db(db, read_only=True) as con:
        not_use = con.execute("""
            SELECT app, actor_type, count(*) FROM copilot_interactions
            WHERE record_id NOT IN (SELECT record_id FROM copilot_use) AND record_type = 'CopilotInteraction'
            GROUP BY ALL ORDER BY ALL""").fetchall()
        studio = con.execute("SELECT DISTINCT agent_id, agent_kind FROM copilot_interactions "
                             "WHERE app = 'Copilot Studio agent' ORDER BY 1").fetchall()
        declarative = con.execute("SELECT count(*), count(agent_version) FROM copilot_interactions "
                                  "WHERE agent_kind = 'declarative'").fetchone()
    by_actor = {(a, t): n for a, t, n in not_use}
    # programs and other Copilot products stay in copilot_interactions but are never Copilot use
    assert set(by_actor) == {("other", "application"), ("Copilot Studio agent", "service principal"),
                             ("Copilot Studio agent", "person"), ("Security Copilot", "person")}
    assert sum(by_actor.values()) == (got["interactions"] - _use_count(db)
                                      - truth["by_record_type"].get("AIAppInteraction", 0))
    assert studio == [("5d7e1f20-8a3b-4c6d-9e0f-1a2b3c4d5e6f", "Copilot Studio"),
                      ("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "Copilot Studio")]
    assert declarative[0] > 0 and declarative[0] == declarative[1]  # AgentId, AgentName and AgentVersion


def _use_count(db) -> int:
    with open_db(db, read_only=True) as con:
        return con.execute("SELECT count(*) FROM copilot_use").fetchone()[0]


def test_collecting_twice_over_overlapping_windows_changes_nothing(make_server, tmp_path) -> None:
    tenant = _tenant()
    server = make_server(tenant)
    start, end = tenant.activity.window
    db = tmp_path / "a.duckdb"
    collect_audit(server, db, since=start, until=end)
    first = view_counts(db)
    posts = server.graph.requests["/security/auditLog/queries"]
    # A window its saved query landed moments ago needs no new query (audit_requery_after_hours).
    again = collect_audit(server, db, since=start + timedelta(days=2, hours=5), until=end)
    assert view_counts(db) == first
    assert (again.counts["audit"]["queries"], again.counts["audit"]["new"]) == (0, 0)
    assert server.graph.requests["/security/auditLog/queries"] == posts
    # A window still open to late records is queried again once audit_requery_after_hours have passed
    # (here: at once, with an overlap that keeps the simulated past open); its records are stored already.
    requery = {"requery_after": timedelta(0), "overlap": timedelta(days=3650)}
    again = collect_audit(server, db, since=start + timedelta(days=2, hours=5), until=end, audit=requery)
    assert view_counts(db) == first
    assert again.counts["audit"]["queries"] == 1
    assert again.counts["audit"]["new"] == 0 and again.counts["audit"]["duplicates"] > 0
    incremental = collect_audit(server, db, until=end)  # from the watermark minus 48 h
    assert incremental.counts["audit"]["window_start"] == (end - timedelta(hours=48)).isoformat()
    assert incremental.counts["audit"]["queries"] == 0  # settled: landed more than 48 h after the window
    assert view_counts(db) == first == _expected(tenant, start, end)


def test_a_failed_slice_is_reported_and_keeps_the_watermark(make_server, tmp_path) -> None:
    tenant = _tenant()
    server = make_server(tenant)
    start, end = tenant.activity.window
    bad_day = start + timedelta(days=3)
    service_for(tenant).fail_query = lambda q: "failed" if q.start == bad_day else None
    db = tmp_path / "a.duckdb"
    with pytest.raises(CollectionError) as raised:
        collect_audit(server, db, since=start, until=end, audit={"slice": timedelta(hours=24)})
    # Eight day slices, and the failed one replaced once (which failed again).
    assert server.graph.requests["/security/auditLog/queries"] == 9
    assert f"audit records {bad_day:%Y-%m-%dT%H:%M:%S}Z to {bad_day + timedelta(days=1):%Y-%m-%dT%H:%M:%S}Z" \
        in raised.value.message and "query failed" in raised.value.message
    with open_db(db, read_only=True) as con:
        mark = con.execute("SELECT value FROM collection_state WHERE key = 'watermark:CopilotInteraction'")
        assert mark.fetchone() == (bad_day.isoformat(),)
        assert con.execute("SELECT status FROM runs").fetchall() == [("failed",)]
    missing = tenant.activity.count(bad_day, bad_day + timedelta(days=1), BOTH)
    assert view_counts(db)["raw"] == _expected(tenant, start, end)["raw"] - missing
    service_for(tenant).fail_query = None
    collect_audit(server, db, until=end)  # starts 48 h before the watermark: the gap is collected
    assert view_counts(db) == _expected(tenant, start, end)


def test_beta_fallback_when_v1_has_no_audit_api(make_server, tmp_path) -> None:
    tenant = _tenant(audit_v1=False)
    server = make_server(tenant)
    start, end = tenant.activity.window
    result = collect_audit(server, tmp_path / "a.duckdb", since=start, until=end)
    assert result.counts["audit"]["api_version"] == "beta"
    assert view_counts(tmp_path / "a.duckdb") == _expected(tenant, start, end)
    assert server.graph.requests["/security/auditLog/queries"] == 2  # one refused at v1.0, one at beta


def test_a_slice_over_the_record_count_limit_is_split(make_server, tmp_path) -> None:
    tenant = _tenant(days=3, audit_record_limit=400)
    server = make_server(tenant)
    start, end = tenant.activity.window
    assert tenant.activity.count(start, start + timedelta(days=1), BOTH) > 400
    result = collect_audit(server, tmp_path / "a.duckdb", since=start, until=end)
    assert result.counts["audit"]["slices_split"] > 0
    assert view_counts(tmp_path / "a.duckdb") == _expected(tenant, start, end)


def test_a_query_that_never_finishes_stays_saved_for_the_next_run(make_server, tmp_path) -> None:
    tenant = _tenant(days=2, audit_polls_until_done=10_000)
    server = make_server(tenant)
    start, end = tenant.activity.window
    result = collect_audit(server, tmp_path / "a.duckdb", since=start, until=end, audit={"query_timeout": 0.2})
    audit = result.counts["audit"]
    assert (audit["queries"], audit["queries_pending"], audit["received"]) == (1, 1, 0)
    assert "the next run collects it without creating new ones" in audit["warnings"][0]
