"""Benchmark: the licence snapshot of a simulated tenant, end to end.

For each size, a child process starts the simulated tenant on loopback and
runs the real collector against it (msgraph-sdk adapter, spooling, DuckDB
load) into a fresh database; simulator and collector share that process, as
in ``m365audit demo``. The parent reports wall time, users per second, the
child's peak resident memory (``os.wait4`` rusage) and the database size.

It is the ``licences`` stage of ``python -m bench`` (``--size`` picks the user
counts: smoke 2k, small 10k, medium 10k and 100k, large 10k, 100k and 1M), and
runs alone from the repository root:

    python -m bench.licences                      # 10k, 100k and 1M users
    python -m bench.licences --sizes 10000 --json # one size, machine-readable
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.stages import Row, Size, stage

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
REPO = Path(__file__).resolve().parent.parent  # the child runs ``-m bench.licences`` from here
USERS_BY_SIZE = {"smoke": (2_000,), "small": (10_000,), "medium": (10_000, 100_000), "large": DEFAULT_SIZES}


@stage("licences")
def run(size: Size) -> list[Row]:
    """The runner's stage: one row per user count, fetch/load/CPU split in the note."""
    users = size.extra.get("licence_users") or USERS_BY_SIZE.get(size.name, (10_000,))
    rows = []
    for count in users:
        r = measure(int(count))
        rows.append(Row("licences", f"snapshot {count:,} users", r.records, r.seconds, r.peak_rss_mib, r.db_mib,
                        f"fetch {r.fetch_seconds:.1f}s, load {r.load_seconds:.1f}s, CPU {r.cpu_seconds:.1f}s"
                        + (" (target < 180 s)" if count >= 1_000_000 else "")))
    return rows


@dataclass(frozen=True)
class StageResult:
    stage: str
    records: int
    seconds: float
    records_per_second: float
    peak_rss_mib: float
    db_mib: float
    cpu_seconds: float  # user + system time of the child: less sensitive than wall time to a busy machine
    fetch_seconds: float  # simulated Graph + collector, until every page is spooled
    load_seconds: float  # the DuckDB load, one transaction


def run_child(users: int, db: Path, seed: int) -> dict[str, float]:
    """Inside the child: simulate, collect, and report the collector's own figures."""
    from m365audit.collect.runner import CollectOptions, collect
    from m365audit.demo import _DemoCredential
    from m365audit.simulator import SimulatorServer, Tenant, TenantConfig

    started = time.perf_counter()
    with SimulatorServer(Tenant(TenantConfig(users=users, seed=seed))) as server:
        result = collect(CollectOptions(db=db, graph_url=server.url, credential=_DemoCredential(),
                                        only=("licences",)))
    counts = result.counts["licences"]
    return {"seconds": time.perf_counter() - started, "users": counts["users"],
            "fetch_seconds": counts["fetch_seconds"], "load_seconds": counts["load_seconds"]}


def measure(users: int, seed: int = 1) -> StageResult:
    """Run one size in a child process and collect its figures and rusage."""
    with tempfile.TemporaryDirectory(prefix="m365audit-bench-") as tmp:
        db = Path(tmp) / "bench.duckdb"
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.licences", "--child", str(users), "--db", str(db), "--seed", str(seed)],
            stdout=subprocess.PIPE, text=True, cwd=REPO)
        assert child.stdout is not None
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"licence benchmark at {users:,} users failed (exit {child.returncode})")
        figures = json.loads(output)
        # ru_maxrss is in KiB on Linux.
        return StageResult(f"licence snapshot {users:,} users", int(figures["users"]), figures["seconds"],
                           figures["users"] / figures["seconds"], usage.ru_maxrss / 1024,
                           db.stat().st_size / 2**20, usage.ru_utime + usage.ru_stime,
                           figures["fetch_seconds"], figures["load_seconds"])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {cpu}, {memory:.0f} GiB RAM, Python {platform.python_version()}"


def print_table(results: list[StageResult]) -> None:
    print(f"Machine: {machine()}; load average before: {os.getloadavg()[0]:.1f}")
    print("| stage | wall s | fetch s | load s | CPU s | users/s | peak RSS MiB | DB MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.stage} | {r.seconds:.1f} | {r.fetch_seconds:.1f} | {r.load_seconds:.1f} | {r.cpu_seconds:.1f} "
              f"| {r.records_per_second:,.0f} | {r.peak_rss_mib:,.0f} | {r.db_mib:.1f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the licence snapshot of a simulated tenant.")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated user counts (default: 10000,100000,1000000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(run_child(args.child, args.db, args.seed)))
        return 0
    results = [measure(int(size), args.seed) for size in args.sizes.split(",") if size.strip()]
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
