"""`m365audit run` end to end: steps, JSON logs, exit codes, the writer lock, no secrets anywhere."""

from __future__ import annotations

import io

import duckdb

from m365audit.ops.log import Redactor, RunLog
from m365audit.simulator.faults import deny_permissions
from tests.conftest import ANCHOR, closed_port, writer_lock_held
from tests.ops.runhelp import log_lines, run, steps, write_config


def test_nightly_run_logs_one_json_line_per_step(make_server, tmp_path) -> None:
    server = make_server(users=400)
    config = write_config(tmp_path, server.url, "[retention]\nraw_audit_days = 30\n")
    result = run(config, env={"M365AUDIT_NOW": ANCHOR.isoformat()})
    assert result.code == 0, result.stderr
    lines = log_lines(result)
    assert lines[0]["event"] == "run" and lines[0]["status"] == "started"
    assert lines[-1] == {**lines[-1], "event": "run", "status": "ok", "exit_code": 0}
    by_step = steps(result)
    assert list(by_step) == ["collect", "retention", "check", "report", "foi", "export", "email"]
    collect = by_step["collect"]
    assert collect["status"] == "ok" and collect["counts"]["licences"]["users"] == 400
    assert collect["seconds"] > 0 and {"time", "level"} <= set(collect)
    assert by_step["retention"]["counts"] == {"raw_audit_purged": 0}
    assert by_step["email"]["status"] == "skipped"
    with duckdb.connect(str(tmp_path / "audit.duckdb"), read_only=True) as con:
        assert con.execute("SELECT command, status FROM runs").fetchall() == [("run", "succeeded")]
        assert con.execute("SELECT max(taken_at) FROM snapshots").fetchone() == (ANCHOR,)


def test_failed_collection_exits_3_and_still_runs_the_other_steps(tmp_path) -> None:
    config = write_config(tmp_path, f"http://127.0.0.1:{closed_port()}/v1.0", "[collect]\nattempts = 2\n")
    result = run(config)
    assert result.code == 3
    lines = log_lines(result)
    retries = [line for line in lines if line["event"] == "retry"]
    assert len(retries) == 1 and retries[0]["attempt"] == 2
    by_step = steps(result)
    assert by_step["collect"]["status"] == "failed" and by_step["collect"]["level"] == "error"
    assert "connection refused" in by_step["collect"]["message"]
    assert by_step["retention"]["status"] == "skipped"
    assert lines[-1]["exit_code"] == 3 and lines[-1]["status"] == "failed"
    with duckdb.connect(str(tmp_path / "audit.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM snapshots").fetchone() == (0,)
        assert con.execute("SELECT DISTINCT status FROM runs").fetchall() == [("failed",)]


def test_missing_permission_is_named(make_server, tmp_path) -> None:
    server = make_server(users=50)
    server.graph.hooks.append(deny_permissions({"GroupMember.Read.All"}))
    result = run(write_config(tmp_path, server.url, "[collect]\nattempts = 1\n"))
    assert result.code == 3
    assert "GroupMember.Read.All" in steps(result)["collect"]["message"]


def test_no_secret_reaches_the_logs_or_the_database(make_server, tmp_path) -> None:
    secrets = {"AZURE_CLIENT_SECRET": "client-secret-value-0123", "M365AUDIT_TOKEN": "bearer-token-value-4567",
               "AZURE_CLIENT_CERTIFICATE_PASSWORD": "certificate-password-89ab"}
    server = make_server(users=60, accepted_tokens={secrets["M365AUDIT_TOKEN"]})
    config = write_config(tmp_path, server.url)
    result = run(config, env=secrets)
    assert result.code == 0, result.stderr
    refused = make_server(users=10, accepted_tokens={"another"})
    failed = run(write_config(tmp_path, refused.url, name="refused.toml"), env=secrets)
    assert failed.code == 3
    for value in secrets.values():
        assert value not in result.stderr + result.stdout + failed.stderr + failed.stdout
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert value.encode() not in path.read_bytes(), path


def test_redactor_and_human_lines() -> None:
    stream = io.StringIO()
    log = RunLog(stream, json_lines=False, redactor=Redactor())
    log.step("collect", "ok", 1.25, {"licences": {"users": 10, "full": True}})
    log.emit("log", level="warning", message="sent Authorization: Bearer abc.def.ghi to "
             "https://x/?sig=s3cr3t and eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc")
    text = stream.getvalue()
    assert text.splitlines()[0] == "collect    ok            1.2 s (licences.users=10, licences.full=True)"
    assert "abc.def.ghi" not in text and "s3cr3t" not in text and "eyJhbGci" not in text
    assert text.count("[redacted]") == 3


def test_second_run_stops_at_once_while_one_holds_the_lock(make_server, tmp_path) -> None:

    server = make_server(users=30)
    config = write_config(tmp_path, server.url)
    with writer_lock_held(tmp_path / "audit.duckdb") as holder:
        result = run(config)
        assert result.code == 2
        assert f"process {holder.pid}" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "audit.duckdb").exists()


def test_reports_go_to_a_dated_folder_and_old_ones_are_pruned(make_server, tmp_path) -> None:
    server = make_server(users=100)
    old = tmp_path / "reports" / "2026-01-31"
    old.mkdir(parents=True)
    (old / "copilot-report.html").write_text("an old report with names")
    keep = tmp_path / "reports" / "notes"  # not a dated folder: left alone
    keep.mkdir()
    config = write_config(tmp_path, server.url, "")
    config.write_text(config.read_text().replace('folder = "reports"', 'folder = "reports"\nkeep_days = 30'))
    result = run(config, env={"M365AUDIT_NOW": ANCHOR.isoformat()})
    assert result.code == 0, result.stderr
    report = steps(result)["report"]
    assert report["counts"]["pruned"] == 1 and report["counts"]["files"] == 3
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["2026-11-02", "notes"]
    assert (tmp_path / "reports" / "2026-11-02" / "copilot-report.xlsx").exists()
