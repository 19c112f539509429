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
              "--out", str(Path(work) / "demo"))
        from m365audit.store.db import open_db

        with open_db(db, read_only=True) as con:
            records = int(con.execute("SELECT count(*) FROM copilot_interactions").fetchall()[0][0])
        first = timed("export", "delta", str(lake), "--db", str(db))
        written = _rows_written(first.stderr)
        again = timed("export", "delta", str(lake), "--db", str(db))
        if _rows_written(again.stderr) != 0:
            raise RuntimeError("a rerun of export delta with nothing new wrote rows")
        lake_mib = sum(p.stat().st_size for p in lake.rglob("*") if p.is_file()) / 2**20
        rows = [
            Row("lakehouse", "export delta, first run (all views)", written, first.seconds, first.peak_rss_mib,
                lake_mib, f"rows of every view; {records:,} interactions"),
            Row("lakehouse", "export delta, rerun with nothing new", written, again.seconds, again.peak_rss_mib,
                note="fingerprints only; 0 rows written"),
        ]
        duck = timed("check", "--format", "json", "--db", str(db))
        rows.append(Row("lakehouse", "checks on DuckDB (the database)", records, duck.seconds, duck.peak_rss_mib,
                        note="check --format json"))
        rows.append(_spark_row(size, lake, records))
    return rows


def _spark_row(size: Size, lake: Path, records: int) -> Row:
    what = "checks on Spark (the Delta tables)"
    if size.name == "smoke":
        return Row("lakehouse", what, records, 0.0, note="skipped at smoke size (CI runs the parity test)")
    if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
        return Row("lakehouse", what, records, 0.0, note="skipped: no pyspark or Java (./dev setup-spark)")
    spark = timed("check", "--engine", "spark", "--lake", str(lake), "--format", "json")
    return Row("lakehouse", what, records, spark.seconds, spark.peak_rss_mib,
               note="local Spark, JVM start included; peak is the Python side")
