"""``export delta``: the public views as Delta tables in a lakehouse, written incrementally.

One Delta table per public view under the target URI (a folder, ``abfss://`` for OneLake or
ADLS Gen2, ``s3://``), laid out by date as the Parquet export is (``m365audit.export.views``).
Each run writes only the partitions whose rows changed since the last run
(``m365audit.export.delta_state``), so reruns and overlapping collection windows never
duplicate a row:

- the interaction view is merged on its record id (within the changed days): changed records
  are updated, new ones inserted, ones the database no longer has on those days deleted;
- the other dated views (per-interaction entries, daily snapshots) replace the changed days'
  partitions whole, in one commit: their natural key is the record id and the entry, or the
  snapshot day and the object, and the database holds the complete set for each such day;
- state views (unpartitioned) are replaced whole when they changed.

Every write is one Delta commit: readers see the table before or after it, never half.
Schemas are documented and versioned in the tables themselves (``delta_schema``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from m365audit import __version__
from m365audit.errors import DatabaseError, UsageError
from m365audit.export.delta_schema import annotated, evolved, export_select, schema_version, table_doc
from m365audit.export.delta_state import NO_DATE, STATE_TABLE, current_fingerprints, load_state, save_state
from m365audit.export.lake_target import LakeTarget
from m365audit.export.views import RECORD_KEY, ViewLayout, layout_of, layout_query, public_views, snapshot_times
from m365audit.store.db import open_db

if TYPE_CHECKING:
    from deltalake import DeltaTable

BATCH_ROWS = 131_072


@dataclass(frozen=True)
class TableExport:
    name: str
    partition_by: str | None
    parts_written: int  # partitions (days) written by this run; 0 when nothing changed
    rows_written: int
    rows: int  # rows in the Delta table after this run
    schema_version: int


def export_delta(db: Path, target: LakeTarget, *, memory_limit: str = "512MB") -> list[TableExport]:
    """Bring every public view's Delta table under ``target`` up to date with ``db``."""
    from deltalake.exceptions import DeltaError

    try:
        _refuse_foreign_folder(target)
        state = load_state(target)
        with open_db(db, read_only=True, memory_limit=memory_limit) as con:
            con.execute("SET TimeZone = 'UTC'")
            layouts = [layout_of(con, view) for view in public_views(con)]
            return [_export_table(con, target, layout, state) for layout in layouts]
    except (DeltaError, OSError) as exc:
        raise UsageError(f"Cannot write the Delta export at {target.uri} ({_first_line(exc)}); check the address, "
                         "the network and the credentials.") from None
    except duckdb.Error as exc:
        raise DatabaseError(f"Cannot export {db} to Delta: {_first_line(exc)}.") from None


def _refuse_foreign_folder(target: LakeTarget) -> None:
    """A local target that holds files but no m365audit export is refused before anything is written."""
    path = target.local_path
    if path is None or not path.exists() or (path / STATE_TABLE / "_delta_log").is_dir():
        return
    if (path / "_delta_log").is_dir():
        raise UsageError(f"{path} is itself a Delta table; give the folder that is to hold one table per view.")
    if any(path.iterdir()):
        raise UsageError(f"{path} holds files but no m365audit Delta export; choose an empty or new folder.")


def _export_table(con: duckdb.DuckDBPyConnection, target: LakeTarget, layout: ViewLayout,
                  state: dict[tuple[str, str], str]) -> TableExport:
    from deltalake import DeltaTable

    uri = target.table_uri(layout.name)
    table = DeltaTable(uri, storage_options=target.storage_options) \
        if DeltaTable.is_deltatable(uri, target.storage_options) else None
    if table is None and _local_foreign(target, layout.name):
        raise UsageError(f"{target.table_uri(layout.name)} holds files but is not a Delta table; move them away.")
    now = current_fingerprints(con, layout)
    changed = {k: v for k, v in now.items() if table is None or state.get((layout.name, k)) != v}
    if table is not None and not changed:
        return _result(layout, table, 0, 0)
    reader = _changed_rows(con, layout, list(changed), table)
    written = _write(target, uri, layout, table, reader, list(changed))
    save_state(target, layout.name, changed)
    return _result(layout, DeltaTable(uri, storage_options=target.storage_options), len(changed), written)


def _local_foreign(target: LakeTarget, name: str) -> bool:
    path = target.local_path
    folder = path / name if path is not None else None
    return folder is not None and folder.is_dir() and any(folder.iterdir())


def _changed_rows(con: duckdb.DuckDBPyConnection, layout: ViewLayout, parts: list[str],
                  table: DeltaTable | None) -> pa.RecordBatchReader:
    if layout.kind == "snapshot":
        times = [t for t in snapshot_times(con) if str(t.astimezone(UTC).date()) in parts]
        query = layout_query(layout, snapshots=times)
    elif layout.partition_by:
        query = layout_query(layout, days=[None if p == NO_DATE else _date(p) for p in parts])
    else:
        query = layout_query(layout)
    current = _arrow_schema(table) if table is not None else None
    reader = con.sql(export_select(con, query, current.names if current else None)).to_arrow_reader(BATCH_ROWS)
    if current is None:
        schema = annotated(reader.schema, layout.name, layout.partition_by)
    else:
        schema = evolved(layout.name, current, reader.schema, layout.name, layout.partition_by)
    return pa.RecordBatchReader.from_batches(schema, (b.cast(schema) for b in reader))


def _write(target: LakeTarget, uri: str, layout: ViewLayout, table: DeltaTable | None,
           reader: pa.RecordBatchReader, parts: list[str]) -> int:
    from deltalake import CommitProperties, write_deltalake

    counted = _Counted(reader)
    commit = CommitProperties(custom_metadata={"m365audit.operation": "export delta",
                                               "m365audit.tool_version": __version__})
    partition = [layout.partition_by] if layout.partition_by else None
    if table is None:
        doc = table_doc(layout.name)
        write_deltalake(uri, counted.reader, partition_by=partition, mode="append", name=layout.name,
                        description=doc.description,
                        storage_options=target.storage_options, commit_properties=commit)
        return counted.rows
    _add_columns(table, reader.schema)
    if layout.kind == "interaction":
        _merge_on_record_id(table, layout, counted.reader, parts, commit)
    elif layout.partition_by:
        write_deltalake(table, counted.reader, partition_by=partition, mode="overwrite",
                        predicate=_parts_predicate(layout.partition_by, parts), commit_properties=commit)
    else:
        write_deltalake(table, counted.reader, mode="overwrite", commit_properties=commit)
    return counted.rows


def _add_columns(table: DeltaTable, wanted: pa.Schema) -> None:
    """Add the columns ``wanted`` has and the table lacks (nullable, with their metadata)."""
    from deltalake import Field, Schema

    have = set(_arrow_schema(table).names)
    added = [f for f in wanted if f.name not in have]
    if added:
        fields = Schema.from_arrow(pa.schema(added)).fields
        table.alter.add_columns([Field(f.name, f.type, nullable=True, metadata=f.metadata) for f in fields])


def _merge_on_record_id(table: DeltaTable, layout: ViewLayout, reader: pa.RecordBatchReader, parts: list[str],
                        commit: Any) -> None:
    part = layout.partition_by
    (table.merge(reader, f"t.{part} = s.{part} AND t.{RECORD_KEY} = s.{RECORD_KEY}",
                 source_alias="s", target_alias="t", commit_properties=commit)
     .when_matched_update_all().when_not_matched_insert_all()
     .when_not_matched_by_source_delete(predicate=_parts_predicate(f"t.{part}", parts))
     .execute())


def _parts_predicate(column: str, parts: list[str]) -> str:
    """The rows of the given partitions (ISO dates, or NO_DATE for rows without one)."""
    dated = [f"'{p}'" for p in parts if p != NO_DATE]
    tests = [f"{column} IN ({', '.join(dated)})"] if dated else []
    if NO_DATE in parts:
        tests.append(f"{column} IS NULL")
    return " OR ".join(tests) or "false"


def _arrow_schema(table: DeltaTable) -> pa.Schema:
    return pa.schema(table.schema().to_arrow())


def _result(layout: ViewLayout, table: DeltaTable, parts: int, written: int) -> TableExport:
    return TableExport(layout.name, layout.partition_by, parts, written, int(table.count()),
                       schema_version(_arrow_schema(table)))


def _date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")


class _Counted:
    def __init__(self, reader: pa.RecordBatchReader) -> None:
        self.rows = 0
        self.reader = pa.RecordBatchReader.from_batches(reader.schema, self._count(reader))

    def _count(self, reader: pa.RecordBatchReader) -> Any:
        for batch in reader:
            self.rows += batch.num_rows
            yield batch
