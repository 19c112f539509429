"""`m365audit run` with JSON logs: every error is a JSON record, progress is logged per step."""

from __future__ import annotations

import io
import json

import pytest

from m365audit.ops.log import RunLog
from m365audit.ops.pipeline import run_logged
from tests.conftest import ANCHOR, run_cli, writer_lock_held
from tests.ops.runhelp import FAST, log_lines, run, steps, write_config


def _only_error(result) -> dict:
    """The run's one log line: a JSON error record."""
    lines = log_lines(result)  # every line must be JSON
    assert len(lines) == 1, result.stderr
    assert {"time", "level", "event", "status", "exit_code", "message"} <= set(lines[0])
    assert (lines[0]["level"], lines[0]["event"], lines[0]["status"]) == ("error", "run", "failed")
    return lines[0]


def test_a_missing_configuration_is_a_json_error_record(tmp_path) -> None:
    result = run_cli("run", cwd=tmp_path, env=FAST)
    assert result.code == 2
    record = _only_error(result)
    assert record["exit_code"] == 2 and "m365audit.toml does not exist" in record["message"]


def test_a_bad_clock_and_a_bad_progress_mode_are_json_error_records(make_server, tmp_path) -> None:
    config = write_config(tmp_path, make_server(users=30).url)
    clock = run(config, env={"M365AUDIT_NOW": "yesterday"})
    assert clock.code == 2 and "M365AUDIT_NOW 'yesterday' is not an ISO date" in _only_error(clock)["message"]
    mode = run_cli("run", "--config", str(config), "--progress", "loud", env=FAST)
    assert mode.code == 2 and "--progress 'loud' must be one of" in _only_error(mode)["message"]
    assert not (tmp_path / "audit.duckdb").exists()


def test_another_run_holding_the_lock_is_a_json_error_record(make_server, tmp_path) -> None:
    config = write_config(tmp_path, make_server(users=30).url)
    with writer_lock_held(tmp_path / "audit.duckdb") as holder:
        result = run(config)
    assert result.code == 2
    assert f"process {holder.pid}" in _only_error(result)["message"]


@pytest.mark.parametrize(("error", "code", "message"), [
    (RuntimeError("boom"), 4, "internal error (RuntimeError: boom)"),
    (KeyboardInterrupt(), 130, "interrupted"),
])
def test_unexpected_errors_are_json_error_records(error, code, message) -> None:
    stream = io.StringIO()

    def load():
        raise error

    assert run_logged(load, RunLog(stream, json_lines=True), progress="off") == code
    record = json.loads(stream.getvalue())
    assert (record["level"], record["exit_code"]) == ("error", code) and record["message"].startswith(message)


def test_on_a_terminal_errors_stay_one_sentence() -> None:
    from m365audit.errors import UsageError

    def load():
        raise UsageError("The configuration is missing.")

    stream = io.StringIO()
    with pytest.raises(UsageError):  # cli/app.py prints it as every command's errors are printed
        run_logged(load, RunLog(stream, json_lines=False), progress="off")
    assert stream.getvalue() == ""


def test_run_logs_progress_per_step_and_ends_with_its_own_line(make_server, tmp_path) -> None:
    config = write_config(tmp_path, make_server(users=300).url)
    result = run(config, env={"M365AUDIT_NOW": ANCHOR.isoformat()})
    assert result.code == 0, result.stderr
    lines = log_lines(result)
    progress = [line for line in lines if line["event"] == "progress"]
    assert {line["level"] for line in progress} == {"info"}
    assert all(line["command"] == "run" for line in progress)
    collected = {line["source"]: line for line in progress if line.get("step") == "collect"
                 and line["task"] == line.get("source")}
    assert list(collected) == ["licences", "audit", "usage", "labels"]
    assert collected["licences"]["counts"]["users"] == steps(result)["collect"]["counts"]["licences"]["users"] == 300
    report = [line for line in progress if line.get("step") == "report" and line["task"] == "report"]
    assert report[-1]["status"] == "done" and report[-1]["steps"] == report[-1]["total"]
    whole = [line for line in progress if line["task"] == "run"]
    assert whole[-1]["status"] == "done" and whole[-1]["steps"] == whole[-1]["total"] == len(steps(result))
    assert lines[-1]["event"] == "run" and lines[-1]["exit_code"] == 0
