"""Storing check runs and their findings, and comparing a run with the previous one.

Checks read the database; storing their findings is one short write
transaction at the end, so a failure stores nothing. A finding is "new" when
the previous run did not report it, "open" when it did; a finding of the
previous run is "fixed" when its check ran again and no longer reports it (a
check that could not run says nothing about its old findings). "The previous
run" is the latest one under the same policy name, so trying another policy
file does not make the nightly run's findings look new or fixed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import duckdb
import orjson
import pyarrow as pa

from m365audit import __version__
from m365audit.checks.model import CheckRun, Finding
from m365audit.store.db import rollback
from m365audit.store.runs import new_run_id

_COLUMNS = ("run_id", "check_id", "severity", "status", "subject", "detail", "excepted",
            "exception_reason", "exception_until", "change")


def save_check_run(con: duckdb.DuckDBPyConnection, run: CheckRun,
                   started_at: datetime | None = None) -> CheckRun:
    """Store ``run`` and return it with run_id, each finding's change and the fixed findings."""
    started_at = started_at or datetime.now(UTC)
    con.execute("BEGIN TRANSACTION")
    try:
        previous = previous_findings(con, run.policy.name)
        compared = compare_with_previous(run, previous)
        run_id = new_run_id(started_at)
        _insert_run(con, compared, run_id, started_at)
        _insert_findings(con, compared, run_id)
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return replace(compared, run_id=run_id)


def previous_findings(con: duckdb.DuckDBPyConnection, policy_name: str) -> dict[tuple[str, str], str]:
    rows = con.execute("""
        SELECT check_id, subject FROM check_findings
        WHERE status = 'fail' AND run_id = (SELECT run_id FROM check_runs WHERE policy_name = ?
                                            ORDER BY seq DESC LIMIT 1)""", [policy_name]).fetchall()
    return {(check_id, subject.casefold()): subject for check_id, subject in rows}


def compare_with_previous(run: CheckRun, previous: dict[tuple[str, str], str]) -> CheckRun:
    results = tuple(replace(result, records=tuple(_mark(r, previous) for r in result.records))
                    for result in run.results)
    current = {f.key for result in results for f in result.findings}
    ran = {result.check.id for result in results if result.status != "not_checked"}
    fixed = tuple(sorted((check_id, subject) for (check_id, key), subject in previous.items()
                         if check_id in ran and (check_id, key) not in current))
    return replace(run, results=results, fixed=fixed)


def _mark(record: Finding, previous: dict[tuple[str, str], str]) -> Finding:
    if record.status != "fail":
        return record
    return replace(record, change="open" if record.key in previous else "new")


def _insert_run(con: duckdb.DuckDBPyConnection, run: CheckRun, run_id: str, started_at: datetime) -> None:
    counts = {status: sum(1 for r in run.results if r.status == status) for status in ("pass", "fail", "not_checked")}
    counts["findings"] = len(run.findings)
    con.execute("""
        INSERT INTO check_runs (run_id, seq, started_at, checked_at, policy_name, policy_file, snapshot_at,
                                tool_version, counts, policy_sha256)
        SELECT ?, coalesce((SELECT max(seq) FROM check_runs), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?""",
                [run_id, started_at, run.checked_at, run.policy.name, run.policy.source, run.snapshot_at,
                 __version__, orjson.dumps(counts).decode(), run.policy.sha256])


def _insert_findings(con: duckdb.DuckDBPyConnection, run: CheckRun, run_id: str) -> None:
    records = run.records
    columns = {
        "run_id": [run_id] * len(records),
        "check_id": [r.check_id for r in records],
        "severity": [r.severity for r in records],
        "status": [r.status for r in records],
        "subject": [r.subject for r in records],
        "detail": [r.detail for r in records],
        "excepted": [r.excepted for r in records],
        "exception_reason": [r.exception_reason for r in records],
        "exception_until": [r.exception_until for r in records],
        "change": [r.change for r in records],
    }
    types = {"excepted": pa.bool_(), "exception_until": pa.date32()}
    staged = pa.table({name: pa.array(columns[name], type=types.get(name, pa.string())) for name in _COLUMNS})
    con.register("staged_findings", staged)
    try:
        con.execute("INSERT INTO check_findings BY NAME SELECT * FROM staged_findings")
    finally:
        con.unregister("staged_findings")
