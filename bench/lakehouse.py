"""Stage lakehouse: `export delta` throughput, a rerun with nothing new, and the checks on DuckDB and on Spark.

The database is the demo at the size asked for (as stage reports builds it); each command runs
as its own ``m365audit`` child process, timed with its peak memory. The Spark row includes
starting a local Spark session (a JVM), as `check --engine spark` does; it is skipped at the
smoke size (CI's smoke run stays short; CI runs the parity test instead) and where pyspark or
Java is missing (`./dev setup-spark`). At the smoke size the demo is small too (200 users, 5 days):
the stage is there to show that the export and its rerun work, not to time them.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.reports import DAYS, RECORDS_PER_USER, SEED, timed
from bench.stages import Row, Size, stage

_WRITTEN = re.compile(r"\(([\d,]+) rows written\)")


def _rows_written(stderr: str) -> int:
    match = _WRITTEN.search(stderr)
    if match is None:
        raise RuntimeError(f"export delta did not say how many rows it wrote: {stderr[-500:]}")
    return int(match.group(1).replace(",", ""))


@stage("lakehouse")
def run(size: Size) -> list[Row]:
    smoke = size.name == "smoke"
    users, days = (200, 5) if smoke else (max(200, size.records // RECORDS_PER_USER), DAYS)
    with TemporaryDirectory(prefix="m365audit-bench-") as work:
        db, lake = Path(work) / "bench.duckdb", Path(work) / "lake"
        timed("demo", "--users", str(users), "--days", str(days), "--seed", str(SEED), "--db", str(db),
              "--out", str(Path(work) / "demo"), "--no-history")  # today's collection only, as bench/reports.py
        from m365audit.store.db import open_db

        with open_db(db, read_only=True) as con:
            records = int(con.execute("SELECT count(*) FROM copilot_interactions").fetchall()[0][0])
        first = timed("export", "delta", str(lake), "--db", str(db))
        written = _rows_written(first.stderr)
        again = timed("export", "delta", str(lake), "--db", str(db))
        if _rows_written(again.stderr) != 0:
            raise RuntimeError("a rerun of export delta with nothing new wrote rows")
        lake_mib = sum(p.stat().st_size for p in lake.rglob("*") if p.is_file()) / 2**20
        days = _forget_last_days(lake, 3)
        night = timed("export", "delta", str(lake), "--db", str(db))
        from deltalake import DeltaTable

        if DeltaTable(str(lake / "copilot_interactions")).count() != records:
            raise RuntimeError("after rewriting the last days the lake's interaction count differs from the database's")
        rows = [
            Row("lakehouse", "export delta, first run (all views)", written, first.seconds, first.peak_rss_mib,
                lake_mib, f"rows of every view; {records:,} interactions"),
            Row("lakehouse", "export delta, rerun with nothing new", written, again.seconds, again.peak_rss_mib,
                note="fingerprints only; 0 rows written"),
            Row("lakehouse", "export delta, last 3 days changed", _rows_written(night.stderr), night.seconds,
                night.peak_rss_mib, note=f"as a night after a 48-hour overlap: {days}"),
        ]
        duck = timed("check", "--format", "json", "--db", str(db))
        rows.append(Row("lakehouse", "checks on DuckDB (the database)", records, duck.seconds, duck.peak_rss_mib,
                        note="check --format json"))
        rows.append(_spark_row(size, lake, records))
    return rows


def _forget_last_days(lake: Path, count: int) -> str:
    """Make the export forget what it wrote for the last ``count`` interaction days (and the state
    tables), so the next run rewrites them: the work of a night whose audit window overlapped them."""
    from deltalake import DeltaTable

    state = DeltaTable(str(lake / "_m365audit_export"))
    parts = state.to_pyarrow_table(columns=["table_name", "part"]).to_pylist()
    dated = sorted({p["part"] for p in parts if p["table_name"] == "copilot_interactions"})[-count:]
    quoted = ", ".join(f"'{d}'" for d in dated)
    state.delete(f"(table_name <> 'users' AND table_name <> 'skus' AND table_name <> 'licence_assignments' "
                 f"AND (part IN ({quoted}) OR part = ''))")
    return f"{dated[0]} to {dated[-1]}" if dated else "no days"


def _spark_row(size: Size, lake: Path, records: int) -> Row:
    what = "checks on Spark (the Delta tables)"
    if size.name == "smoke":
        return Row("lakehouse", what, records, 0.0, note="skipped at smoke size (CI runs the parity test)")
    if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
        return Row("lakehouse", what, records, 0.0, note="skipped: no pyspark or Java (./dev setup-spark)")
    spark = timed("check", "--engine", "spark", "--lake", str(lake), "--format", "json")
    return Row("lakehouse", what, records, spark.seconds, spark.peak_rss_mib,
               note="local Spark, JVM start included; peak is the Python side")
