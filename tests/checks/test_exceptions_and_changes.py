"""Exceptions from the policy file, and findings compared with the previous run (new, open, fixed)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from m365audit.checks.runner import check_database
from m365audit.policy import Policy, PolicyException
from m365audit.store.db import open_db
from tests.checks.golden import ANCHOR, CHECK_DATE, baseline_policy, baseline_tenant, upn

JAILBREAK = "usage_no_jailbreak_attempts"
REVIEW = "policy_reviewed_within_cycle"


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    """The baseline with two jailbreak findings (users 1 and 2)."""
    path = tmp_path / "t.duckdb"
    shutil.copy(template, path)
    with open_db(path) as con:
        con.execute("UPDATE copilot_message_facts SET jailbreak_detected = true "
                    "WHERE record_id IN ('base-1', 'base-2') AND is_prompt")
    return path


def _policy(*exceptions: PolicyException, **changes: object) -> Policy:
    return replace(baseline_policy(baseline_tenant()), exceptions=exceptions, **changes)  # type: ignore[arg-type]


def _jailbreak(run):  # type: ignore[no-untyped-def]
    return next(r for r in run.results if r.check.id == JAILBREAK)


def test_excepted_finding_still_appears_but_does_not_fail(db: Path) -> None:
    one, two = upn(baseline_tenant(), 1), upn(baseline_tenant(), 2)
    run = check_database(db, _policy(PolicyException(JAILBREAK, one.upper(), "Red-team exercise", CHECK_DATE)),
                         ANCHOR)
    result = _jailbreak(run)
    assert {(f.subject, f.excepted, f.exception_reason) for f in result.findings} == {
        (one.lower(), True, "Red-team exercise"), (two.lower(), False, None)}
    assert (result.status, result.failures) == ("fail", 1)


def test_all_findings_excepted_means_pass_with_a_reason(db: Path) -> None:
    t = baseline_tenant()
    run = check_database(db, _policy(PolicyException(JAILBREAK, upn(t, 1), "test"),
                                     PolicyException(JAILBREAK, upn(t, 2), "test")), ANCHOR)
    result = _jailbreak(run)
    assert (result.status, result.failures, len(result.findings)) == ("pass", 0, 2)
    assert result.reason == "2 findings excepted by the policy file"


def test_expired_exception_stops_applying(db: Path) -> None:
    one = upn(baseline_tenant(), 1)
    ended = CHECK_DATE - timedelta(days=1)
    run = check_database(db, _policy(PolicyException(JAILBREAK, one, "Red-team exercise", ended)), ANCHOR)
    finding = next(f for f in _jailbreak(run).findings if f.subject == one.lower())
    assert not finding.excepted
    assert finding.detail is not None and finding.detail.endswith(f"; the policy's exception ended on {ended}")


def test_later_runs_say_what_is_new_open_and_fixed(db: Path) -> None:
    t = baseline_tenant()
    one, two, three = (upn(t, i).lower() for i in (1, 2, 3))
    first = check_database(db, _policy(), ANCHOR)
    assert {(f.subject, f.change) for f in first.findings} == {(one, "new"), (two, "new")}
    with open_db(db) as con:
        con.execute("UPDATE copilot_message_facts SET jailbreak_detected = (record_id IN ('base-2', 'base-3')) "
                    "WHERE is_prompt")
    second = check_database(db, _policy(), ANCHOR)
    assert {(f.subject, f.change) for f in second.findings} == {(two, "open"), (three, "new")}
    assert second.fixed == ((JAILBREAK, one),)
    with open_db(db, read_only=True) as con:
        rows = con.execute("SELECT run_id, check_id, status, subject FROM findings WHERE status <> 'pass'").fetchall()
    assert sorted(rows) == sorted([(first.run_id, JAILBREAK, "fail", one), (first.run_id, JAILBREAK, "fail", two),
                                   (second.run_id, JAILBREAK, "fail", two), (second.run_id, JAILBREAK, "fail", three)])


def test_a_check_that_could_not_run_fixes_nothing(db: Path) -> None:
    check_database(db, _policy(), ANCHOR)
    with open_db(db) as con:
        con.execute("DELETE FROM copilot_interaction_facts")
    later = check_database(db, _policy(), ANCHOR)
    assert _jailbreak(later).status == "not_checked"
    assert later.fixed == ()


def test_runs_are_compared_within_one_policy(db: Path) -> None:
    overdue = {"reviewed_on": date(2020, 1, 1)}
    check_database(db, _policy(**overdue), ANCHOR)
    other = check_database(db, _policy(name="Another policy"), ANCHOR)
    assert other.fixed == () and all(f.change == "new" for f in other.findings)
    again = check_database(db, _policy(), ANCHOR)
    assert again.fixed == ((REVIEW, "Golden Borough Council AI Policy"),)
    assert {f.change for f in again.findings} == {"open"}


def test_every_record_is_stored_with_its_status(db: Path) -> None:
    run = check_database(db, _policy(), ANCHOR)
    with open_db(db, read_only=True) as con:
        stored = con.execute("SELECT check_id, status, subject, detail FROM findings WHERE run_id = ? "
                             "ORDER BY check_id, subject", [run.run_id]).fetchall()
        runs = con.execute("SELECT policy_name, checked_at, counts->>'findings' FROM check_runs").fetchall()
    assert stored == sorted((r.check_id, r.status, r.subject, r.detail) for r in run.records)
    assert len(stored) == 18  # 16 checks pass (one row each), the jailbreak check has two findings
    assert runs == [("Golden Borough Council AI Policy", ANCHOR, "2")]


def test_a_database_from_before_the_findings_tables_is_upgraded(db: Path) -> None:
    with open_db(db) as con:
        con.execute("DROP VIEW findings; DROP TABLE check_findings; DROP TABLE check_runs; "
                    "DELETE FROM schema_migrations WHERE version IN (5, 55)")  # 055 amends those tables
    run = check_database(db, _policy(), ANCHOR)
    assert len(run.findings) == 2
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM findings WHERE status = 'fail'").fetchone() == (2,)


def test_an_exception_naming_an_agent_excepts_its_finding(db: Path) -> None:
    """Agents follow the same rules: the subject as the finding shows it (the agent's name), case-insensitive."""
    with open_db(db) as con:
        con.execute("UPDATE copilot_interaction_facts SET agent_name = 'Tenancy Fraud Checker', "
                    "agent_id = 'CopilotStudio.Declarative.T_77aa01' WHERE record_id = 'base-agent'")
    agents = "agents_approved"
    plain = next(r for r in check_database(db, _policy(), ANCHOR).results if r.check.id == agents)
    assert (plain.status, [f.subject for f in plain.findings]) == ("fail", ["Tenancy Fraud Checker"])
    excepted = check_database(db, _policy(PolicyException(agents, "tenancy fraud checker", "Pilot agreed by the DPO",
                                                           CHECK_DATE)), ANCHOR)
    result = next(r for r in excepted.results if r.check.id == agents)
    assert (result.status, [(f.excepted, f.exception_reason) for f in result.findings]) == (
        "pass", [(True, "Pilot agreed by the DPO")])
