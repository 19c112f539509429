"""The audit source of ``m365audit collect``: window, fetch, load, watermark.

The watermark (collection_state, source "audit", one key per record type) is
the end of the last window collected without a gap. It never moves back, and
never past a slice that failed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from m365audit.collect.audit_query import SOURCE, AuditCollector, AuditFetch, Slice
from m365audit.collect.audit_settings import AuditSettings
from m365audit.errors import UsageError
from m365audit.store.audit import land_graph_spools
from m365audit.store.db import open_db
from m365audit.store.runs import get_state, set_state

if TYPE_CHECKING:
    import duckdb

    from m365audit.collect.graph import GraphClient
    from m365audit.collect.runner import CollectOptions
    from m365audit.collect.spool import SpoolFolder


def watermark_key(record_type: str) -> str:
    return f"watermark:{record_type}"


def read_watermark(db: Any, record_types: tuple[str, ...]) -> datetime | None:
    """The earliest watermark of the record types (None when any was never collected)."""
    with open_db(db) as con:
        marks = [get_state(con, SOURCE, watermark_key(t)) for t in record_types]
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
    now = datetime.now(UTC)
    mark = read_watermark(options.db, settings.record_types)
    window = collection_window(settings, mark, options.since, options.until, now)
    fetched = await AuditCollector(client, settings, folder.path, progress).fetch(window)

    def load(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
        counts = land_graph_spools(con, [path for _, path in fetched.spools], run_id=run_id)
        new_mark = advance_watermark(con, settings, fetched, mark, run_id)
        result: dict[str, Any] = {
            **counts.as_dict(), "queries": fetched.queries, "slices_split": fetched.splits,
            "api_version": fetched.version, "window_start": window.start.isoformat(),
            "window_end": window.end.isoformat(), "watermark": new_mark.isoformat() if new_mark else None,
        }
        if fetched.failures:
            result["failed_slices"] = len(fetched.failures)
            result["errors"] = [f"audit records {piece.label()}: {why}" for piece, why in fetched.failures]
        return result

    return load


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
