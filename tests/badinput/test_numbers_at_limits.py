"""Issue 19 item 6: nan, inf, 1e308, 2^63-1 and deep nesting in the policy and the configuration are
exit 2 with the file, line and key; doctor fails where run would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.badinput.fixtures import copy_database, tables_digest
from tests.conftest import assert_clean_failure, run_cli

HOSTILE = ["nan", "inf", "-inf", "1e308", "9223372036854775807", "-1"]


def _price(value: str) -> str:
    return f'[[costs.prices]]\nsku = "Microsoft_365_Copilot"\nmonthly_price = {value}\nfrom = 2024-01-01\n'


@pytest.mark.parametrize("value", HOSTILE)
def test_policy_numbers_are_range_checked(base_db, tmp_path, value) -> None:
    db = copy_database(base_db, tmp_path)
    before = tables_digest(db)
    cases = [(_price(value), "line 3: costs.prices.monthly_price must be a"),
             (f"[licences]\nunassigned_seat_tolerance = {value}\n", "line 2: licences.unassigned_seat_tolerance"),
             (f"[labels]\nmax_unlabelled_share = {value}\n", "line 2: labels.max_unlabelled_share")]
    for n, (text, message) in enumerate(cases):
        policy = tmp_path / "policy.toml"
        policy.write_text(text, encoding="utf-8")
        commands = (("check",), ("foi",), ("report", "--out", str(tmp_path / "r"))) if n == 0 else (("check",),)
        for command in commands:
            assert_clean_failure(run_cli(*command, "--db", str(db), "--policy", str(policy)), 2, message)
    assert tables_digest(db) == before and not (tmp_path / "r").exists()


def test_policy_dates_at_the_limits(base_db, tmp_path) -> None:
    db = copy_database(base_db, tmp_path)
    for text in ("[policy]\nreviewed_on = 9999-12-31\n", "[policy]\nreviewed_on = 0001-01-01\n",
                 _price("30").replace("2024-01-01", "9999-12-31")):
        policy = tmp_path / "policy.toml"
        policy.write_text(text, encoding="utf-8")
        assert_clean_failure(run_cli("check", "--db", str(db), "--policy", str(policy)), 2,
                             "must be between 2000-01-01 and 2099-12-31")


def test_toml_nested_5000_deep_is_refused(tmp_path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    for args in (("check", "--policy", str(deep)), ("run", "--config", str(deep)),
                 ("doctor", "--config", str(deep))):
        assert_clean_failure(run_cli(*args, "--db", str(tmp_path / "x.duckdb")), 2, "nested too deeply")


def _config(tmp_path: Path, audit: str) -> Path:
    config = tmp_path / "m365audit.toml"
    config.write_text(f'[database]\npath = "x.duckdb"\n[audit]\n{audit}\n', encoding="utf-8")
    return config


@pytest.mark.parametrize("key", ["poll_initial", "poll_max", "slice_hours", "query_timeout", "concurrency",
                                 "first_run_days"])
@pytest.mark.parametrize("value", ["nan", "1e308", "9223372036854775807"])
def test_config_numbers_fail_run_and_doctor_alike(tmp_path, key, value) -> None:
    config = _config(tmp_path, f"{key} = {value}")
    for command in ("run", "doctor"):
        result = run_cli(command, "--config", str(config))
        assert_clean_failure(result, 2, f"line 4: audit.{key} must be a")
    assert not (tmp_path / "x.duckdb").exists()


@pytest.mark.parametrize("env", [{"M365AUDIT_AUDIT_POLL_SECONDS": "nan"}, {"M365AUDIT_AUDIT_POLL_SECONDS": "x"},
                                 {"M365AUDIT_MEMORY_LIMIT": "lots"}])
def test_environment_overrides_fail_doctor_where_run_would(tmp_path, env) -> None:
    config = _config(tmp_path, "")
    codes = [run_cli(command, "--config", str(config), env=env) for command in ("run", "doctor")]
    for result in codes:
        assert_clean_failure(result, 2)
    # run logs the error as a JSON record off a terminal (docs/operations.md); doctor says the same sentence.
    assert "m365audit: " + json.loads(codes[0].stderr)["message"] == codes[1].stderr.strip()
