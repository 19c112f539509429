"""`m365audit simulate --audit-limits`: the audit query service's limits, as an operator rehearses them.

Each test starts `m365audit simulate` in its own process and collects it with `m365audit collect`,
both through the command line, so the option is shown to reach the tenant the collector talks to.
"""

from __future__ import annotations

import time

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
