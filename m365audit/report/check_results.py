"""The check results a report shows: those of the policy the report names, said once.

The report names one policy (``--policy``, else the built-in defaults). When the
latest stored `m365audit check` run judged exactly that policy file (same SHA-256),
its findings are shown; otherwise the checks run afresh on the report's read-only
connection (nothing is stored) and are compared with the stored run of the same
policy name, so "new" and "fixed" keep their meaning. Either way the working tables
below hold the results and name the policy file and its hash:

    report_check_run   one row: where the results come from and which policy they judged
    report_findings    every record of that run (failing subjects, passes, not checked)
    report_fixed       findings of the previous run under the same policy that are gone
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from m365audit.policy import Policy
from m365audit.report.queries import one_row


@dataclass(frozen=True)
class ResultsSource:
    stored: bool  # True: the latest stored check run; False: checked now for this report
    checked_at: datetime
    policy_name: str
    policy_file: str | None
    policy_sha256: str | None

    @property
    def policy_text(self) -> str:
        if not self.policy_file:
            return f"{self.policy_name} (built-in defaults, no policy file)"
        return f"{self.policy_name} ({self.policy_file}, SHA-256 {(self.policy_sha256 or 'not recorded')[:12]})"

    @property
    def sentence(self) -> str:
        how = ("from the latest stored `m365audit check` run" if self.stored
               else "checked when this report was made (the stored check run judged another policy file)")
        return f"Results of the policy {self.policy_text}, {how}, as of {self.checked_at:%Y-%m-%d %H:%M} UTC."


def _latest_stored(con: duckdb.DuckDBPyConnection) -> tuple[str, datetime, str, str | None, str | None] | None:
    row = one_row(con, "SELECT run_id, checked_at, policy_name, policy_file, policy_sha256 FROM check_runs "
                       "ORDER BY seq DESC LIMIT 1")
    return (str(row[0]), row[1], str(row[2]), row[3], row[4]) if row else None


def same_policy(policy: Policy, stored_file: str | None, stored_sha256: str | None) -> bool:
    """The stored run judged this policy: the same file text, or both the built-in defaults."""
    if policy.sha256 is None:
        return stored_file is None or policy.source is None
    return stored_sha256 == policy.sha256


def prepare_check_results(con: duckdb.DuckDBPyConnection, policy: Policy) -> ResultsSource | None:
    """Fill the working tables; None when nothing was stored and no policy file was given."""
    latest = _latest_stored(con)
    con.execute("CREATE OR REPLACE TEMP TABLE report_findings (check_id VARCHAR, severity VARCHAR, status VARCHAR, "
                "subject VARCHAR, detail VARCHAR, excepted BOOLEAN, exception_reason VARCHAR, "
                "exception_until DATE, change VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE report_fixed (check_id VARCHAR, subject VARCHAR)")
    if latest is not None and (policy.source is None or same_policy(policy, latest[3], latest[4])):
        run_id, checked_at, name, file, sha = latest
        con.execute("INSERT INTO report_findings BY NAME SELECT check_id, severity, status, subject, detail, "
                    "excepted, exception_reason, exception_until, change FROM check_findings WHERE run_id = ?",
                    [run_id])
        con.execute("""
            INSERT INTO report_fixed
            WITH before AS (
                SELECT run_id FROM check_runs WHERE policy_name = ? AND seq < (SELECT seq FROM check_runs
                                                                             WHERE run_id = ?)
                ORDER BY seq DESC LIMIT 1)
            SELECT b.check_id, b.subject FROM check_findings b
            WHERE b.run_id = (SELECT run_id FROM before) AND b.status = 'fail'
              AND b.check_id IN (SELECT check_id FROM report_findings WHERE status <> 'not_checked')
              AND NOT EXISTS (SELECT 1 FROM report_findings n WHERE n.status = 'fail' AND n.check_id = b.check_id
                              AND lower(n.subject) = lower(b.subject))""", [name, run_id])
        source = ResultsSource(True, checked_at, name, file, sha)
    elif policy.source is not None:
        source = _check_now(con, policy)
    else:
        return None
    _record_source(con, source)
    return source


def _check_now(con: duckdb.DuckDBPyConnection, policy: Policy) -> ResultsSource:
    from m365audit.checks.history import compare_with_previous, previous_findings
    from m365audit.checks.runner import run_checks

    checked_at = datetime.now(UTC)
    run = compare_with_previous(run_checks(con, policy, checked_at), previous_findings(con, policy.name))
    records = run.records
    staged = pa.table({
        "check_id": pa.array([r.check_id for r in records], pa.string()),
        "severity": pa.array([r.severity for r in records], pa.string()),
        "status": pa.array([r.status for r in records], pa.string()),
        "subject": pa.array([r.subject for r in records], pa.string()),
        "detail": pa.array([r.detail for r in records], pa.string()),
        "excepted": pa.array([r.excepted for r in records], pa.bool_()),
        "exception_reason": pa.array([r.exception_reason for r in records], pa.string()),
        "exception_until": pa.array([r.exception_until for r in records], pa.date32()),
        "change": pa.array([r.change for r in records], pa.string()),
    })
    con.register("staged_report_findings", staged)
    try:
        con.execute("INSERT INTO report_findings BY NAME SELECT * FROM staged_report_findings")
    finally:
        con.unregister("staged_report_findings")
    if run.fixed:
        con.executemany("INSERT INTO report_fixed VALUES (?, ?)", [list(f) for f in run.fixed])
    return ResultsSource(False, checked_at, policy.name, policy.source, policy.sha256)


def _record_source(con: duckdb.DuckDBPyConnection, source: ResultsSource) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE report_check_run AS SELECT ?::BOOLEAN AS stored, "
                "?::TIMESTAMPTZ AS checked_at, ?::VARCHAR AS policy_name, ?::VARCHAR AS policy_file, "
                "?::VARCHAR AS policy_sha256",
                [source.stored, source.checked_at, source.policy_name, source.policy_file, source.policy_sha256])
