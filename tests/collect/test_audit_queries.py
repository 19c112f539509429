"""Issue 15: saved audit queries, the tenant's query budget, resuming across runs, quota answers.

Every test drives the real CLI over HTTP against a simulated tenant that enforces
the audit query service limits (submissions per rolling 24 hours, queries running
at once, records per query, queries that run longer than one run) and counts the
queries created (``service_for(tenant).created``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from m365audit.collect.audit_plan import Slice, cut
from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator.audit import service_for
from m365audit.simulator.behaviour import ApiBehaviour
from m365audit.simulator.http import Request, Response
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, assert_clean_failure, run_cli
from tests.dbcompare import assert_same_database

ENV = {"M365AUDIT_TOKEN": "t", "M365AUDIT_AUDIT_POLL_SECONDS": "0.05", "M365AUDIT_MAX_ATTEMPTS": "2",
       "M365AUDIT_RETRY_BASE_DELAY": "0.01"}
BOTH = ("CopilotInteraction", "AIAppInteraction")


def _tenant(days: int = 90, users: int = 100, anchor=ANCHOR, **api) -> Tenant:
    """``anchor=None``: today, so that the window lies within the audit log's 180 days of retention."""
    anchor = anchor or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Tenant(TenantConfig(users=users, seed=4, days=days, anchor=anchor, api=replace(ApiBehaviour(), **api)))


def collect_env(server) -> dict[str, str]:
    """``collect``'s environment, its clock at the end of the tenant's activity: --since and --until are
    checked against the audit log's retention from the tenant's day, so tests of a fixed day do not age out."""
    return {**ENV, "M365AUDIT_NOW": server.tenant.activity.window[1].isoformat()}


def _collect(server, db, *extra: str, days: int | None = None):
    start, end = server.tenant.activity.window
    if days is not None:
        start = end - timedelta(days=days)
    return run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token", "--only", "audit",
                   "--since", start.isoformat(), "--until", end.isoformat(), *extra, env=collect_env(server))


def _records(db) -> int:
    with open_db(db, read_only=True) as con:
        return con.execute("SELECT count(*) FROM audit_records").fetchone()[0]


def _statuses(db) -> list[tuple[str, int]]:
    with open_db(db, read_only=True) as con:
        return con.execute("SELECT status, count(*) FROM audit_queries GROUP BY 1 ORDER BY 1").fetchall()


def _expected(tenant: Tenant, types=("CopilotInteraction",)) -> int:
    start, end = tenant.activity.window
    return tenant.activity.count(start, end, types)


def test_a_180_day_backfill_stays_within_the_budget_and_splits_only_where_full(make_server, tmp_path) -> None:
    # 180 days ending at midnight reach a few hours past the 180 days before now: the log keeps 181 here.
    tenant = _tenant(days=180, users=60, anchor=None, audit_record_limit=1000)
    server = make_server(tenant)
    db = tmp_path / "a.duckdb"
    planned = _collect(server, db, "--plan", "--audit-retention-days", "181")
    assert planned.code == 0 and "new queries: 6 " in planned.stdout and "50 of 50 query submissions" \
        in planned.stdout and not service_for(tenant).created
    result = _collect(server, db, "--audit-retention-days", "181")
    assert result.code == 0, result.stderr
    created = service_for(tenant).created
    assert _records(db) == _expected(tenant)
    assert len(created) == len(set(created)) <= 50  # no window queried twice, within the budget

    def queries_for(piece: Slice) -> list[tuple[datetime, datetime]]:
        """One query per slice; halves only where the slice holds more than the limit."""
        if tenant.activity.count(piece.start, piece.end, ("CopilotInteraction",)) <= 1000:
            return [(piece.start, piece.end)]
        return [(piece.start, piece.end), *(w for half in piece.halves() for w in queries_for(half))]

    expected = [w for piece in cut(Slice(*tenant.activity.window), timedelta(days=30)) for w in queries_for(piece)]
    split = [w for w in expected if tenant.activity.count(*w, ("CopilotInteraction",)) > 1000]
    assert sorted(created) == sorted(expected) and 0 < len(split) < len(expected) - len(split)
    assert _statuses(db) == [("landed", len(expected) - len(split)), ("split", len(split))]
    after = _collect(server, db, "--plan", "--audit-retention-days", "181")
    assert "new queries: 0 " in after.stdout and f"{50 - len(expected)} of 50 query submissions left" in after.stdout


def test_queries_that_outlive_a_run_are_finished_by_the_next_without_new_queries(make_server, tmp_path) -> None:
    tenant = _tenant(audit_query_seconds=20)
    server = make_server(tenant)
    db = tmp_path / "a.duckdb"
    first = _collect(server, db, "--time-budget", "0.2")  # 12 s: the queries need 20
    assert first.code == 0, first.stderr
    assert "Warning: audit: 3 saved queries still to finish" in first.stderr
    assert len(service_for(tenant).created) == 3 and _records(db) == 0
    assert _statuses(db) == [("running", 3)]
    planned = _collect(server, db, "--plan")
    assert "saved queries: 3 to resume" in planned.stdout and "new queries: 0 " in planned.stdout
    time.sleep(max(0.0, 20 - (time.monotonic() - min(q.created for q in service_for(tenant).queries.values()))))
    second = _collect(server, db)
    assert second.code == 0, second.stderr
    assert len(service_for(tenant).created) == 3  # the second run created none
    assert "queries=0 queries_resumed=3" in second.stderr
    assert _records(db) == _expected(tenant) and _statuses(db) == [("landed", 3)]


def test_a_query_the_service_forgot_is_replaced_once(make_server, tmp_path) -> None:
    tenant = _tenant(days=20, audit_query_seconds=600)
    server = make_server(tenant)
    db = tmp_path / "a.duckdb"
    assert _collect(server, db, "--time-budget", "0.2").code == 0
    service = service_for(tenant)
    for query_id in list(service.queries):
        service.forget(query_id)  # 404 from now on
    tenant.config.__dict__["api"] = replace(tenant.config.api, audit_query_seconds=0)
    second = _collect(server, db)
    assert second.code == 0, second.stderr
    assert len(service.created) == 2 and service.created[0] == service.created[1]
    assert _statuses(db) == [("gone", 1), ("landed", 1)] and _records(db) == _expected(tenant)


def test_sigkill_while_paging_then_a_rerun_gives_the_same_database(make_server, tmp_path) -> None:
    tenant = _tenant(days=20, audit_page_size=40)
    server = make_server(tenant)

    def slow_pages(request: Request) -> Response | None:
        if request.path.endswith("/records"):
            time.sleep(0.1)
        return None

    server.graph.hooks.append(slow_pages)
    db = tmp_path / "a.duckdb"
    start, end = tenant.activity.window
    args = [sys.executable, "-m", "m365audit", "collect", "--db", str(db), "--graph-url", server.url, "--auth",
            "token", "--only", "audit", "--since", start.isoformat(), "--until", end.isoformat()]
    proc = subprocess.Popen(args, env={**os.environ, **collect_env(server)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    records_path = next(iter(service_for(tenant).queries), None)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        records_path = next(iter(service_for(tenant).queries), None)
        if records_path and server.graph.requests[f"/security/auditLog/queries/{records_path}/records"] >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _records(db) == 0 and _statuses(db) == [("succeeded", 1)]
    server.graph.hooks.clear()
    rerun = _collect(server, db)
    assert rerun.code == 0, rerun.stderr
    assert len(service_for(tenant).created) == 1  # the rerun paged the saved query, created none
    reference = make_server(_tenant(days=20, audit_page_size=40))
    clean = tmp_path / "clean.duckdb"
    assert _collect(reference, clean).code == 0
    assert_same_database(db, clean, tables=("audit_records",))


def test_the_tenant_quota_is_reported_as_such_and_the_rest_is_collected(make_server, tmp_path) -> None:
    tenant = _tenant(audit_daily_submissions=2)
    server = make_server(tenant)
    db = tmp_path / "a.duckdb"
    result = _collect(server, db)
    assert result.code == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1 and "hours of the window not queried yet" in warning[0]
    assert "tenant audit query quota reached" in warning[0] and "the budget frees at" in warning[0]
    assert len(service_for(tenant).created) == 2 and service_for(tenant).refused == 1
    start, end = tenant.activity.window
    assert 0 < _records(db) < _expected(tenant)


def test_nothing_collected_because_of_the_quota_exits_3(make_server, tmp_path) -> None:
    server = make_server(_tenant(days=10, audit_daily_submissions=0))
    result = _collect(server, tmp_path / "a.duckdb")
    assert_clean_failure(result, 3, "no audit records could be collected: tenant audit query quota reached")


def test_record_types_are_chosen_and_validated_on_the_command_line(make_server, tmp_path) -> None:
    tenant = _tenant(days=10)
    server = make_server(tenant)
    db = tmp_path / "a.duckdb"
    result = _collect(server, db, "--record-types", "copilotinteraction,AIAppInteraction,CopilotActions")
    assert result.code == 0, result.stderr
    with open_db(db, read_only=True) as con:
        found = dict(con.execute("SELECT record_type, count(*) FROM audit_records GROUP BY 1").fetchall())
        saved = con.execute("SELECT DISTINCT record_types FROM audit_queries").fetchall()
    assert found == {t: tenant.activity.count(*tenant.activity.window, (t,)) for t in BOTH}
    assert saved == [("AIAppInteraction,CopilotActions,CopilotInteraction",)]
    bad = _collect(server, db, "--record-types", "CopilotInteraction,CopilotPrompts")
    assert_clean_failure(bad, 2, "Record type 'CopilotPrompts' is not an auditLogRecordType")


def test_run_config_budget_and_doctor_plan(make_server, tmp_path) -> None:
    tenant = _tenant()
    server = make_server(tenant)
    db = tmp_path / "a.duckdb"
    config = tmp_path / "m365audit.toml"
    config.write_text(f'[tenant]\ngraph_url = "{server.url}"\nauth = "token"\n[database]\npath = "{db}"\n'
                      '[collect]\nsources = ["licences", "audit"]\ntime_budget_minutes = 5\n'
                      '[checks]\nenabled = false\n[report]\nformats = ["csv"]\n'
                      '[audit]\ndaily_queries = 2\nfirst_run_days = 90\n'
                      'record_types = ["CopilotInteraction", "AIAppInteraction"]\n')
    doctor = run_cli("doctor", "--config", str(config), env=ENV)
    assert "new queries: 3 " in doctor.stdout and "2 of 2 query submissions left" in doctor.stdout
    assert "AIAppInteraction records exist only where the tenant has enabled Microsoft Purview's " \
           "pay-as-you-go auditing" in doctor.stdout
    run = run_cli("run", "--config", str(config), env=ENV)
    assert run.code == 0, run.stderr
    assert len(service_for(tenant).created) == 2  # the configured budget, not the tenant's 200
    doctor = run_cli("doctor", "--config", str(config), env=ENV)
    assert "0 of 2 query submissions left in the rolling 24 hours (the next frees at" in doctor.stdout
    assert "WARNING  audit queries" in doctor.stdout and "1 window(s) already landed" in doctor.stdout


def test_sigterm_leaves_the_running_queries_saved_and_the_rerun_finishes_them(make_server, tmp_path) -> None:
    tenant = _tenant(audit_query_seconds=600)
    server = make_server(tenant)
    db = tmp_path / "a.duckdb"
    start, end = tenant.activity.window
    args = [sys.executable, "-m", "m365audit", "collect", "--db", str(db), "--graph-url", server.url, "--auth",
            "token", "--only", "audit", "--since", start.isoformat(), "--until", end.isoformat()]
    proc = subprocess.Popen(args, env={**os.environ, **collect_env(server)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(q.polls for q in service_for(tenant).queries.values()) < 6:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 3, stderr
    assert "Traceback" not in stderr and "Collection stopped by SIGTERM" in stderr
    assert sum(n for status, n in _statuses(db) if status in ("notStarted", "running")) == 3
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("failed",)]
    tenant.config.__dict__["api"] = replace(tenant.config.api, audit_query_seconds=0)
    rerun = _collect(server, db)
    assert rerun.code == 0, rerun.stderr
    assert len(service_for(tenant).created) == 3 and _records(db) == _expected(tenant)
