"""The audit source of ``m365audit collect``: window, fetch, load, watermark.

The watermark (collection_state, source "audit", one key per record type) is
the end of the last window collected without a gap. It never moves back, and
never past a slice that failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from m365audit.collect.audit_query import SOURCE, AuditCollector, AuditFetch, Slice
from m365audit.collect.audit_settings import VERSIONS, AuditSettings
from m365audit.collect.scope import scope_audit_filters
from m365audit.errors import UsageError
from m365audit.scope import Scope, parse_scope
from m365audit.store import pseudonym
from m365audit.store.audit import land_graph_spools
from m365audit.store.db import open_db
from m365audit.store.runs import get_state, set_state
from m365audit.store.scope import record_filter_sql, scope_upns

if TYPE_CHECKING:
    import duckdb

    from m365audit.collect.graph import GraphClient
    from m365audit.collect.runner import CollectOptions
    from m365audit.collect.spool import SpoolFolder


VERSION_KEY = "api_version"  # collection_state (audit): the API version that last answered


def watermark_key(record_type: str) -> str:
    return f"watermark:{record_type}"


def read_watermark(db: Any, record_types: tuple[str, ...]) -> datetime | None:
    """The earliest watermark of the record types (None when any was never collected)."""
    with open_db(db) as con:
        marks = [get_state(con, SOURCE, watermark_key(t)) for t in record_types]
    return _earliest(marks)


def _earliest(marks: list[str | None]) -> datetime | None:
    if any(m is None for m in marks):
        return None
    return min(datetime.fromisoformat(m) for m in marks if m is not None)


def collection_window(settings: AuditSettings, mark: datetime | None, since: datetime | None,
                      until: datetime | None, now: datetime) -> Slice:
    end = until or now
    if since is not None:
        start = since
    elif mark is not None:
        start = mark - settings.overlap
    else:
        start = end - settings.first_run
    if start >= end:
        raise UsageError(f"The audit window is empty: --since {start.isoformat()} is not before "
                         f"--until {end.isoformat()}.")
    return Slice(start, end)


async def step(client: GraphClient, options: CollectOptions, folder: SpoolFolder,
               progress: Any) -> Callable[[duckdb.DuckDBPyConnection, str], dict[str, Any]]:
    settings = AuditSettings.from_extra(options.extra)
    scope = parse_scope(options.scope)
    now = datetime.now(UTC)
    stored = read_stored(options.db, settings, scope)
    window = collection_window(settings, stored.mark, options.since, options.until, now)
    filters = scope_audit_filters(scope, stored.upns, settings.upn_filter_limit)
    # The version that answered last time is tried first (the API moved back to beta in 2025,
    # MC1052169), unless the configuration names one.
    first = settings.version if "audit_version" in options.extra else stored.version or settings.version
    settings = replace(settings, version=first, query_filters={**settings.query_filters, **filters})
    fetched = await AuditCollector(client, settings, folder.path, progress).fetch(window)
    keep = record_filter_sql(scope, pseudonymised=stored.pseudonymised)

    def load(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
        counts = land_graph_spools(con, [path for _, path in fetched.spools], run_id=run_id, keep_sql=keep)
        new_mark = advance_watermark(con, settings, fetched, stored.mark, run_id)
        if fetched.queries:
            set_state(con, SOURCE, VERSION_KEY, fetched.version, run_id)
        result: dict[str, Any] = {
            **counts.as_dict(), "queries": fetched.queries, "slices_split": fetched.splits,
            "api_version": fetched.version, "window_start": window.start.isoformat(),
            "window_end": window.end.isoformat(), "watermark": new_mark.isoformat() if new_mark else None,
            "scope_filter": scope_filter_name(filters, keep),
        }
        if fetched.failures:
            result["failed_slices"] = len(fetched.failures)
            result["errors"] = [f"audit records {piece.label()}: {why}" for piece, why in fetched.failures]
        return result

    return load


@dataclass(frozen=True)
class StoredAuditState:
    mark: datetime | None  # the earliest watermark of the record types
    version: str | None  # the API version that answered last time
    upns: list[str] | None  # the scope's users, when few enough to name in the query
    pseudonymised: bool


def read_stored(db: Any, settings: AuditSettings, scope: Scope | None) -> StoredAuditState:
    with open_db(db) as con:
        marks = [get_state(con, SOURCE, watermark_key(t)) for t in settings.record_types]
        version = get_state(con, SOURCE, VERSION_KEY)
        hidden = pseudonym.is_pseudonymised(con)
        upns = (scope_upns(con, settings.upn_filter_limit)
                if scope is not None and scope.kind != "au" and not hidden else None)
    return StoredAuditState(_earliest(marks), version if version in VERSIONS else None, upns, hidden)


def scope_filter_name(filters: dict[str, Any], keep: str | None) -> str | None:
    """How the scope was applied: the query filter Graph applied, and/or dropped in SQL."""
    named: list[str] = [n for n in ("administrativeUnitIdFilters", "userPrincipalNameFilters") if n in filters]
    if keep is not None:
        named.append("dropped on loading")
    return " + ".join(named) or None


def advance_watermark(con: duckdb.DuckDBPyConnection, settings: AuditSettings, fetched: AuditFetch,
                      old: datetime | None, run_id: str) -> datetime | None:
    """Move each record type's watermark to the end of what was collected without a gap."""
    window = fetched.window
    reached = min((piece.start for piece, _ in fetched.failures), default=window.end)
    if old is not None and window.start > old:
        return old  # a window that starts after the watermark leaves a gap before it
    new = reached if old is None else max(old, reached)
    if old is None and reached <= window.start:
        return None  # nothing collected without a gap
    for record_type in settings.record_types:
        current = get_state(con, SOURCE, watermark_key(record_type))
        if current is None or datetime.fromisoformat(current) < new:
            set_state(con, SOURCE, watermark_key(record_type), new.isoformat(), run_id)
    return new
