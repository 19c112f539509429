"""Running the catalogue over the database: needs, SQL, exceptions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from m365audit.checks.catalogue import Check, load_catalogue
from m365audit.checks.model import CheckResult, CheckRun, Finding
from m365audit.checks.needs import unmet
from m365audit.checks.params import bind
from m365audit.checks.subjects import match_pseudonymised
from m365audit.errors import UsageError
from m365audit.policy import Policy
from m365audit.store.pseudonym import PseudonymKey
from m365audit.store.scope import current_scope


def run_checks(con: duckdb.DuckDBPyConnection, policy: Policy, checked_at: datetime,
               only: tuple[str, ...] | None = None, key: PseudonymKey | None = None) -> CheckRun:
    """Run every check (or those in ``only``) as of ``checked_at``; reads the database only.

    ``key`` is the storage pseudonym key (default: from the environment, needed only when the
    database stores pseudonyms and an exception names a person).
    """
    checks = [c for c in load_catalogue() if only is None or c.id in only]
    matched = match_pseudonymised(con, policy, key)
    results = tuple(run_check(con, check, matched, checked_at.date()) for check in checks)
    row = con.execute("SELECT max(snapshot_at) FROM users").fetchone()
    scope = current_scope(con)
    return CheckRun(checked_at, matched, results, snapshot_at=row[0] if row else None,
                    scope=scope.description if scope is not None else None)


def run_check(con: duckdb.DuckDBPyConnection, check: Check, policy: Policy, check_date: date) -> CheckResult:
    reason = unmet(con, check.needs, policy)
    if reason:
        return CheckResult(check, (Finding(check.id, check.severity, "not_checked", None, reason),))
    rows = _offending_rows(con, check, policy, check_date)
    if not rows:
        return CheckResult(check, (Finding(check.id, check.severity, "pass", None, None),))
    findings = tuple(_apply_exceptions(Finding(check.id, check.severity, "fail", subject, detail),
                                       policy, check_date) for subject, detail in rows)
    return CheckResult(check, findings)


def _offending_rows(con: duckdb.DuckDBPyConnection, check: Check, policy: Policy,
                    check_date: date) -> list[tuple[str, str]]:
    cursor = con.execute(check.sql, bind(check.params, policy, check_date))
    columns = [d[0] for d in cursor.description or []]
    if columns != ["subject", "detail"]:
        raise RuntimeError(f"check {check.id} returned columns {columns}, not [subject, detail]")
    rows = [(str(s), str(d) if d is not None else "") for s, d in cursor.fetchall()]
    subjects = [s.casefold() for s, _ in rows]
    if len(set(subjects)) != len(subjects):
        raise RuntimeError(f"check {check.id} returned a subject more than once")
    return rows


def _apply_exceptions(finding: Finding, policy: Policy, check_date: date) -> Finding:
    matching = [e for e in policy.exceptions
                if e.check == finding.check_id and e.subject.casefold() == (finding.subject or "").casefold()]
    live = [e for e in matching if e.applies(check_date)]
    if live:
        return replace(finding, excepted=True, exception_reason=live[0].reason, exception_until=live[0].until)
    if matching:
        ended = max(e.until for e in matching if e.until is not None)
        return replace(finding, detail=f"{finding.detail}; the policy's exception ended on {ended:%Y-%m-%d}")
    return finding


DATE_MARGIN = timedelta(days=366)


def check_date_in_range(con: duckdb.DuckDBPyConnection, checked_at: datetime) -> None:
    """Refuse a check date far outside the data: its findings would become the stored baseline.

    Allowed: from a year before the first licence snapshot to a year after the later of the
    last snapshot and today (a date ahead shows which exceptions and reviews will lapse).
    """
    row = con.execute("SELECT min(taken_at), max(taken_at) FROM snapshots").fetchone()
    now = datetime.now(UTC)
    first, last = (row[0], row[1]) if row and row[0] is not None else (now, now)
    low = min(first, now) - DATE_MARGIN
    high = max(last, now) + DATE_MARGIN
    if not low <= checked_at <= high:
        raise UsageError(f"--check-date {checked_at.date().isoformat()} is far outside the data (licence "
                         f"snapshots from {first:%Y-%m-%d} to {last:%Y-%m-%d}); give a date between "
                         f"{low:%Y-%m-%d} and {high:%Y-%m-%d}.")


def check_database(db: Path, policy: Policy, checked_at: datetime, key: PseudonymKey | None = None) -> CheckRun:
    """`m365audit check`: run the checks over the file, store the findings, compare with the last run.

    The checks run on a read-only connection; the findings are stored in one
    short write transaction afterwards. A file from an older version is
    migrated first (only when it exists: a missing file is an error).
    """
    from m365audit.checks.history import save_check_run
    from m365audit.store.db import open_db

    if db.exists():
        with open_db(db):
            pass  # applies pending migrations, such as the findings tables
    with open_db(db, read_only=True) as con:
        check_date_in_range(con, checked_at)
        run = run_checks(con, policy, checked_at, key=key)
    with open_db(db) as con:
        return save_check_run(con, run)
