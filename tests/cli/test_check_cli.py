"""`m365audit check` as a user runs it: formats, exit codes, bad input, hostile tenant text."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.checks.conftest import template  # noqa: F401  (the compliant baseline database, shared)
from tests.checks.golden import CHECK_DATE, baseline_tenant, spare_seats, upn
from tests.conftest import assert_clean_failure, run_cli

POLICY = """\
[policy]
name = "CLI Test Council AI Policy"
reviewed_on = 2026-06-01

[licences]
copilot_groups = ["Copilot Licensed Staff", "Copilot Pilot - Finance"]
unassigned_seat_tolerance = {spare}

[usage]
training_group = "AI Trained Staff"
approved_ai_apps = ["ChatGPT Enterprise"]
prohibited_sites = ["https://example.sharepoint.com/sites/Safeguarding"]

[agents]
approved = ["HR Policy Helper"]

[labels]
restricted = ["Highly Confidential"]
{extra}"""
HOSTILE = '=HYPERLINK("http://evil.example","x") \x1b[2J [red]markup[/red] \u202eevil'


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:  # noqa: F811  (pytest injects the imported fixture)
    """The compliant baseline plus one jailbreak (high) and one poisoned file with a hostile name (high)."""
    path = tmp_path / "t.duckdb"
    shutil.copy(template, path)
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE copilot_message_facts SET jailbreak_detected = true "
                    "WHERE record_id = 'base-1' AND is_prompt")
        con.execute("INSERT INTO copilot_accessed_resource_facts (record_id, resource_id, resource_name, "
                    "resource_type, site_url, sensitivity_label_id, action, status, xpia_detected) "
                    "VALUES ('base-2', '', ?, 'docx', NULL, NULL, 'Read', 'Success', true)", [HOSTILE])
    return path


def _policy(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.format(spare=spare_seats(baseline_tenant()), extra=extra), encoding="utf-8")
    return path


def _check(db: Path, *args: str) -> object:
    return run_cli("check", "--db", str(db), "--check-date", CHECK_DATE.isoformat(), *args)


def test_json_has_the_documented_shape(db: Path, tmp_path: Path) -> None:
    result = _check(db, "--policy", str(_policy(tmp_path)), "--format", "json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out) == ["checked_at", "policy", "policy_file", "policy_sha256", "scope", "checks", "findings",
                         "fixed"]
    assert len(out["policy_sha256"]) == 64
    assert out["scope"] == "the whole tenant"
    assert out["checked_at"] == "2026-11-02T00:00:00+00:00"
    assert out["policy"] == "CLI Test Council AI Policy"
    assert len(out["checks"]) == 17
    assert all(list(c) == ["check_id", "title", "severity", "status", "failures", "reason"] for c in out["checks"])
    assert {c["check_id"]: c["status"] for c in out["checks"] if c["status"] != "pass"} == {
        "usage_no_jailbreak_attempts": "fail", "usage_no_prompt_injection": "fail"}
    assert out["findings"] == [
        {"check_id": "usage_no_jailbreak_attempts", "severity": "high", "subject": upn(baseline_tenant(), 1),
         "detail": out["findings"][0]["detail"], "excepted": False, "exception_reason": None,
         "exception_until": None, "change": "new"},
        {"check_id": "usage_no_prompt_injection", "severity": "high", "subject": HOSTILE,
         "detail": out["findings"][1]["detail"], "excepted": False, "exception_reason": None,
         "exception_until": None, "change": "new"},
    ]
    assert out["fixed"] == []


def test_exit_code_follows_fail_on_and_ignores_excepted_findings(db: Path, tmp_path: Path) -> None:
    policy = str(_policy(tmp_path))
    assert _check(db, "--policy", policy, "--fail-on", "high", "--format", "json").code == 1
    assert _check(db, "--policy", policy, "--fail-on", "critical", "--format", "json").code == 0
    assert _check(db, "--policy", policy, "--format", "json").code == 0
    excepted = _policy(tmp_path, extra=f"""
[[exceptions]]
check = "usage_no_jailbreak_attempts"
subject = "{upn(baseline_tenant(), 1)}"
reason = "Authorised red-team test"

[[exceptions]]
check = "usage_no_prompt_injection"
subject = "another file"
reason = "an exception for another subject does not apply"
""")
    result = _check(db, "--policy", str(excepted), "--fail-on", "high", "--format", "json")
    assert result.code == 1  # the injection finding is not excepted
    flags = {f["check_id"]: (f["excepted"], f["exception_reason"]) for f in json.loads(result.stdout)["findings"]}
    assert flags == {"usage_no_jailbreak_attempts": (True, "Authorised red-team test"),
                     "usage_no_prompt_injection": (False, None)}


def test_csv_shows_muted_findings_with_reason_and_end_date(db: Path, tmp_path: Path) -> None:
    muted = _policy(tmp_path, extra=f"""
[[exceptions]]
check = "usage_no_jailbreak_attempts"
subject = "{upn(baseline_tenant(), 1)}"
reason = "Authorised red-team test"
until = 2026-12-31
""")
    result = _check(db, "--policy", str(muted), "--format", "csv")
    assert result.code == 0, result.stderr
    rows = {r["check_id"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    jailbreak = rows["usage_no_jailbreak_attempts"]
    assert (jailbreak["excepted"], jailbreak["exception_reason"], jailbreak["exception_until"]) == (
        "true", "Authorised red-team test", "2026-12-31")
    assert rows["usage_no_prompt_injection"]["exception_until"] == ""
    assert jailbreak["policy"].startswith(f"CLI Test Council AI Policy ({muted}, SHA-256 ")
    table = _check(db, "--policy", str(muted))
    assert "muted:" in table.stdout and "red-team" in table.stdout


def test_csv_neutralises_formulas(db: Path, tmp_path: Path) -> None:
    result = _check(db, "--policy", str(_policy(tmp_path)), "--format", "csv")
    assert result.code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 17  # fifteen passing checks, two findings
    poisoned = next(r for r in rows if r["check_id"] == "usage_no_prompt_injection")
    assert poisoned["subject"] == "'" + HOSTILE.replace("\u202e", "")  # direction overrides are dropped
    assert all(not (v or "").startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    assert {r["status"] for r in rows} == {"pass", "fail"}


def test_table_shows_new_open_and_fixed_and_prints_tenant_text_inert(db: Path, tmp_path: Path) -> None:
    policy = str(_policy(tmp_path))
    first = _check(db, "--policy", policy)
    assert first.code == 0, first.stderr
    assert "\x1b" not in first.stdout and "\u202e" not in first.stdout
    assert "[red]markup[/red]" in first.stdout
    assert first.stdout.count("NEW") == 2
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE copilot_message_facts SET jailbreak_detected = false")
    second = _check(db, "--policy", policy)
    assert "NEW" not in second.stdout and "open" in second.stdout
    assert "Fixed since the last run" in second.stdout
    assert "usage_no_jailbreak_attempts │ " + upn(baseline_tenant(), 1) in second.stdout
    assert "1 finding (0 new, 0 muted); 1 fixed since the last run." in second.stdout


@pytest.mark.parametrize(("args", "fragments"), [
    (("--format", "xml"), ("--format 'xml' is not one of table, json, csv",)),
    (("--fail-on", "severe"), ("--fail-on 'severe' is not one of low, medium, high, critical",)),
    (("--check-date", "yesterday"), ("--check-date 'yesterday' is not an ISO date",)),
])
def test_bad_options_exit_2(db: Path, args: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    assert_clean_failure(run_cli("check", "--db", str(db), *args), 2, *fragments)


@pytest.mark.parametrize(("extra", "fragments"), [
    ("max_unlabelled_share = 1.5\n", ("policy.toml, line 19: labels.max_unlabelled_share must be between 0 and 1",)),
    ('[[exceptions]]\ncheck = "usage_no_jailbreaks"\nsubject = "x"\nreason = "y"\n',
     ("line 20: exceptions.check 'usage_no_jailbreaks' is not a known check "
      "(did you mean usage_no_jailbreak_attempts?)",)),
])
def test_bad_policy_exits_2_and_stores_nothing(db: Path, tmp_path: Path, extra: str,
                                               fragments: tuple[str, ...]) -> None:
    result = _check(db, "--policy", str(_policy(tmp_path, extra=extra)))
    assert_clean_failure(result, 2, *fragments)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM check_runs").fetchone() == (0,)


def test_missing_database_is_not_created(tmp_path: Path) -> None:
    result = run_cli("check", "--db", str(tmp_path / "none.duckdb"))
    assert_clean_failure(result, 2, "No database at")
    assert not (tmp_path / "none.duckdb").exists()
