"""Helpers for running `m365audit run` against a simulated tenant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import CliResult, run_cli

FAST = {"M365AUDIT_MAX_ATTEMPTS": "4", "M365AUDIT_RETRY_BASE_DELAY": "0.01", "M365AUDIT_TOKEN": "t0ken-for-tests"}


def write_config(folder: Path, graph_url: str, extra: str = "", name: str = "m365audit.toml") -> Path:
    path = folder / name
    path.write_text(f"""\
[tenant]
name = "Example Borough Council"
graph_url = "{graph_url}"
auth = "token"

[database]
path = "audit.duckdb"

[report]
folder = "reports"

# Against the simulator: a short first window and quick polls keep tests fast.
[audit]
first_run_days = 3
poll_initial = 0.05
poll_max = 0.2
{extra}""")
    return path


def run(config: Path, env: dict[str, str] | None = None, timeout: float = 300) -> CliResult:
    return run_cli("run", "--config", str(config), env={**FAST, **(env or {})}, timeout=timeout)


def log_lines(result: CliResult) -> list[dict[str, Any]]:
    """The JSON lines on stderr (every line must be one)."""
    return [json.loads(line) for line in result.stderr.splitlines() if line.strip()]


def steps(result: CliResult) -> dict[str, dict[str, Any]]:
    return {line["step"]: line for line in log_lines(result) if line["event"] == "step"}
