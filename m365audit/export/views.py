"""Which public views an export writes, and how each is laid out by date (shared by every export format).

The layout is decided from the database's own catalogue, never from a list of columns:

- snapshot views (``skus``, ``users``, ``licence_assignments``, each with a ``*_at(ts)`` table
  macro) hold the whole state as of the last snapshot of each day, partitioned by
  ``snapshot_date``;
- the interaction view (``copilot_interactions``, one row per audit record id) is partitioned by
  ``created_date``, the UTC date of the interaction;
- any other view with a ``record_id`` and its own ``created_at`` (``copilot_use``, ``ai_app_use``,
  ...) is partitioned by the UTC date of that ``created_at``;
- any other view with a ``record_id`` column holds entries of interactions (resources read,
  messages, contexts, plugins, models, administrative units, ...) and is partitioned by the
  ``created_date`` of the interaction it belongs to;
- any other view is current state, one unpartitioned dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb

SNAPSHOT_MACROS = {"skus": "skus_at", "users": "users_at", "licence_assignments": "licence_assignments_at"}
INTERACTION_VIEW = "copilot_interactions"
RECORD_KEY = "record_id"
SNAPSHOT_PARTITION = "snapshot_date"
CREATED_PARTITION = "created_date"
PARTITION_COLUMNS = (SNAPSHOT_PARTITION, CREATED_PARTITION)
CREATED_AT = "created_at"
KINDS = ("snapshot", "interaction", "dated", "per_interaction", "state")


@dataclass(frozen=True)
class ViewLayout:
    name: str
    kind: str  # one of KINDS: snapshot, interaction, dated (own created_at), per_interaction, state
    partition_by: str | None  # snapshot_date, created_date or None


def public_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary "
                       "AND schema_name = 'main' AND database_name = current_database() ORDER BY view_name")
    return [r[0] for r in rows.fetchall()]


def view_columns(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    rows = con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
                       "AND database_name = current_database() ORDER BY column_index", [view])
    return [r[0] for r in rows.fetchall()]


def layout_of(con: duckdb.DuckDBPyConnection, view: str) -> ViewLayout:
    if view in SNAPSHOT_MACROS:
        return ViewLayout(view, "snapshot", SNAPSHOT_PARTITION)
    if view == INTERACTION_VIEW:
        return ViewLayout(view, "interaction", CREATED_PARTITION)
    columns = view_columns(con, view)
    if RECORD_KEY in columns and CREATED_AT in columns:
        return ViewLayout(view, "dated", CREATED_PARTITION)
    if RECORD_KEY in columns and INTERACTION_VIEW in public_views(con):
        return ViewLayout(view, "per_interaction", CREATED_PARTITION)
    return ViewLayout(view, "state", None)


def snapshot_times(con: duckdb.DuckDBPyConnection) -> list[datetime]:
    """The last snapshot of each UTC day, oldest first."""
    rows = con.execute("SELECT max(taken_at) FROM snapshots GROUP BY CAST(timezone('UTC', taken_at) AS DATE) "
                       "ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def layout_query(layout: ViewLayout, *, snapshots: list[datetime] | None = None,
                 days: list[date | None] | None = None) -> str:
    """SELECT of the view's rows with its partition column; ``snapshots`` (snapshot views) or
    ``days`` (interaction views) restrict it to those snapshots or dates."""
    view = ident(layout.name)
    if layout.kind == "snapshot":
        macro = SNAPSHOT_MACROS[layout.name]
        parts = [f"SELECT *, DATE '{ts.astimezone(UTC):%Y-%m-%d}' AS {SNAPSHOT_PARTITION} FROM {macro}("
                 f"TIMESTAMPTZ '{ts.astimezone(UTC).isoformat()}')" for ts in snapshots or []]
        # No snapshot: an empty dataset with the right columns.
        return " UNION ALL ".join(parts) or f"SELECT *, NULL::DATE AS {SNAPSHOT_PARTITION} FROM {view} LIMIT 0"
    when = _days_filter(days)
    if layout.kind in ("interaction", "dated"):
        return f"SELECT * FROM (SELECT *, {_utc_date(CREATED_AT)} AS created_date FROM {view}){when}"
    if layout.kind == "per_interaction":
        return (f"SELECT * FROM (SELECT v.*, {_utc_date('i.created_at')} AS created_date FROM {view} v LEFT JOIN "
                f"(SELECT DISTINCT {RECORD_KEY}, created_at FROM {INTERACTION_VIEW}) i USING ({RECORD_KEY})){when}")
    return f"SELECT * FROM {view}"


def _days_filter(days: list[date | None] | None) -> str:
    """None: every row; else the rows of those dates (None among them: rows without a date)."""
    if days is None:
        return ""
    dated = [f"DATE '{d:%Y-%m-%d}'" for d in days if d is not None]
    tests = ([f"created_date IN ({', '.join(dated)})"] if dated else []) + \
        (["created_date IS NULL"] if None in days else [])
    return " WHERE " + (" OR ".join(tests) or "false")


def _utc_date(column: str) -> str:
    return f"CAST(timezone('UTC', {column}) AS DATE)"


def ident(name: str) -> str:
    """A quoted identifier: view names come from the database, where an analyst may have added any."""
    return '"' + name.replace('"', '""') + '"'
