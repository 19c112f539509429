"""Issue 19 item 7: the audit window stays within what the audit log holds; a check date far outside
the data is refused before it becomes the stored baseline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from m365audit.collect.window import check_window, retention_days
from m365audit.errors import UsageError
from tests.badinput.fixtures import copy_database, tables_digest
from tests.conftest import ANCHOR, assert_clean_failure, run_cli

NOW = ANCHOR.isoformat()  # M365AUDIT_NOW pins the clock the window is judged by


def _collect(tmp_path, *args: str, env: dict[str, str] | None = None):
    return run_cli("collect", "--db", str(tmp_path / "c.duckdb"), "--graph-url", "http://127.0.0.1:9/v1.0",
                   "--auth", "token", "--only", "audit", *args,
                   env={"M365AUDIT_TOKEN": "t", "M365AUDIT_NOW": NOW, **(env or {})})


@pytest.mark.parametrize("args,message", [
    (("--since", "1900-01-01"), "--since 1900-01-01 is more than 180 days ago"),
    (("--since", "0001-01-01"), "--since 0001-01-01 is more than 180 days ago"),
    (("--until", "9999-12-31"), "--until 9999-12-31 00:00 UTC is in the future"),
    (("--since", "0001-01-01T00:00+01:00"), "is not an ISO date"),
    (("--since", (ANCHOR - timedelta(days=181)).date().isoformat()), "more than 180 days ago"),
    (("--since", (ANCHOR - timedelta(days=400)).date().isoformat(), "--audit-retention-days", "365"),
     "more than 365 days ago"),
    (("--audit-retention-days", "0"), "between 1 and 3650 days"),
    (("--audit-retention-days", "9223372036854775807"), "between 1 and 3650 days"),
])
def test_collect_refuses_a_window_the_audit_log_cannot_hold(tmp_path, args, message) -> None:
    assert_clean_failure(_collect(tmp_path, *args), 2, message)
    assert not (tmp_path / "c.duckdb").exists()


def test_premium_retention_lets_the_window_reach_further(monkeypatch) -> None:
    since = ANCHOR - timedelta(days=300)
    with pytest.raises(UsageError, match="more than 180 days ago"):
        check_window(since, None, ANCHOR, retention_days())
    monkeypatch.setenv("M365AUDIT_AUDIT_RETENTION_DAYS", "365")
    check_window(since, None, ANCHOR, retention_days())  # accepted
    assert retention_days(3650) == 3650


def test_config_first_run_beyond_retention_fails_run_and_doctor(tmp_path) -> None:
    config = tmp_path / "m365audit.toml"
    config.write_text('[database]\npath = "x.duckdb"\n[audit]\nfirst_run_days = 365\n', encoding="utf-8")
    for command in ("run", "doctor"):
        assert_clean_failure(run_cli(command, "--config", str(config)), 2, "first_run_days (365) reaches further")
    config.write_text('[database]\npath = "x.duckdb"\n[audit]\nfirst_run_days = 365\nretention_days = 400\n',
                      encoding="utf-8")
    assert "first_run_days" not in run_cli("doctor", "--config", str(config)).stdout


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1990-06-01"])
def test_a_check_date_far_outside_the_data_is_refused(base_db, tmp_path, day) -> None:
    db = copy_database(base_db, tmp_path)
    before = tables_digest(db)
    result = run_cli("check", "--db", str(db), "--check-date", day)
    assert_clean_failure(result, 2, f"--check-date {day} is far outside the data")
    assert tables_digest(db) == before


def test_a_check_date_within_a_year_of_the_data_is_used(base_db, tmp_path) -> None:
    db = copy_database(base_db, tmp_path)
    ahead = (datetime.now(UTC) + timedelta(days=300)).date().isoformat()
    assert run_cli("check", "--db", str(db), "--check-date", ahead).code == 0
