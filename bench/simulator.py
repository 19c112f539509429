"""The simulated tenant in its own process, so its work does not count against the collector's.

``python -m bench.simulator --users N --days D --seed S`` prints one JSON line
(``url`` and the number of audit records it holds) and serves until killed.
With ``--demo`` it serves the tenant ``m365audit demo`` collects (plants and
all), and ``--extra-days N`` serves that tenant N nights later: the same
directory and records plus N new days of activity, whose record count it
prints as ``extra_records``; ``--port`` serves it where the demo's tenant was,
so the users delta link stored by the demo still works.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

ANCHOR = datetime(2026, 11, 2, tzinfo=UTC)  # fixed, so every run benchmarks the same records


@contextmanager
def simulator(users: int, days: int, seed: int = 1, *extra: str) -> Iterator[dict[str, Any]]:
    """The tenant served by a child process; ``extra``: more arguments (--demo, --anchor, ...)."""
    proc = subprocess.Popen([sys.executable, "-m", "bench.simulator", "--users", str(users), "--days", str(days),
                             "--seed", str(seed), *extra], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulated tenant did not start")
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    from datetime import timedelta

    from m365audit.simulator import SimulatorServer, Tenant, TenantConfig
    from m365audit.simulator.planted import demo_tenant

    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--days", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--demo", action="store_true", help="the tenant `m365audit demo` collects")
    parser.add_argument("--anchor", type=datetime.fromisoformat, default=ANCHOR, help="the tenant's today")
    parser.add_argument("--extra-days", type=int, default=0, help="serve the tenant this many nights later")
    parser.add_argument("--types", default="CopilotInteraction", help="record types to count, comma-separated")
    parser.add_argument("--port", type=int, default=0, help="listen here if free (else on any free port)")
    args = parser.parse_args()
    if args.demo:
        tenant = demo_tenant(args.users, args.days, args.seed, args.anchor, extra_days=args.extra_days)
    else:
        tenant = Tenant(TenantConfig(users=args.users, days=args.days, seed=args.seed, anchor=args.anchor,
                                     extra_days=args.extra_days))
    start, end = tenant.activity.window
    types = args.types.split(",")
    new_from = end - timedelta(days=args.extra_days)
    try:
        server = SimulatorServer(tenant, port=args.port)
    except OSError:  # taken since: the caller sees the port in the url
        server = SimulatorServer(tenant)
    print(json.dumps({"url": server.url, "records": tenant.activity.count(start, end, types),
                      "extra_records": tenant.activity.count(new_from, end, types),
                      "since": start.isoformat(), "until": end.isoformat()}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
