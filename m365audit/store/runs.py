"""The runs table: every command that writes records a run, and how it ended."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import duckdb
import orjson

from m365audit import __version__


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique run id such as ``20261122T053100Z-3f9a1c``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def start_run(
    con: duckdb.DuckDBPyConnection,
    command: str,
    *,
    graph_url: str | None = None,
    scope: str | None = None,
    started_at: datetime | None = None,
) -> str:
    started_at = started_at or datetime.now(UTC)
    run_id = new_run_id(started_at)
    con.execute(
        "INSERT INTO runs (run_id, command, started_at, status, tool_version, graph_url, scope)"
        " VALUES (?, ?, ?, 'running', ?, ?, ?)",
        [run_id, command, started_at, __version__, graph_url, scope],
    )
    return run_id


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    status: str,
    counts: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    if status not in ("succeeded", "failed"):
        raise ValueError(f"unknown run status {status!r}")
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, counts = ?, error = ? WHERE run_id = ?",
        [
            datetime.now(UTC),
            status,
            orjson.dumps(counts or {}).decode(),
            error,
            run_id,
        ],
    )


def get_state(con: duckdb.DuckDBPyConnection, source: str, key: str) -> str | None:
    row = con.execute(
        "SELECT value FROM collection_state WHERE source = ? AND key = ?", [source, key]
    ).fetchone()
    return None if row is None else row[0]


def set_state(
    con: duckdb.DuckDBPyConnection, source: str, key: str, value: str | None, run_id: str
) -> None:
    con.execute(
        "INSERT OR REPLACE INTO collection_state VALUES (?, ?, ?, ?, ?)",
        [source, key, value, run_id, datetime.now(UTC)],
    )


INTERRUPTED = "interrupted: the process ended before the run finished (killed, or the machine stopped)"


def close_interrupted_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Mark runs left 'running' by a killed process as failed.

    Call only while holding the writer lock: then no other process can be
    running a collection, so every 'running' row belongs to a dead one.
    """
    row = con.execute(
        "UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE status = 'running'",
        [datetime.now(UTC), INTERRUPTED],
    ).fetchone()
    return int(row[0]) if row else 0
