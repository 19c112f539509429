"""Running a benchmark step in a child process and measuring it.

The child prints one JSON line last; it includes the child's own peak resident
memory and CPU time (user plus system, every thread) from
``resource.getrusage(RUSAGE_SELF)`` (``peak_rss_mib``, ``cpu_seconds``), so the
figures are the child's alone, whatever else the parent ran before.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class ChildResult:
    output: dict[str, Any]
    seconds: float  # wall time of the whole child, start-up included

    @property
    def peak_rss_mib(self) -> float:
        return float(self.output["peak_rss_mib"])


def run_child(module: str, *args: str) -> ChildResult:
    """Run ``python -m module args``; its last stdout line is a JSON result."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, env=dict(os.environ))
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{module} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-3000:]}")
    lines = [line for line in proc.stdout.decode().splitlines() if line.strip()]
    return ChildResult(json.loads(lines[-1]), seconds)


def finish(result: dict[str, Any]) -> None:
    """Print the child's result with its peak memory (the child's last act)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mib"] = usage.ru_maxrss / 1024
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime  # every thread of the child, DuckDB's included
    print(json.dumps(result), flush=True)
