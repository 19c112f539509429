"""`m365audit simulate --audit-limits`: the audit query service's limits, as an operator rehearses them.

Each test starts `m365audit simulate` in its own process and collects it with `m365audit collect`,
both through the command line, so the option is shown to reach the tenant the collector talks to.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator.behaviour import ApiBehaviour, parse_audit_limits
from m365audit.store.db import open_db
from tests.conftest import assert_clean_failure, run_cli, simulate_served

ENV = {"M365AUDIT_TOKEN": "t0ken", "M365AUDIT_AUDIT_POLL_SECONDS": "0.05", "M365AUDIT_MAX_ATTEMPTS": "2",
       "M365AUDIT_RETRY_BASE_DELAY": "0.01"}
USERS, DAYS = 150, 12


def _collect(url: str, db, *extra: str):
    tenant = Tenant(TenantConfig(users=USERS, days=DAYS))
    start, end = tenant.activity.window
    result = run_cli("collect", "--db", str(db), "--graph-url", url, "--auth", "token", "--only", "audit",
                     "--since", start.isoformat(), "--until", end.isoformat(), *extra, env=ENV)
    return result, tenant.activity.count(start, end, ("CopilotInteraction",))


def _stored(db) -> tuple[int, int]:
    """Records stored, and audit queries saved."""
    with open_db(db, read_only=True) as con:
        records = con.execute("SELECT count(*) FROM audit_records").fetchone()
        queries = con.execute("SELECT count(*) FROM audit_queries").fetchone()
    assert records is not None and queries is not None
    return int(records[0]), int(queries[0])


def test_a_spent_daily_quota_is_reported_as_the_tenant_quota(tmp_path) -> None:
    with simulate_served("--users", str(USERS), "--days", str(DAYS), "--audit-limits", "daily=0") as url:
        result, _ = _collect(url, tmp_path / "a.duckdb")
    assert_clean_failure(result, 3, "no audit records could be collected: tenant audit query quota reached")


def test_refused_creations_are_waited_out_then_everything_is_collected(tmp_path) -> None:
    db = tmp_path / "a.duckdb"
    started = time.monotonic()
    with simulate_served("--users", str(USERS), "--days", str(DAYS),
                         "--audit-limits", "refusals=2,retry_after=1") as url:
        result, expected = _collect(url, db)
    assert result.code == 0, result.stderr
    assert time.monotonic() - started >= 2  # two waits of Retry-After: 1
    assert "quota" not in result.stderr and "Warning" not in result.stderr
    assert expected > 0 and _stored(db) == (expected, 1)


def test_a_records_limit_splits_the_window_and_loses_nothing(tmp_path) -> None:
    db = tmp_path / "a.duckdb"
    tenant = Tenant(TenantConfig(users=USERS, days=DAYS))
    expected = tenant.activity.count(*tenant.activity.window, ("CopilotInteraction",))
    limit = expected // 3  # the whole window is over the limit; each query is split until it fits
    with simulate_served("--users", str(USERS), "--days", str(DAYS), "--audit-limits", f"records={limit}") as url:
        result, counted = _collect(url, db)
    assert result.code == 0, result.stderr
    records, queries = _stored(db)
    assert counted == expected and records == expected and queries > 3


def test_a_spent_budget_leaves_the_rest_of_the_window_for_later(tmp_path) -> None:
    db = tmp_path / "a.duckdb"
    tenant = Tenant(TenantConfig(users=USERS, days=DAYS))
    limit = tenant.activity.count(*tenant.activity.window, ("CopilotInteraction",)) * 6 // 10
    # Two submissions: the whole window (over the records limit, so split), then one half; the other half waits.
    with simulate_served("--users", str(USERS), "--days", str(DAYS), "--audit-limits", f"daily=2,records={limit}") as url:
        result, expected = _collect(url, db)
    assert result.code == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1 and "tenant audit query quota reached" in warning[0], result.stderr
    records, _ = _stored(db)
    assert 0 < records < expected


@pytest.mark.parametrize(("spec", "message"), [
    ("daily=-1", "--audit-limits: daily must be between 0 and 100,000."),
    ("records=0", "--audit-limits: records must be between 1 and 100,000,000."),
    ("daily=2.5", "--audit-limits: daily needs a whole number, not '2.5'."),
    ("seconds=soon", "--audit-limits: seconds needs a number of seconds, not 'soon'."),
    ("hourly=3", "--audit-limits: 'hourly' is not an audit limit; use daily, running, records, seconds, refusals, "
                 "retry_after."),
    ("daily", "--audit-limits: 'daily' is not NAME=VALUE."),
])
def test_a_bad_audit_limits_spec_is_refused_in_one_sentence(spec: str, message: str) -> None:
    result = run_cli("simulate", "--port", "0", "--audit-limits", spec)
    assert_clean_failure(result, 2, message)


def test_the_spec_sets_graphs_limits_and_keeps_the_rest() -> None:
    api = parse_audit_limits("daily=20, running=5,records=50000,seconds=1.5,refusals=2,retry_after=0.5")
    assert (api.audit_daily_submissions, api.audit_max_running, api.audit_record_limit, api.audit_query_seconds,
            api.audit_quota_refusals, api.audit_quota_retry_after) == (20, 5, 50_000, 1.5, 2, 0.5)
    assert parse_audit_limits("") == ApiBehaviour()
    assert parse_audit_limits("daily=7").audit_max_running == ApiBehaviour().audit_max_running


def test_queries_slower_than_the_time_budget_stay_saved_and_the_next_run_finishes_them(tmp_path) -> None:
    db = tmp_path / "a.duckdb"
    with simulate_served("--users", str(USERS), "--days", str(DAYS), "--audit-limits", "seconds=8") as url:
        started = time.monotonic()
        first, expected = _collect(url, db, "--time-budget", "0.05")  # 3 s: the query needs 8
        assert first.code == 0, first.stderr
        assert "Warning: audit: 1 saved query still to finish" in first.stderr, first.stderr
        assert _stored(db) == (0, 1)
        time.sleep(max(0.0, 8.5 - (time.monotonic() - started)))
        second, _ = _collect(url, db)
    assert second.code == 0, second.stderr
    assert "queries=0 queries_resumed=1" in second.stderr, second.stderr
    assert _stored(db) == (expected, 1)


def test_a_running_queries_limit_leaves_the_next_window_for_later(tmp_path) -> None:
    db = tmp_path / "a.duckdb"
    tenant = Tenant(TenantConfig(users=USERS, days=DAYS))
    end = tenant.activity.window[1]
    with simulate_served("--users", str(USERS), "--days", str(DAYS), "--audit-limits", "running=1,seconds=3") as url:
        # 40 days: two slices of at most 30; the second is refused while the first runs (Retry-After 60 s,
        # beyond the 12 s time budget), so it is left for the next run.
        result = run_cli("collect", "--db", str(db), "--graph-url", url, "--auth", "token", "--only", "audit",
                         "--since", (end - timedelta(days=40)).isoformat(), "--until", end.isoformat(),
                         "--time-budget", "0.2", env=ENV)
    assert result.code == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1 and "1 audit log queries queued or running, the most allowed" in warning[0], warning
    assert "tenant audit query quota reached" in warning[0]
    assert _stored(db)[1] == 1
