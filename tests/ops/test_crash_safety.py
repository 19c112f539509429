"""SIGKILL `m365audit run` at random points during collection, run it again: the same database.

Every collection step commits atomically and the next run resumes from what
was committed (the users delta link, the audit watermark), so a run killed
anywhere and run again ends with the database an uninterrupted run makes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator.http import Request, Response
from tests.conftest import ANCHOR
from tests.dbcompare import HISTORY_TABLES, SNAPSHOTS, public_views, snapshot_of
from tests.ops.runhelp import FAST, write_config

KILLED_DATABASES = 2
PHASES = (ANCHOR - timedelta(days=1), ANCHOR)


def _slow(request: Request) -> Response | None:
    time.sleep(0.08)  # widen the window between requests, where kills land
    return None


def _start(config: Path, now) -> subprocess.Popen[bytes]:
    env = {**os.environ, **FAST, "M365AUDIT_NOW": now.isoformat()}
    env.pop("M365AUDIT_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "m365audit", "run", "--config", str(config)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


def _finish(config: Path, now) -> float:
    started = time.monotonic()
    proc = _start(config, now)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    return time.monotonic() - started


def _requests(server) -> int:
    return sum(server.graph.requests.values())


def _kill_at(config: Path, now, delay: float, server=None, after_requests: int = 0) -> bool:
    """Start a run, SIGKILL it ``delay`` s after start (or after the tenant has answered
    ``after_requests`` requests: the loading window); True when it was still running."""
    start = _requests(server) if server else 0
    proc = _start(config, now)
    while server and _requests(server) - start < after_requests and proc.poll() is None:
        time.sleep(0.002)
    time.sleep(delay)
    if proc.poll() is not None:
        return False  # it finished first: not a kill, but the rerun below must still match
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    return True


def _state(db: Path) -> dict[str, list]:
    return snapshot_of(db, (*HISTORY_TABLES, SNAPSHOTS))


def _change(tenant: Tenant) -> None:
    tenant.override_user(11, display_name="Renamed", department="Legal Services")
    tenant.delete_user(12)
    tenant.add_user()


def test_kill_and_rerun_gives_the_uninterrupted_database(make_server, tmp_path) -> None:
    tenant = Tenant(TenantConfig(users=1500, seed=17, days=3, anchor=ANCHOR))
    server = make_server(tenant)
    server.graph.hooks.append(_slow)
    rng = random.Random(20261102)
    folders = [tmp_path / f"db{i}" for i in range(KILLED_DATABASES + 1)]
    configs = []
    for folder in folders:
        folder.mkdir()
        configs.append(write_config(folder, server.url, "[checks]\nenabled = false\n"))
    kills = 0
    for phase, now in enumerate(PHASES):
        before = _requests(server)
        duration = _finish(configs[0], now)  # the uninterrupted run
        answered = _requests(server) - before
        for config in configs[1:]:
            # Killed at a random moment, then once the last page is in (while it loads), then let finish.
            kills += _kill_at(config, now, rng.uniform(duration * 0.25, duration * 0.95))
            kills += _kill_at(config, now, rng.uniform(0, 0.4), server, answered)
            _finish(config, now)
            assert not (config.parent / ".audit.duckdb.spool").exists()
        if phase == 0:
            _change(tenant)
    assert kills >= 3 * KILLED_DATABASES // 2  # most kills landed while a run was working
    expected = _state(folders[0] / "audit.duckdb")
    assert "users" in public_views_of(folders[0] / "audit.duckdb")
    for folder in folders[1:]:
        assert _state(folder / "audit.duckdb") == expected, folder
        with duckdb.connect(str(folder / "audit.duckdb"), read_only=True) as con:
            statuses = dict(con.execute("SELECT status, count(*) FROM runs GROUP BY 1").fetchall())
        assert statuses.get("running", 0) == 0 and statuses["succeeded"] >= 2


def public_views_of(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return public_views(con)
