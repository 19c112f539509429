"""The audit source of ``m365audit collect``: window, fetch, load, watermark.

The watermark (collection_state, source "audit", one key per record type) is
the end of the last window collected without a gap. It never moves back, and
never past a slice that failed.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from m365audit.collect.audit_adopt import adopt_intents
from m365audit.collect.audit_plan import Budget, Slice, merge, plan
from m365audit.collect.audit_query import SOURCE, QueryApi
from m365audit.collect.audit_run import AuditFetch, AuditRun, Commit
from m365audit.collect.audit_settings import VERSIONS, AuditSettings
from m365audit.collect.scope import scope_audit_filters
from m365audit.errors import UsageError
from m365audit.scope import Scope, parse_scope
from m365audit.store import pseudonym
from m365audit.store.audit_queries import (
    SavedQuery,
    Usage,
    budget_usage,
    filters_key,
    open_intents,
    saved_queries,
    types_key,
)
from m365audit.store.db import open_db
from m365audit.store.runs import get_state, set_state
from m365audit.store.scope import record_filter_sql, scope_upns
from m365audit.wording import plural

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


async def step(client: GraphClient, options: CollectOptions, folder: SpoolFolder, progress: Any,
               commit: Commit[Any], run_id: str) -> Callable[[duckdb.DuckDBPyConnection, str], dict[str, Any]]:
    """Resume the saved queries, create what the window still needs, land as records arrive.

    ``commit`` runs a function of a connection in its own transaction (on the writer
    thread); the returned function records the watermark and the run's figures.
    """
    settings = options.audit
    scope = parse_scope(options.scope)
    now = datetime.now(UTC)
    stored = read_stored(options.db, settings, scope)
    window = collection_window(settings, stored.mark, options.since, options.until, now)
    filters = scope_audit_filters(scope, stored.upns, settings.upn_filter_limit)
    # The version that answered last time is tried first (the API moved back to beta in 2025,
    # MC1052169), unless the configuration names one.
    first = settings.version or stored.version or VERSIONS[0]
    settings = replace(settings, version=first, query_filters={**settings.query_filters, **filters})
    key = (types_key(settings.record_types), filters_key(settings.query_filters))
    adoption = await adopt_intents(QueryApi(client, settings, lambda: None), read_intents(options.db), commit)
    saved, usage = read_saved(options.db, key, now)
    the_plan = plan(window, saved, settings, now)
    keep = record_filter_sql(scope, pseudonymised=stored.pseudonymised)
    runner = AuditRun(client, settings, commit=commit, folder=folder.path, run_id=run_id,
                      budget=Budget.from_usage(settings, usage), keep_sql=keep, key=key, progress=progress)
    with stop_on_signals(runner.stop) as caught:
        fetched = await runner.run(the_plan)
    fetched.adopted = adoption.adopted
    if caught:
        fetched.halted = f"stopped by {caught[0]}"

    def load(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
        new_mark = advance_watermark(con, settings, fetched, stored.mark, run_id)
        if fetched.queries:
            set_state(con, SOURCE, VERSION_KEY, fetched.version, run_id)
        return fetch_counts(fetched, settings, new_mark, scope_filter_name(filters, keep))

    return load


def read_intents(db: Any) -> list[SavedQuery]:
    with open_db(db) as con:
        return open_intents(con)


def read_saved(db: Any, key: tuple[str, str], now: datetime) -> tuple[list[SavedQuery], Usage]:
    with open_db(db) as con:
        return saved_queries(con, *key), budget_usage(con, now)


@contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[list[str]]:
    """SIGINT and SIGTERM (systemd's stop) end the audit step gently: what landed stays committed."""
    loop = asyncio.get_running_loop()
    caught: list[str] = []
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        def handler(sig: signal.Signals = sig) -> None:
            caught.append(sig.name)
            stop.set()
        try:
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signal
            continue
    try:
        yield caught
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def fetch_counts(fetched: AuditFetch, settings: AuditSettings, mark: datetime | None,
                 scope_filter: str | None) -> dict[str, Any]:
    """The audit figures of the run record, with its warnings and errors by window."""
    window = fetched.window
    result: dict[str, Any] = {
        **fetched.counts.as_dict(), "queries": fetched.queries, "queries_resumed": fetched.resumed,
        "queries_adopted": fetched.adopted,
        "queries_replaced": fetched.replaced, "slices_split": fetched.splits, "api_version": fetched.version,
        "window_start": window.start.isoformat(), "window_end": window.end.isoformat(),
        "watermark": mark.isoformat() if mark else None, "scope_filter": scope_filter,
        "queries_pending": len(fetched.pending), "missing_hours": round(_hours(fetched.missing), 1),
        "land_seconds": fetched.land_seconds,
    }
    warnings = []
    if fetched.pending:
        warnings.append(f"audit: {len(fetched.pending)} saved quer{'y' if len(fetched.pending) == 1 else 'ies'} "
                        f"still to finish ({_windows(fetched.pending)}); the next run collects "
                        f"{'it' if len(fetched.pending) == 1 else 'them'} without creating new ones")
    if fetched.missing:
        why = fetched.quota or (f"the budget of {settings.daily_queries} audit query submissions per 24 hours "
                                "is spent" if not fetched.halted else fetched.halted)
        frees = f"; the budget frees at {fetched.frees_at.isoformat(timespec='minutes')}" if fetched.frees_at else ""
        warnings.append(f"audit: {plural(round(_hours(fetched.missing)), 'hour')} of the window not queried yet "
                        f"({_windows(fetched.missing)}): {why}{frees}")
    if warnings:
        result["warnings"] = warnings
    errors = [f"audit records {piece.label()}: {why}" for piece, why in fetched.failures]
    if fetched.missing and not fetched.landed and not fetched.pending and not fetched.counts.received:
        why = fetched.quota or fetched.halted or "the audit query budget is spent"
        errors.append(f"no audit records could be collected: {why}")
    if fetched.halted and fetched.halted.startswith("stopped"):
        result["stopped"] = fetched.halted
    if errors:
        result["failed_slices"] = len(fetched.failures)
        result["errors"] = errors
    return result


def _hours(pieces: list[Slice]) -> float:
    return sum(p.length.total_seconds() for p in pieces) / 3600


def _windows(pieces: list[Slice]) -> str:
    shown = ", ".join(p.label() for p in pieces[:3])
    return shown + (f" and {len(pieces) - 3} more" if len(pieces) > 3 else "")


@dataclass(frozen=True)
class StoredAuditState:
    mark: datetime | None  # the earliest watermark of the record types
    version: str | None  # the API version that answered last time
    upns: list[str] | None  # the scope's users, when few enough to name in the query
    pseudonymised: bool


def read_stored(db: Any, settings: AuditSettings, scope: Scope | None, *, read_only: bool = False) -> StoredAuditState:
    with open_db(db, read_only=read_only) as con:
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
    """Move each record type's watermark to the end of what is landed without a gap from the window's start."""
    window = fetched.window
    reached = window.start
    for piece in merge([Slice(max(p.start, window.start), min(p.end, window.end))
                        for p in fetched.landed if p.overlaps(window)]):
        if piece.start > reached:
            break
        reached = max(reached, piece.end)
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
