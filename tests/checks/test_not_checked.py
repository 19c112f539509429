"""A check whose data is missing reports not_checked with the reason, never pass."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from m365audit.simulator import catalogue as cat
from m365audit.store.db import open_db
from tests.checks.activity import add_usage_row
from tests.checks.golden import (
    ANCHOR,
    add_baseline_activity,
    baseline_policy,
    baseline_tenant,
    collect_tenant,
    outcome,
    run_all,
    upn,
)

AUDIT_CHECKS = {"labels_copilot_no_restricted_content", "labels_copilot_resources_labelled",
                "usage_copilot_not_on_prohibited_sites", "usage_no_jailbreak_attempts", "usage_no_prompt_injection",
                "agents_approved", "agents_no_restricted_content", "agents_not_on_prohibited_sites"}


@pytest.fixture(scope="module")
def licences_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("licences") / "licences.duckdb"
    collect_tenant(baseline_tenant(), db)
    return db


@pytest.fixture(scope="module")
def with_activity(licences_only: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("activity") / "activity.duckdb"
    shutil.copy(licences_only, db)
    with open_db(db) as con:
        add_baseline_activity(con, baseline_tenant())
    return db


def _copy(db: Path, tmp_path: Path) -> Path:
    shutil.copy(db, tmp_path / "t.duckdb")
    return tmp_path / "t.duckdb"


def _status(db: Path, check_id: str, **policy_changes: object) -> tuple[str, str | None]:
    policy = replace(baseline_policy(baseline_tenant()), **policy_changes)  # type: ignore[arg-type]
    result = next(r for r in run_all(db, policy).results if r.check.id == check_id)
    return result.status, result.reason


def test_without_activity_only_licence_and_policy_checks_run(licences_only: Path) -> None:
    found = outcome(run_all(licences_only, baseline_policy(baseline_tenant())))
    not_checked = {check_id for check_id, (status, _) in found.items() if status == "not_checked"}
    assert not_checked == AUDIT_CHECKS | {"licence_copilot_seats_used", "usage_ai_apps_approved"}
    assert all(status == "pass" for check_id, (status, _) in found.items() if check_id not in not_checked)
    assert "no Copilot audit records" in _status(licences_only, "usage_no_jailbreak_attempts")[1]
    assert "neither Copilot audit records nor a Copilot usage report" in _status(
        licences_only, "licence_copilot_seats_used")[1]
    assert "AIAppInteraction" in _status(licences_only, "usage_ai_apps_approved")[1]


@pytest.mark.parametrize(("concealed", "expected"), [(False, "pass"), (True, "not_checked")])
def test_seat_use_from_the_usage_report_alone(licences_only: Path, tmp_path: Path, concealed: bool,
                                              expected: str) -> None:
    db = _copy(licences_only, tmp_path)
    tenant = baseline_tenant()
    with open_db(db) as con:
        for i in range(5):
            name = "0123456789abcdef0123456789abcde" + str(i) if concealed else upn(tenant, i)
            add_usage_row(con, name, (ANCHOR - timedelta(days=3)).date(), refreshed=ANCHOR.date(),
                          concealed=concealed)
    status, reason = _status(db, "licence_copilot_seats_used")
    assert status == expected
    if concealed:
        assert "conceals user names" in (reason or "")


def test_training_group_members_not_collected(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    collect_tenant(baseline_tenant(), db, member_groups=[])
    status, reason = _status(db, "usage_copilot_users_trained")
    assert status == "not_checked"
    assert reason == ("training group 'AI Trained Staff' not found among the collected groups "
                      "(collect its members with `m365audit collect --group 'AI Trained Staff'`)")


@pytest.mark.parametrize(("check_id", "changes", "reason"), [
    ("usage_copilot_users_trained", {"training_group": None}, "the policy names no [usage] training_group"),
    ("usage_copilot_users_trained", {"training_group": "AI Trained Staf"},
     "training group 'AI Trained Staf' not found"),
    ("licence_copilot_assigned_by_group", {"copilot_groups": ()}, "the policy names no [licences] copilot_groups"),
    ("licence_copilot_assigned_by_group", {"copilot_groups": (cat.GROUP_COPILOT, "Copilot Users")},
     "copilot group 'Copilot Users' not found among the collected groups"),
    ("labels_copilot_no_restricted_content", {"restricted_labels": ("Highly Confidential", "Top Secret")},
     "restricted label 'Top Secret' not found in the collected sensitivity label catalogue"),
    ("labels_copilot_no_restricted_content", {"restricted_labels": ()}, "the policy names no [labels] restricted"),
    ("policy_reviewed_within_cycle", {"reviewed_on": None}, "the policy file gives no [policy] reviewed_on date"),
])
def test_policy_names_what_the_data_lacks(with_activity: Path, check_id: str, changes: dict[str, object],
                                          reason: str) -> None:
    status, why = _status(with_activity, check_id, **changes)
    assert status == "not_checked"
    assert (why or "").startswith(reason)


def test_label_catalogue_not_collected(with_activity: Path, tmp_path: Path) -> None:
    db = _copy(with_activity, tmp_path)
    with open_db(db) as con:
        con.execute("DELETE FROM sensitivity_label_versions")
    assert _status(db, "labels_copilot_no_restricted_content")[0] == "not_checked"


def test_no_licence_snapshot(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    with open_db(db):
        pass
    found = outcome(run_all(db, baseline_policy(baseline_tenant())))
    assert {c for c, (s, _) in found.items() if s != "not_checked"} == {"policy_reviewed_within_cycle"}
    assert _status(db, "licence_copilot_only_members")[1] == (
        "no licence snapshot has been collected (run `m365audit collect`)")
