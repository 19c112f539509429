"""Stage reports: all checks, the HTML report, the FOI answer and the nightly run over one database.

The database is built by ``m365audit demo`` (licence snapshot plus 30 days of
simulated activity, about 23 CopilotInteraction records per user); then each
command runs as its own ``m365audit`` child process, timed with its peak
memory and CPU time from ``os.wait4``, exactly as a user would run it. Last,
``m365audit run`` collects the same tenant one night later (bench/nightly.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.stages import Row, Size, stage

RECORDS_PER_USER = 23  # CopilotInteraction records per user in 30 days, at the default rates
DAYS, SEED = 30, 1  # of the demo; the nightly run serves the same tenant a day later
TARGETS = {"check": " (target < 10 s at 5M)", "report": " (target < 20 s at 5M)", "foi": ""}


@dataclass(frozen=True)
class Timed:
    seconds: float  # wall time
    peak_rss_mib: float
    cpu_seconds: float  # user + system time of the child: its own work, not waiting
    stderr: str


def timed(*args: str, env: dict[str, str] | None = None) -> Timed:
    """Run ``m365audit args`` and measure it. A failure stops the benchmark."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "m365audit", *args], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env)
    assert child.stderr is not None
    err = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"m365audit {args[0]} failed ({code}): {err[-2000:]}")
    return Timed(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, err)  # KiB on Linux


def today() -> datetime:
    """The demo tenant's anchor: today at midnight UTC (simulator.tenant._today)."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def build(work: Path, db: Path, users: int) -> tuple[Timed, datetime]:
    """``m365audit demo`` into ``db``, and the day its tenant was anchored on.

    The tenant's day is the wall clock's (simulator.tenant._today), so a demo that ran
    across midnight UTC has an unknown anchor: it is built again, once.
    """
    for _ in range(2):
        for leftover in (db, Path(f"{db}.wal")):
            leftover.unlink(missing_ok=True)
        anchor = today()
        # --no-history: one collection, as before the demo gained monthly history (a month's collection
        # of a million-user tenant each would swamp what this stage measures).
        built = timed("demo", "--users", str(users), "--days", str(DAYS), "--seed", str(SEED), "--db", str(db),
                      "--out", str(work / "demo"), "--replace", "--no-history")
        if today() == anchor:
            return built, anchor
    raise RuntimeError("the demo ran across midnight UTC twice, so its tenant's day is unknown; run again")


@stage("reports")
def run(size: Size) -> list[Row]:
    from bench.nightly import nightly

    users = max(200, size.records // RECORDS_PER_USER)
    with TemporaryDirectory(prefix="m365audit-bench-") as work:
        db = Path(work) / "bench.duckdb"
        built, anchor = build(Path(work), db, users)
        from m365audit.store.db import open_db

        with open_db(db, read_only=True) as con:
            row = con.execute("SELECT count(*) FROM copilot_interactions").fetchone()
        records = int(row[0]) if row else 0
        rows = [Row("reports", f"build: demo, {users:,} users x {DAYS} days", records, built.seconds,
                    built.peak_rss_mib, db.stat().st_size / 2**20, "snapshot + audit ingestion + checks + report")]
        commands = {"check": ("check", "--format", "json"),
                    "report": ("report", "--out", str(Path(work) / "report")),
                    "foi": ("foi", "--format", "json")}
        for name, args in commands.items():
            result = timed(*args, "--db", str(db))
            rows.append(Row("reports", f"{name} over the database", records, result.seconds, result.peak_rss_mib,
                            note=f"{name}, CPU {result.cpu_seconds:.1f}s{TARGETS[name]}"))
        rows.append(nightly(Path(work), db, users, anchor))
    return rows
