"""One demo database for the demo tests, built as a user builds it: `m365audit demo` in a subprocess, which
serves the simulated tenant over HTTP on loopback and collects it with the real collector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.conftest import run_cli

USERS, DAYS, SEED = 150, 30, 1


@dataclass(frozen=True)
class DemoRun:
    db: Path
    out: Path  # --out: last month's and today's check runs against the borough council's policy, and the reports
    stdout: str
    today: date  # the demo's day (UTC), read before and checked after it ran


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    # The demo's tenant is anchored on the wall clock's day: a demo that ran over midnight (UTC) is built
    # again, once, in a fresh folder, so a test run that starts just before midnight still knows its day.
    for attempt in range(2):
        folder = tmp_path_factory.mktemp(f"demo{attempt}")
        db, out = folder / "demo.duckdb", folder / "reports"
        before = datetime.now(UTC).date()
        result = run_cli("demo", "--users", str(USERS), "--days", str(DAYS), "--seed", str(SEED), "--db", str(db),
                         "--out", str(out), timeout=900)
        assert result.code == 0, result.stderr
        if datetime.now(UTC).date() == before:
            return DemoRun(db, out, result.stdout, before)
    raise AssertionError("the demo ran over midnight (UTC) twice")
