"""The policy checks on Spark SQL, over the Delta tables ``export delta`` wrote.

The checks read tables only: the export materialises every public view (the views are
DuckDB SQL over internal tables that are not exported), and here each Delta table is
registered as a temporary view with the view's name. A snapshot table (partitioned by
``snapshot_date``) is registered at its latest snapshot, which is what the DuckDB view of
the same name holds; a dated table without its partition column. The catalogue's checks and
their needs then run unchanged through the same runner as on DuckDB
(``m365audit.checks.runner.run_check``), each DuckDB statement translated to Spark SQL
(``translate``) or replaced by the check's Spark variant, and every policy value bound
with ``spark.sql(query, args=...)``.

Entry point for a Fabric or Databricks notebook::

    from m365audit.lakehouse import run_checks_spark
    run = run_checks_spark(spark, "abfss://…/Tables", policy_file="policy.toml")
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from m365audit.checks.catalogue import Check, check_ids, load_catalogue, spark_variant
from m365audit.checks.model import CheckRun
from m365audit.checks.runner import run_check
from m365audit.export.delta_state import NO_DATE, STATE_TABLE
from m365audit.export.views import PARTITION_COLUMNS, SNAPSHOT_PARTITION
from m365audit.lakehouse.translate import positional_names, to_spark
from m365audit.policy import Policy, load_policy


class SparkConnection:
    """What the check runner asks of a DuckDB connection (``execute``, then fetch), over Spark SQL."""

    def __init__(self, spark: Any, native: frozenset[str] = frozenset()) -> None:
        self.spark = spark
        self.native = native  # statements already in Spark SQL (checks' Spark variants)

    def execute(self, sql: str, params: Any = None) -> SparkResult:
        query = sql if sql in self.native else to_spark(sql)
        if isinstance(params, list | tuple):
            params = dict(zip(positional_names(len(params)), params, strict=True))
        frame = self.spark.sql(query, args=_spark_args(params or {}))
        return SparkResult(frame.columns, [tuple(row) for row in frame.collect()])


class SparkResult:
    def __init__(self, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.description = [(c,) for c in columns]
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None


def _spark_args(params: dict[str, Any]) -> dict[str, Any]:
    """Bound values: Python values Spark turns into literals; NULL as a typed-free NULL column."""
    from pyspark.sql.functions import lit

    return {name: lit(None) if value is None else value for name, value in params.items()}


def register_lake(spark: Any, uri: str, storage_options: dict[str, str] | None = None) -> list[str]:
    """Register each table of the export at ``uri`` as a temporary view named after it.

    The tables and each one's partitions come from ``_m365audit_export`` (one small read), so
    finding a snapshot table's latest day scans no data.
    """
    root = uri.rstrip("/")
    parts: dict[str, list[str]] = {}
    for name, part in read_delta(spark, f"{root}/{STATE_TABLE}", storage_options).select(
            "table_name", "part").collect():
        parts.setdefault(name, []).append(part)
    for name in sorted(parts):
        frame = read_delta(spark, f"{root}/{name}", storage_options)
        if SNAPSHOT_PARTITION in frame.columns:
            latest = max((p for p in parts[name] if p != NO_DATE), default=None)
            frame = frame.where(frame[SNAPSHOT_PARTITION] == _date(latest)) if latest else frame.limit(0)
        frame.drop(*(c for c in PARTITION_COLUMNS if c in frame.columns)).createOrReplaceTempView(name)
    return sorted(parts)


def _date(text: str) -> date:
    return date.fromisoformat(text)


def read_delta(spark: Any, table_uri: str, storage_options: dict[str, str] | None = None) -> Any:
    """A Delta table as a DataFrame: Spark's own Delta reader, with the session's credentials, where
    the session has one (Fabric, Databricks, Synapse, delta-spark); otherwise the table's current
    files as ``deltalake`` reads them from the Delta log (with ``storage_options``)."""
    try:
        return spark.read.format("delta").load(table_uri)
    except Exception as exc:  # pyspark raises its own error types for a missing data source
        if "DATA_SOURCE_NOT_FOUND" not in str(exc) and "Failed to find data source" not in str(exc):
            raise
    from deltalake import DeltaTable
    from pyspark.sql.pandas.types import from_arrow_schema

    table = DeltaTable(table_uri, storage_options=storage_options)
    schema = from_arrow_schema(_pyarrow_schema(table))
    files = table.file_uris()
    if not files:
        return spark.createDataFrame([], schema)
    return spark.read.schema(schema).option("basePath", table_uri).parquet(*files)


def _pyarrow_schema(table: Any) -> Any:
    import pyarrow as pa

    return pa.schema(table.schema().to_arrow())


def run_checks_spark(spark: Any, lake_uri: str, policy: Policy | None = None, *, policy_file: str | None = None,
                     checked_at: datetime | None = None, storage_options: dict[str, str] | None = None,
                     only: tuple[str, ...] | None = None) -> CheckRun:
    """Run the catalogue's checks on Spark over the Delta export at ``lake_uri``.

    Exceptions that name people are matched as written: in a lake exported from a database
    that stores pseudonyms, write them as the pseudonyms the findings show.
    """
    if policy is None:
        policy = (load_policy(Path(policy_file), check_ids()) if policy_file
                  else Policy(name="built-in defaults (no policy file)"))
    checked_at = checked_at or datetime.now(UTC)
    spark.conf.set("spark.sql.session.timeZone", "UTC")  # DuckDB's dates are UTC dates too
    register_lake(spark, lake_uri, storage_options)
    checks = [_for_spark(c) for c in load_catalogue() if only is None or c.id in only]
    con = SparkConnection(spark, frozenset(c.sql for c in checks if spark_variant(c) is not None))
    results = tuple(run_check(con, c, policy, checked_at.date()) for c in checks)  # type: ignore[arg-type]
    row = con.execute("SELECT max(snapshot_at) FROM users").fetchone()
    return CheckRun(checked_at, policy, results, snapshot_at=row[0] if row else None)


def _for_spark(check: Check) -> Check:
    variant = spark_variant(check)
    return replace(check, sql=variant) if variant is not None else check
