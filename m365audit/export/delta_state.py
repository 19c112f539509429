"""What an earlier Delta export wrote: a fingerprint per table and date partition.

The state is itself a small Delta table, ``_m365audit_export``, beside the exported
tables, so it travels with them and needs no file of its own. Each run compares the
database's fingerprints with it and writes only the partitions that differ:

- a snapshot view's day changes when its last snapshot of that day is a later one;
- an interaction view's day changes when its rows do (count and an order-free hash of every row);
- a state view (unpartitioned) changes when any row does.

Days the database no longer holds (removed by retention) are left in the lake as they are:
the lake keeps the history, the DuckDB file only what its retention settings keep.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from m365audit.export.lake_target import LakeTarget
from m365audit.export.views import ViewLayout, layout_query

STATE_TABLE = "_m365audit_export"
WHOLE = ""  # the part key of an unpartitioned table
NO_DATE = "null"  # rows without a date (an entry whose interaction is not in the database)


def part_key(day: object) -> str:
    return NO_DATE if day is None else str(day)


def current_fingerprints(con: duckdb.DuckDBPyConnection, layout: ViewLayout) -> dict[str, str]:
    """Each partition's fingerprint in the database now."""
    if layout.kind == "snapshot":
        rows = con.execute("SELECT CAST(timezone('UTC', max(taken_at)) AS DATE), "
                           "strftime(timezone('UTC', max(taken_at)), '%Y-%m-%dT%H:%M:%S.%fZ') FROM snapshots "
                           "GROUP BY CAST(timezone('UTC', taken_at) AS DATE)").fetchall()
        return {part_key(day): str(taken) for day, taken in rows}
    query = layout_query(layout)
    if layout.partition_by is None:
        rows = con.execute(f"SELECT count(*) || ':' || coalesce(bit_xor(hash(q)), 0) FROM ({query}) q").fetchall()
        return {WHOLE: str(rows[0][0])}
    part = layout.partition_by
    grouped = con.execute(f"SELECT {part}, count(*) || ':' || bit_xor(hash(q)) FROM ({query}) q GROUP BY {part}")
    return {part_key(day): str(fingerprint) for day, fingerprint in grouped.fetchall()}


def load_state(target: LakeTarget) -> dict[tuple[str, str], str]:
    """(table, part) -> fingerprint written by earlier runs; empty for a new export."""
    from deltalake import DeltaTable

    uri = target.table_uri(STATE_TABLE)
    if not DeltaTable.is_deltatable(uri, target.storage_options):
        return {}
    table = DeltaTable(uri, storage_options=target.storage_options).to_pyarrow_table(
        columns=["table_name", "part", "fingerprint"])
    return {(t, p): f for t, p, f in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True)}


def save_state(target: LakeTarget, table_name: str, fingerprints: dict[str, str]) -> None:
    """Record the partitions just written (after their data was committed)."""
    from deltalake import DeltaTable, write_deltalake

    if not fingerprints:
        return
    now = datetime.now(UTC)
    data = pa.table({
        "table_name": pa.array([table_name] * len(fingerprints), pa.string()),
        "part": pa.array(list(fingerprints), pa.string()),
        "fingerprint": pa.array(list(fingerprints.values()), pa.string()),
        "exported_at": pa.array([now] * len(fingerprints), pa.timestamp("us", tz="UTC")),
    })
    uri = target.table_uri(STATE_TABLE)
    if not DeltaTable.is_deltatable(uri, target.storage_options):
        write_deltalake(uri, data, mode="append", storage_options=target.storage_options,
                        description="What m365audit's Delta export last wrote: one fingerprint per table and "
                                    "date partition. Internal: not for reports.")
        return
    (DeltaTable(uri, storage_options=target.storage_options)
     .merge(data, "t.table_name = s.table_name AND t.part = s.part", source_alias="s", target_alias="t")
     .when_matched_update_all().when_not_matched_insert_all().execute())
