"""Progress of long work through the CLI, against the simulated tenant over HTTP.

Off a terminal, progress is JSON lines on stderr (stdout keeps the results); on
a pseudo-terminal it is rich bars that are cleared when the work ends.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from m365audit.collect.audit_settings import AuditSettings
from m365audit.collect.graph import RetryPolicy
from m365audit.collect.runner import CollectOptions, collect
from m365audit.demo import _DemoCredential
from m365audit.progress import INTERVAL, JsonLines, Progress
from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator.behaviour import ApiBehaviour
from m365audit.simulator.history import history_dates
from tests.conftest import ANCHOR, ANCHOR_CLOCK, assert_clean_failure, progress_lines, run_cli, without_progress
from tests.store.purview_files import write_export

ENV = {"M365AUDIT_TOKEN": "t0ken", "M365AUDIT_AUDIT_POLL_SECONDS": "0.01", "M365AUDIT_MAX_ATTEMPTS": "2",
       "M365AUDIT_RETRY_BASE_DELAY": "0.01", **ANCHOR_CLOCK}
START = ANCHOR - timedelta(days=3)


def _tenant(limit: int = 1_000_000) -> Tenant:
    # A query over more than ``limit`` records is split in two: several windows, as on a busy tenant.
    return Tenant(TenantConfig(users=300, seed=4, days=3, anchor=ANCHOR, api=ApiBehaviour(audit_record_limit=limit)))


def _collect(server, db, *more: str, env: dict[str, str] | None = None):
    return run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token",
                   "--since", START.isoformat(), "--until", ANCHOR.isoformat(), *more, env={**ENV, **(env or {})})


def _one(db, sql: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute(sql).fetchone()[0])


def test_collect_off_a_terminal_writes_json_progress_per_source_and_window(make_server, tmp_path) -> None:
    db = tmp_path / "c.duckdb"
    result = _collect(make_server(_tenant(limit=60)), db)
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    lines = progress_lines(result.stderr)
    assert without_progress(result.stderr)[0].startswith("Collected run ")
    assert all(line["command"] == "collect" and line["elapsed_s"] >= 0 for line in lines)
    sources = {line["source"]: line for line in lines if line["task"] == line["source"]}
    assert list(sources) == ["licences", "audit", "usage", "labels"]
    assert {line["status"] for line in sources.values()} == {"done"}
    stored = _one(db, "SELECT count(*) FROM audit_records")
    windows = [line for line in lines if "window" in line and line["status"] != "running"]
    landed = [line for line in windows if line["status"] == "done"]
    assert {line["status"] for line in windows} == {"done", "split"}
    # The windows that landed cover the three days without a gap, and their records are what was stored.
    edges = sorted(tuple(line["window"].split("/")) for line in landed)
    assert edges[0][0] == "2026-10-30T00:00:00Z" and edges[-1][1] == "2026-11-02T00:00:00Z"
    assert all(a[1] == b[0] for a, b in zip(edges, edges[1:], strict=False))
    assert sum(line["records"] for line in landed) == stored > 60
    audit = sources["audit"]
    assert audit["records"] == audit["counts"]["new"] == audit["counts"]["received"] == stored
    # One window planned; each split made one window two.
    assert audit["windows_landed"] == audit["windows"] == len(landed) == 1 + audit["counts"]["slices_split"] > 2
    licences = sources["licences"]
    assert licences["counts"]["users"] == _one(db, "SELECT count(*) FROM users") == 300
    users = next(line for line in lines if line["task"] == "users" and line["status"] == "done")
    assert users["records"] == 300 and users["source"] == "licences"
    assert sources["usage"]["counts"]["rows"] == _one(db, "SELECT count(*) FROM usage_report_rows")


def test_progress_off_and_a_bad_mode(make_server, tmp_path) -> None:
    server = make_server(_tenant())
    quiet = _collect(server, tmp_path / "a.duckdb", "--only", "licences", "--progress", "off")
    assert quiet.code == 0, quiet.stderr
    assert progress_lines(quiet.stderr) == [] and len(without_progress(quiet.stderr)) == 1
    by_env = _collect(server, tmp_path / "b.duckdb", "--only", "licences", env={"M365AUDIT_PROGRESS": "off"})
    assert by_env.code == 0 and progress_lines(by_env.stderr) == []
    bad = _collect(server, tmp_path / "c.duckdb", "--progress", "loud")
    assert_clean_failure(bad, 2, "--progress 'loud' must be one of auto, bars, json, off.")
    assert not (tmp_path / "c.duckdb").exists()


def test_collect_progress_is_rate_limited_on_the_injected_clock(make_server, tmp_path) -> None:
    server = make_server(_tenant(limit=60))
    ticks = [0.0]

    def clock() -> float:  # every reading is a second later: many updates, few lines
        ticks[0] += 1.0
        return ticks[0]

    lines: list[dict] = []
    options = CollectOptions(db=tmp_path / "c.duckdb", graph_url=server.url, credential=_DemoCredential(),
                             only=("licences", "audit"), since=START, until=ANCHOR,
                             policy=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
                             audit=AuditSettings(poll_initial=0.01, poll_max=0.02))
    collect(options, Progress("collect", JsonLines("collect", lines.append), clock))
    running: dict[tuple, list[float]] = {}
    for line in lines:
        key = (line["task"], line.get("source"), line.get("window"))
        if line["status"] == "running":
            running.setdefault(key, []).append(line["elapsed_s"])
    assert running, lines  # long tasks did show they were alive
    for times in running.values():
        assert all(b - a >= INTERVAL for a, b in zip(times, times[1:], strict=False)), times
        assert times[0] >= INTERVAL
    finals = [line for line in lines if line["status"] != "running"]
    assert len(finals) == len({(line["task"], line.get("source"), line.get("window")) for line in finals})


def test_collect_on_a_terminal_draws_bars_that_stop(make_server, tmp_path) -> None:
    server = make_server(_tenant())
    leader, follower = pty.openpty()
    env = {**os.environ, **ENV, "COLUMNS": "120", "TERM": "xterm"}
    env.pop("M365AUDIT_PROGRESS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "m365audit", "collect", "--db", str(tmp_path / "t.duckdb"), "--graph-url", server.url,
         "--auth", "token", "--since", START.isoformat(), "--until", ANCHOR.isoformat()],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command has ended
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    assert proc.stdout is not None and proc.stdout.read() == b""
    text = drawn.decode("utf-8", "replace")
    assert "━" in text and "licences" in text and '"event":"progress"' not in text
    # The bars are cleared before the summary: the summary is the last thing on the terminal.
    tail = text[text.rindex("Collected run "):]
    assert "━" not in tail


def test_import_and_report_show_json_progress_and_keep_stdout_for_results(make_server, tmp_path) -> None:
    tenant = _tenant()
    db = tmp_path / "r.duckdb"
    assert _collect(make_server(tenant), db, "--only", "licences").code == 0
    start, end = tenant.activity.window
    export = write_export(tmp_path / "export.csv", list(tenant.activity.records(start, end)))
    result = run_cli("import", "purview-audit", str(export), "--db", str(db), "--format", "json")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    final = progress_lines(result.stderr)[-1]
    assert final["command"] == "import" and final["file"] == "export.csv" and final["status"] == "done"
    assert final["steps"] == final["total"] == 3
    assert final["imported"] == summary["imported"] == _one(db, "SELECT count(*) FROM audit_records") > 0
    assert final["rows"] == summary["imported"] + summary["already_present"] + summary["skipped_rows"]

    report = run_cli("report", "--db", str(db), "--out", str(tmp_path / "out"), "--format", "html,csv")
    assert report.code == 0, report.stderr
    assert [line for line in report.stdout.splitlines() if not line.startswith(str(tmp_path / "out"))] == []
    last = progress_lines(report.stderr)[-1]
    assert (last["command"], last["task"], last["status"]) == ("report", "report", "done")
    assert last["steps"] == last["total"] > 2 and last["doing"] == "Writing CSV files"


@pytest.mark.parametrize("out", [False, True])
def test_demo_shows_its_phases(tmp_path, out) -> None:
    extra = ("--out", str(tmp_path / "demo-report")) if out else ()
    result = run_cli("demo", "--users", "60", "--days", "2", "--db", str(tmp_path / "d.duckdb"), *extra,
                     env={"M365AUDIT_PROGRESS": "json"})
    assert result.code == 0, result.stderr
    lines = progress_lines(result.stderr)
    demo = lines[-1]
    phases = 4 if out else 3  # the tenant, the monthly licence snapshots, today's collection (, the reports)
    assert (demo["task"], demo["status"], demo["phases"], demo["total"]) == ("demo", "done", phases, phases)
    months = len(history_dates(datetime.now(UTC)))
    snapshots = [line for line in lines if line["task"] == "licence snapshots" and line["status"] == "done"]
    assert [(s["phase"], s["snapshots"], s["total"]) for s in snapshots] == [("history", months, months)]
    collected = {line["source"] for line in lines if line.get("phase") == "collect" and line["status"] == "done"}
    assert collected == {"licences", "audit", "usage", "labels"}
