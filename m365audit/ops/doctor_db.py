"""`doctor`'s database checks: present, private, current, not locked, and fed with audit data."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from typing import Any

from m365audit.errors import DatabaseError, UsageError
from m365audit.ops.config import RunConfig
from m365audit.ops.doctor import MISSING, OK, WARNING, Probe

AUDIT_ON = ("Make sure auditing is on (Microsoft Purview portal > Audit > Start recording user and admin "
            "activity) and that the app holds AuditLogsQuery.Read.All; records arrive hours after use.")


def database_probes(config: RunConfig, now: datetime | None) -> list[Probe]:
    now = now or datetime.now(UTC)
    db = config.db
    if not db.exists():
        return [Probe("database", WARNING, f"no database at {db} yet", "The first `m365audit run` creates it."),
                *audit_plan_probes(config, now)]
    probes = [_privacy(db), *_lock(db)]
    from m365audit.store.db import open_db

    try:
        with open_db(db, read_only=True, wait=5) as con:
            probes += [_last_run(con, now), _audit(con, now)]
            if config.pseudonymise_storage:
                probes.append(_key(con, config))
    except DatabaseError as exc:
        probes.append(Probe("database", MISSING, exc.message))
        return probes
    return probes + audit_plan_probes(config, now)


def audit_plan_probes(config: RunConfig, now: datetime) -> list[Probe]:
    """The audit queries the next run would create, those saved, and the tenant budget left."""
    if config.sources is not None and "audit" not in config.sources:
        return []
    from m365audit.collect.audit_preview import preview
    from m365audit.collect.record_types import PAY_AS_YOU_GO

    try:
        seen = preview(config.db, config.audit, config.scope, None, now, now)
    except (DatabaseError, UsageError) as exc:
        return [Probe("audit queries", WARNING, exc.message)]
    lines = [line.strip() for line in seen.lines()[1:4]]
    status = WARNING if len(seen.plan.create) > seen.left else OK
    probes = [Probe("audit queries", status, "; ".join(lines),
                    None if status == OK else "Lower the window or raise [audit] daily_queries if the tenant "
                    "has room; the run collects what the budget allows and says what is left.")]
    if PAY_AS_YOU_GO in seen.settings.record_types:
        probes.append(Probe("AIAppInteraction", WARNING, f"{PAY_AS_YOU_GO} records exist only where the tenant "
                            "has enabled Microsoft Purview's pay-as-you-go auditing of non-Microsoft AI apps",
                            "Without it no such records arrive; that is not a collection fault."))
    return probes


def _privacy(db: Any) -> Probe:
    mode = stat.S_IMODE(os.stat(db).st_mode)
    if mode & 0o077:
        return Probe("database", WARNING, f"{db} can be read by other accounts (mode {mode:o})",
                     f"chmod 600 {db}: it holds personal data.")
    return Probe("database", OK, f"{db} is readable by its owner only")


def _lock(db: Any) -> list[Probe]:
    from m365audit.store.lock import writer_lock

    try:
        with writer_lock(db, "doctor"):
            return []
    except DatabaseError as exc:
        return [Probe("writer", WARNING, exc.message.split(";")[0])]


def _last_run(con: Any, now: datetime) -> Probe:
    row = con.execute("SELECT max(finished_at) FILTER (status = 'succeeded'),"
                      " arg_max(error, started_at) FILTER (status = 'failed'), max(started_at) FROM runs").fetchone()
    last_ok, last_error, last_start = row if row else (None, None, None)
    if last_ok is None:
        return Probe("collection", WARNING, "no collection has succeeded yet" +
                     (f"; the last one failed: {last_error}" if last_error else ""))
    if last_ok < now - timedelta(days=2):
        return Probe("collection", WARNING, f"the last successful collection finished {last_ok:%Y-%m-%d %H:%M} UTC",
                     "Check the scheduler and the run's logs.")
    return Probe("collection", OK, f"last successful collection {last_ok:%Y-%m-%d %H:%M} UTC")


def _audit(con: Any, now: datetime) -> Probe:
    row = con.execute("SELECT max(created_at), count(*) FILTER (created_at >= ?) FROM audit_records",
                      [now - timedelta(days=3)]).fetchone()
    latest, recent = row if row else (None, 0)
    if latest is None:
        return Probe("audit data", WARNING, "no audit records collected yet", AUDIT_ON)
    if not recent:
        return Probe("audit data", WARNING, f"no audit records since {latest:%Y-%m-%d %H:%M} UTC", AUDIT_ON)
    return Probe("audit data", OK, f"{recent:,} audit records in the last 3 days, the latest "
                                   f"{latest:%Y-%m-%d %H:%M} UTC")


def _key(con: Any, config: RunConfig) -> Probe:
    from m365audit.errors import UsageError
    from m365audit.store import pseudonym

    try:
        key = pseudonym.key_from_env(config.pseudonym_key_env)
        recorded = con.execute("SELECT value FROM collection_state WHERE source = 'storage'"
                               " AND key = 'pseudonym_key_fingerprint'").fetchone()
    except UsageError as exc:
        return Probe("pseudonym key", MISSING, exc.message)
    if recorded and recorded[0] != key.fingerprint:
        return Probe("pseudonym key", MISSING, "the key differs from the one the database was created with")
    return Probe("pseudonym key", OK, "the key is set" + (" and matches the database" if recorded else ""))
