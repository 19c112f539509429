"""The simulated tenant in its own process, so its work does not count against the collector's.

``python -m bench.simulator --users N --days D --seed S`` prints one JSON line
(``url`` and the number of audit records it holds) and serves until killed.
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
def simulator(users: int, days: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    proc = subprocess.Popen([sys.executable, "-m", "bench.simulator", "--users", str(users), "--days", str(days),
                             "--seed", str(seed)], stdout=subprocess.PIPE, text=True)
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
    from m365audit.simulator import SimulatorServer, Tenant, TenantConfig

    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--days", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    tenant = Tenant(TenantConfig(users=args.users, days=args.days, seed=args.seed, anchor=ANCHOR))
    start, end = tenant.activity.window
    records = tenant.activity.count(start, end, ["CopilotInteraction"])
    server = SimulatorServer(tenant)
    print(json.dumps({"url": server.url, "records": records, "since": start.isoformat(),
                      "until": end.isoformat()}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
