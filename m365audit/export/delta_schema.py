"""The Delta tables' schema: column types, column comments, and a schema version kept with the table.

Each table's columns are the view's columns (plus its date partition column), with the
view's documented meaning (queries/views/*.sql, the source of docs/schema.md) as each
column's ``comment`` (what Spark's ``DESCRIBE TABLE`` and Fabric show) and the view's
description as the table's. Each column's metadata also carries ``m365audit.schema_version``,
the schema version that added it; the table's schema version is the highest of these
(1 for a new table, one more each time the export adds columns). It lives in the Delta
schema itself rather than in a table property because delta-rs refuses table properties
it does not know. A change that would alter or drop an existing column is refused:
readers (Power BI models, notebooks) depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import duckdb
import pyarrow as pa

from m365audit.errors import UsageError
from m365audit.export.views import SNAPSHOT_PARTITION, ident

SCHEMA_VERSION = "m365audit.schema_version"
# DuckDB types Delta has no equal for, and what they are written as.
_CASTS = {"HUGEINT": "DECIMAL(38, 0)", "UHUGEINT": "DECIMAL(38, 0)", "UBIGINT": "DECIMAL(20, 0)",
          "UINTEGER": "BIGINT", "USMALLINT": "INTEGER", "UTINYINT": "SMALLINT"}
_NATIVE = ("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL", "VARCHAR",
           "DATE", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP", "BLOB")


@dataclass(frozen=True)
class TableDoc:
    description: str
    columns: dict[str, str]


@cache
def _docs() -> dict[str, TableDoc]:
    from m365audit.docgen import view_docs

    return {d.name: TableDoc(d.description, dict(d.columns)) for d in view_docs()}


def table_doc(view: str) -> TableDoc:
    return _docs().get(view, TableDoc(f"The public view {view} of the m365audit DuckDB file.", {}))


def export_select(con: duckdb.DuckDBPyConnection, query: str, order: list[str] | None = None) -> str:
    """``query`` with each column cast to a type Delta has, in ``order`` (the table's) where given."""
    described = {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {query}").fetchall()}
    names = [n for n in (order or []) if n in described] + [n for n in described if n not in (order or [])]
    return "SELECT " + ", ".join(_cast(n, described[n]) for n in names) + f" FROM ({query})"


def _cast(name: str, duck_type: str) -> str:
    element = duck_type.removesuffix("[]")
    if element in _CASTS:
        target = _CASTS[element] + duck_type[len(element):]
    elif element.startswith(_NATIVE):
        return ident(name)
    else:
        target = "VARCHAR" + duck_type[len(element):]  # UUID, JSON, INTERVAL, TIME, STRUCT, ...: as text
    return f"CAST({ident(name)} AS {target}) AS {ident(name)}"


def annotated(schema: pa.Schema, view: str, partition: str | None, version: int = 1) -> pa.Schema:
    """``schema`` with each column's documented meaning as its ``comment`` and ``version`` as the
    schema version that added it."""
    notes = dict(table_doc(view).columns)
    if partition == SNAPSHOT_PARTITION:
        notes[partition] = "UTC day of the snapshot these rows describe (that day's last); partition column"
    elif partition:
        notes[partition] = "UTC date of the interaction (NULL when it is not in the database); partition column"
    return pa.schema([_noted(f, notes.get(f.name), version) for f in schema])


def _noted(field: pa.Field, comment: str | None, version: int) -> pa.Field:
    metadata = {SCHEMA_VERSION: str(version)}
    if comment:
        metadata["comment"] = comment
    return field.with_metadata(metadata)


def schema_version(schema: pa.Schema) -> int:
    """The schema version of a table: the highest version among its columns (1 when none says)."""
    versions = [int((f.metadata or {}).get(SCHEMA_VERSION.encode(), b"1")) for f in schema]
    return max(versions, default=1)


def evolved(name: str, current: pa.Schema, source: pa.Schema, view: str, partition: str | None) -> pa.Schema:
    """The schema to write ``source`` into a table with ``current``: its columns as they are, then the
    source's new columns (nullable), noted with the next schema version. Refuses other changes."""
    added = schema_change(name, current, source)
    if not added:
        return current
    fresh = annotated(pa.schema(added), view, partition, schema_version(current) + 1)
    return pa.schema([*current, *fresh])


def schema_change(table_name: str, current: pa.Schema, wanted: pa.Schema) -> list[pa.Field]:
    """The columns to add to a table with ``current`` columns so it holds ``wanted``; refuses the rest."""
    have = {f.name: f for f in current}
    for name, field in have.items():
        if name not in wanted.names:
            raise UsageError(f"The Delta table {table_name} has a column {name} that the database no longer has; "
                             "m365audit never drops a column from a table readers depend on: export to a new "
                             "location, or drop the table there first.")
        if not _same_type(field.type, wanted.field(name).type):
            raise UsageError(f"The Delta table {table_name} holds {name} as {field.type}, but the database now gives "
                             f"{wanted.field(name).type}; m365audit never changes a column's type in place: export "
                             "to a new location, or drop the table there first.")
    return [f for f in wanted if f.name not in have]


def _same_type(a: pa.DataType, b: pa.DataType) -> bool:
    if pa.types.is_timestamp(a) and pa.types.is_timestamp(b):
        return (a.tz is None) == (b.tz is None)  # Delta keeps UTC instants; the zone name is not kept
    if (pa.types.is_list(a) or pa.types.is_large_list(a)) and (pa.types.is_list(b) or pa.types.is_large_list(b)):
        return _same_type(a.value_type, b.value_type)
    string = (pa.string(), pa.large_string(), pa.string_view())
    if a in string and b in string:
        return True
    binary = (pa.binary(), pa.large_binary(), pa.binary_view())
    return (a in binary and b in binary) or a == b
