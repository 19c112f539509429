"""[audit] overlap_hours: one rule, end to end through `run --config`.

Audit records reach the log hours, sometimes days, after the activity, so each run re-reads
``overlap_hours`` before its watermark. Zero would lose every late record: the configuration
refuses it (the one validator of the audit settings; there is no second one in the collector)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import ANCHOR, assert_clean_failure, run_cli
from tests.ops.runhelp import FAST, run, steps, write_config


def test_overlap_hours_zero_is_refused_by_run_and_doctor(tmp_path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/v1.0", "overlap_hours = 0\n")
    line = config.read_text().splitlines().index("overlap_hours = 0") + 1
    for command in ("run", "doctor"):
        result = run_cli(command, "--config", str(config), env=FAST)
        assert_clean_failure(result, 2, f"{config}, line {line}: audit.overlap_hours must be a number above 0 "
                                        "and at most 744, not 0.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m365audit.toml"]  # nothing written


def test_the_configured_overlap_is_the_one_the_collector_re_reads(make_server, tmp_path) -> None:
    server = make_server(users=200)
    config = write_config(tmp_path, server.url, "overlap_hours = 6\n")
    first = run(config, env={"M365AUDIT_NOW": (ANCHOR - timedelta(days=1)).isoformat()})
    assert first.code == 0, first.stderr
    mark = datetime.fromisoformat(steps(first)["collect"]["counts"]["audit"]["watermark"])
    second = run(config, env={"M365AUDIT_NOW": ANCHOR.isoformat()})
    assert second.code == 0, second.stderr
    audit = steps(second)["collect"]["counts"]["audit"]
    assert datetime.fromisoformat(audit["window_start"]) == mark - timedelta(hours=6)  # the default is 48
