"""The saved audit log queries (table audit_queries, migrations 045 and 070): written and read here only.

Every write runs inside the caller's transaction. A query is recorded as an
intent (status 'intended', its displayName in place of an id) before it is
created, and takes Graph's id in a transaction of its own as soon as Graph has
given it; its records land in the transaction that marks it landed, so a kill at
any point leaves an intent to look up in the tenant's list, the query still to
be paged, or its records and its status committed together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import orjson

LIVE = ("created", "notStarted", "running")  # the service is still working on it
RESUMABLE = (*LIVE, "succeeded")  # a run can poll or page it
INTENDED = "intended"  # recorded before the POST; query_id holds the displayName until Graph gives the id
_COLUMNS = ("query_id, api_version, window_start, window_end, record_types, filters, created_at, status, "
            "records_fetched, last_polled, run_id, problem, display_name")


def filters_key(filters: dict[str, Any]) -> str:
    """The query's filters (other than its window and record types) as canonical JSON."""
    canonical = {k: sorted(v) if isinstance(v, list) else v for k, v in filters.items()}
    return orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS).decode()


def types_key(record_types: tuple[str, ...]) -> str:
    return ",".join(sorted(record_types))


@dataclass(frozen=True)
class SavedQuery:
    query_id: str
    api_version: str
    start: datetime
    end: datetime
    record_types: str
    filters: str
    created_at: datetime
    status: str
    records_fetched: int = 0
    last_polled: datetime | None = None
    run_id: str = ""
    problem: str | None = None
    display_name: str | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE


def save_created(con: duckdb.DuckDBPyConnection, query: SavedQuery) -> None:
    con.execute(f"INSERT INTO audit_queries ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                [query.query_id, query.api_version, query.start, query.end, query.record_types, query.filters,
                 query.created_at, query.status, query.records_fetched, query.last_polled, query.run_id,
                 query.problem, query.display_name])


def adopt_intent(con: duckdb.DuckDBPyConnection, display_name: str, query_id: str, api_version: str,
                 status: str = "created") -> None:
    """The intent named ``display_name`` is now Graph's query ``query_id``."""
    con.execute("UPDATE audit_queries SET query_id = ?, api_version = ?, status = ? "
                "WHERE query_id = ? AND status = ?", [query_id, api_version, status, display_name, INTENDED])


def drop_intent(con: duckdb.DuckDBPyConnection, display_name: str) -> None:
    """Graph refused the intent's query, or has none by its name: nothing was created."""
    con.execute("DELETE FROM audit_queries WHERE query_id = ? AND status = ?", [display_name, INTENDED])


def open_intents(con: duckdb.DuckDBPyConnection) -> list[SavedQuery]:
    """Intents whose creation was never answered (a run was killed or lost its connection), oldest first."""
    rows = con.execute(f"SELECT {_COLUMNS} FROM audit_queries WHERE status = ? "  # noqa: S608
                       "ORDER BY created_at, window_start", [INTENDED]).fetchall()
    return [SavedQuery(*row) for row in rows]


def set_status(con: duckdb.DuckDBPyConnection, query_id: str, status: str, *, polled: datetime | None = None,
               problem: str | None = None, records: int | None = None, landed_run_id: str | None = None) -> None:
    con.execute("""
        UPDATE audit_queries SET status = ?, last_polled = coalesce(?, last_polled), problem = coalesce(?, problem),
               records_fetched = coalesce(?, records_fetched), landed_run_id = coalesce(?, landed_run_id)
        WHERE query_id = ?""", [status, polled, problem, records, landed_run_id, query_id])


def set_polled(con: duckdb.DuckDBPyConnection, updates: list[tuple[str, str, datetime]]) -> None:
    """(query_id, status, polled at) of queries still being worked on, in one statement."""
    if updates:
        con.executemany("UPDATE audit_queries SET status = ?, last_polled = ? WHERE query_id = ?",
                        [[status, polled, query_id] for query_id, status, polled in updates])


def saved_queries(con: duckdb.DuckDBPyConnection, record_types: str, filters: str) -> list[SavedQuery]:
    """The saved queries with these record types and filters, oldest first."""
    rows = con.execute(f"SELECT {_COLUMNS} FROM audit_queries WHERE record_types = ? AND filters = ? "  # noqa: S608
                       "ORDER BY created_at, window_start", [record_types, filters]).fetchall()
    return [SavedQuery(*row) for row in rows]


@dataclass(frozen=True)
class Usage:
    """What the saved queries have spent of the tenant's audit query budget."""

    submitted: list[datetime]  # creation times within the last 24 hours, oldest first
    running: int  # queries the service may still be running


def budget_usage(con: duckdb.DuckDBPyConnection, now: datetime) -> Usage:
    placeholders = ", ".join("?" for _ in LIVE)
    submitted = [row[0] for row in con.execute(
        "SELECT created_at FROM audit_queries WHERE created_at > ? ORDER BY created_at",
        [now - timedelta(hours=24)]).fetchall()]
    row = con.execute(f"SELECT count(*) FROM audit_queries WHERE status IN ({placeholders})",  # noqa: S608
                      list(LIVE)).fetchone()
    return Usage(submitted, int(row[0]) if row else 0)
