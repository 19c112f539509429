"""Shared fixtures: simulated tenants on real sockets, and running the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from m365audit.collect.graph import RetryPolicy
from m365audit.collect.runner import CollectOptions, CollectResult, collect
from m365audit.demo import DEMO_TOKEN, _DemoCredential
from m365audit.simulator import SimulatorServer, Tenant, TenantConfig

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "samples"
ANCHOR = datetime(2026, 11, 2, tzinfo=UTC)  # a fixed "today" for the simulated tenant
# The clock of a `collect` over a tenant anchored on ANCHOR (M365AUDIT_NOW pins `collect`'s clock): its --since
# and --until are checked against the audit log's retention (180 days) from ANCHOR, not from the real date, so
# these tests do not age out half a year after ANCHOR.
ANCHOR_CLOCK = {"M365AUDIT_NOW": ANCHOR.isoformat()}


def samples_dir() -> Path:
    """../shared/samples; skipped where absent (a user's clone), a failure in CI (M365AUDIT_REQUIRE_SAMPLES)."""
    if not SAMPLES.is_dir():
        if os.environ.get("M365AUDIT_REQUIRE_SAMPLES"):
            pytest.fail(f"{SAMPLES} is required (M365AUDIT_REQUIRE_SAMPLES is set) but is not present")
        pytest.skip("../shared/samples is not present")
    return SAMPLES


@pytest.fixture
def make_server() -> Iterator[Callable[..., SimulatorServer]]:
    """Start simulated tenants; all are stopped at the end of the test."""
    servers: list[SimulatorServer] = []

    def start(tenant: Tenant | None = None, **config: Any) -> SimulatorServer:
        accepted = config.pop("accepted_tokens", None)
        if tenant is None:
            config.setdefault("anchor", ANCHOR)
            tenant = Tenant(TenantConfig(**config))
        server = SimulatorServer(tenant, accepted_tokens=accepted).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def fast_policy() -> RetryPolicy:
    return RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


def collect_from(server: SimulatorServer, db: Path, **options: Any) -> CollectResult:
    """Run the real collector (msgraph-sdk over a socket) against ``server``."""
    options.setdefault("only", ("licences",))
    options.setdefault("credential", _DemoCredential())
    options.setdefault("policy", fast_policy())
    return collect(CollectOptions(db=db, graph_url=server.url, **options))


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 300) -> CliResult:
    """Run `python -m m365audit ARGS` as a user would, in a subprocess."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("M365AUDIT_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "m365audit", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def progress_lines(stderr: str) -> list[dict[str, Any]]:
    """The JSON progress lines a command wrote on stderr (m365audit/progress.py)."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith('{"time"') and '"event":"progress"' in line]


def without_progress(stderr: str) -> list[str]:
    """stderr's lines apart from the progress lines: what the command says to its user."""
    return [line for line in stderr.strip().splitlines()
            if line.strip() and not (line.startswith('{"time"') and '"event":"progress"' in line)]


def assert_clean_failure(result: CliResult, code: int, *fragments: str) -> None:
    """One sentence on stderr (besides the progress lines), the expected exit code, and no traceback."""
    assert result.code == code, (result.code, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = without_progress(result.stderr)
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


__all__ = ["ANCHOR", "ANCHOR_CLOCK", "DEMO_TOKEN", "assert_clean_failure", "collect_from", "fast_policy", "progress_lines", "run_cli",
           "samples_dir", "without_progress"]


_HOLD_LOCK = ("import sys, time\n"
              "from m365audit.store.lock import writer_lock\n"
              "with writer_lock(sys.argv[1], 'run'):\n"
              "    print('ready', flush=True)\n"
              "    time.sleep(60)\n")


def hold_writer_lock(db: Path) -> subprocess.Popen[str]:
    """Another process holding ``db``'s writer lock (as a running `run` would); the caller kills it."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


@contextmanager
def writer_lock_held(db: Path) -> Iterator[subprocess.Popen[str]]:
    holder = hold_writer_lock(db)
    try:
        yield holder
    finally:
        holder.kill()
        holder.wait()


def closed_port() -> int:
    """A loopback port nothing listens on (free a moment ago)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def simulate_served(*args: str) -> Iterator[str]:
    """``m365audit simulate ARGS`` in its own process, as a user starts it; yields its Graph URL."""
    port = closed_port()
    proc = subprocess.Popen([sys.executable, "-m", "m365audit", "simulate", "--port", str(port), *args],
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert "Simulated tenant" in first, first + proc.stderr.read()
        yield f"http://127.0.0.1:{port}/v1.0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
