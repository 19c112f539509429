"""Stage reports: all checks, the HTML report and the FOI answer over a database of the size's records.

The database is built by ``m365audit demo`` (licence snapshot plus 30 days of
simulated activity, about 23 CopilotInteraction records per user); then each
command runs as its own ``m365audit`` child process, timed with its peak
memory from ``os.wait4``, exactly as a user would run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.stages import Row, Size, stage

RECORDS_PER_USER = 23  # CopilotInteraction records per user in 30 days, at the default rates
TARGETS = {"check": " (target < 10 s at 5M)", "report": " (target < 20 s at 5M)", "foi": ""}


def timed(*args: str) -> tuple[float, float]:
    """Run ``m365audit args``; its wall seconds and peak RSS in MiB. A failure stops the benchmark."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "m365audit", *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    assert child.stderr is not None
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"m365audit {args[0]} failed ({code}): {err.decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


@stage("reports")
def run(size: Size) -> list[Row]:
    users = max(200, size.records // RECORDS_PER_USER)
    with TemporaryDirectory(prefix="m365audit-bench-") as work:
        db = Path(work) / "bench.duckdb"
        seconds, peak = timed("demo", "--users", str(users), "--days", "30", "--db", str(db),
                              "--out", str(Path(work) / "demo"))
        from m365audit.store.db import open_db

        with open_db(db, read_only=True) as con:
            row = con.execute("SELECT count(*) FROM copilot_interactions").fetchone()
        records = int(row[0]) if row else 0
        rows = [Row("reports", f"build: demo, {users:,} users x 30 days", records, seconds, peak,
                    db.stat().st_size / 2**20, "snapshot + audit ingestion + checks + report")]
        commands = {"check": ("check", "--format", "json"),
                    "report": ("report", "--out", str(Path(work) / "report")),
                    "foi": ("foi", "--format", "json")}
        for name, args in commands.items():
            seconds, peak = timed(*args, "--db", str(db))
            rows.append(Row("reports", f"{name} over the database", records, seconds, peak,
                            note=f"{name}{TARGETS[name]}"))
    return rows
