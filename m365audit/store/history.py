"""Merging a snapshot into a versioned (type-2) history table, in SQL.

Every history table has its own columns plus ``row_hash``, ``valid_from``,
``valid_to`` and ``run_id``. ``row_hash`` covers the key and attribute
columns, so an unchanged row keeps its version and a changed one is closed
and re-inserted. Two different rows sharing a 64-bit hash would be mistaken
for one; at a million users the chance is about 1 in 10^7 per snapshot, and
the cost (one missed change until the row changes again) is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    closed: int


def merge_snapshot(
    con: duckdb.DuckDBPyConnection,
    *,
    table: str,
    incoming: str,
    columns: list[str],
    taken_at: datetime,
    run_id: str,
    removed: str | None = None,
    full: bool = True,
) -> MergeCounts:
    """Merge the rows of relation ``incoming`` (with ``columns``) into ``table``.

    ``full``: incoming is the whole population, so any open row not seen is
    closed. Otherwise (a delta), only rows whose key ``columns[0]`` appears in
    incoming, or in the relation ``removed`` (one column ``key``), are closed.
    Table and column names come from this package, never from input.
    """
    cols = ", ".join(columns)
    key = columns[0]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _merge_incoming AS "
        f"SELECT DISTINCT {cols}, hash({cols}) AS row_hash FROM {incoming}"
    )
    # Rows that differ from every open version of the table are new versions.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _merge_new AS SELECT i.* FROM _merge_incoming i "
        f"ANTI JOIN (SELECT row_hash FROM {table} WHERE valid_to IS NULL) o USING (row_hash)"
    )
    if full:
        close_where = "row_hash NOT IN (SELECT row_hash FROM _merge_incoming)"
    else:
        touched = f"SELECT {key} FROM _merge_incoming"
        if removed:
            touched += f" UNION SELECT key FROM {removed}"
        close_where = (
            f"{key} IN ({touched}) AND row_hash NOT IN (SELECT row_hash FROM _merge_incoming)"
        )
    closed = con.execute(
        f"UPDATE {table} SET valid_to = ? WHERE valid_to IS NULL AND {close_where}", [taken_at]
    ).fetchone()
    con.execute(
        f"INSERT INTO {table} ({cols}, row_hash, valid_from, valid_to, run_id) "
        f"SELECT {cols}, row_hash, ?, NULL, ? FROM _merge_new",
        [taken_at, run_id],
    )
    inserted = con.execute("SELECT count(*) FROM _merge_new").fetchone()
    con.execute("DROP TABLE _merge_incoming")
    con.execute("DROP TABLE _merge_new")
    return MergeCounts(
        inserted=int(inserted[0]) if inserted else 0, closed=int(closed[0]) if closed else 0
    )
