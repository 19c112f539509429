"""The catalogue is validated at load, and every check has a header, golden tests and a line in docs/checks.md."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from m365audit.checks.catalogue import (
    FIELDS,
    CatalogueError,
    checks_dir,
    load_catalogue,
    parse_check,
    render_checks_doc,
)
from m365audit.checks.runner import _offending_rows
from m365audit.docgen import DOCS
from m365audit.policy import Policy
from m365audit.store.db import open_db
from tests.checks.golden import baseline_tenant
from tests.checks.test_golden import CASES

EXPECTED_CATALOGUE = {
    "licence_copilot_only_active_accounts", "licence_copilot_only_members", "licence_copilot_seats_used",
    "licence_copilot_assigned_by_group", "licence_assignment_no_errors", "licence_copilot_no_unassigned_seats",
    "usage_copilot_users_trained", "usage_ai_apps_approved", "usage_no_jailbreak_attempts",
    "usage_no_prompt_injection", "usage_copilot_not_on_prohibited_sites", "labels_copilot_no_restricted_content",
    "labels_copilot_resources_labelled", "policy_reviewed_within_cycle",
    "agents_approved", "agents_no_restricted_content", "agents_not_on_prohibited_sites",
}
GOOD = """\
-- id: sample_check
-- title: Nothing is wrong
-- severity: low
-- clause: [licences] inactive_after_days
-- rationale: Because it matters,
--   over two lines.
-- remediation: Owner: the licensing administrator. Remove the seat in the Microsoft 365 admin centre >
--   Users > Active users > the user > Licences and apps, and tell the person's manager.
-- reads: users
-- needs: licence_snapshot
SELECT user_principal_name AS subject, 'x' AS detail FROM users WHERE $inactive_after_days::INTEGER > 0
"""


def _write(tmp_path: Path, text: str, name: str = "sample_check.sql") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_catalogue_is_the_agreed_one() -> None:
    assert {c.id for c in load_catalogue()} == EXPECTED_CATALOGUE
    assert {p.stem for p in checks_dir().glob("*.sql")} == EXPECTED_CATALOGUE


def test_a_good_header_parses(tmp_path: Path) -> None:
    check = parse_check(_write(tmp_path, GOOD))
    assert (check.id, check.severity, check.reads, check.needs, check.params) == (
        "sample_check", "low", ("users",), ("licence_snapshot",), ("inactive_after_days",))
    assert check.rationale == "Because it matters, over two lines."
    assert check.remediation.startswith("Owner: the licensing administrator. Remove the seat")
    assert check.remediation.endswith("and tell the person's manager.")


@pytest.mark.parametrize(("remediation", "message"), [
    ("Remove the seat in the Microsoft 365 admin centre and tell the person's manager so they know why it went.",
     "must start with 'Owner: '"),
    ("Owner: IT. Fix it.", "the remediation is 18 characters"),
])
def test_a_remediation_names_its_owner_and_says_what_to_do(tmp_path: Path, remediation: str, message: str) -> None:
    lines = [line for line in GOOD.splitlines(keepends=True)
             if not line.startswith("-- remediation:") and "Users > Active users" not in line]
    text = "".join(lines).replace("-- reads:", f"-- remediation: {remediation}\n-- reads:")
    with pytest.raises(CatalogueError, match=message):
        parse_check(_write(tmp_path, text))


def test_every_shipped_check_has_a_remediation_naming_its_owner() -> None:
    for check in load_catalogue():
        assert check.remediation.startswith("Owner: ") and len(check.remediation) >= 120, check.id
        assert f"**To fix a failure.** {check.remediation}" in render_checks_doc(), check.id


@pytest.mark.parametrize("field", FIELDS)
def test_a_missing_header_field_is_refused(tmp_path: Path, field: str) -> None:
    text = "".join(line for line in GOOD.splitlines(keepends=True)
                   if not line.startswith(f"-- {field}:") and not (field == "rationale" and "over two" in line)
                   and not (field == "remediation" and "Users > Active users" in line))
    with pytest.raises(CatalogueError, match=f"lacks the '{field}' field"):
        parse_check(_write(tmp_path, text))


@pytest.mark.parametrize(("change", "message"), [
    (("-- id: sample_check", "-- id: other_check"), "id 'other_check' differs from the file name 'sample_check'"),
    (("severity: low", "severity: urgent"), "severity 'urgent' is not one of low, medium, high, critical"),
    (("-- needs: licence_snapshot", "-- needs: licence_snapshot\n-- owner: me"), "unknown header field 'owner'"),
    (("-- reads: users", "-- reads: users\n-- reads: skus"), "header field 'reads' given twice"),
    (("-- reads: users", "-- reads: user_versions"), "reads 'user_versions' is not known"),
    (("-- reads: users", "-- reads: users, skus"), "reads lists ['skus', 'users'] but the SQL reads ['users']"),
    (("FROM users", "FROM user_versions"), "reads lists ['users'] but the SQL reads ['user_versions']"),
    (("needs: licence_snapshot", "needs: audit_log"), "needs 'audit_log' is not known"),
    (("$inactive_after_days", "$inactive_days"), "parameter 'inactive_days' is not known"),
    (("-- clause:", "-- clause  :"), "not a header line"),
])
def test_a_malformed_header_is_refused(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(CatalogueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_check(_write(tmp_path, GOOD.replace(*change)))


def test_every_check_has_failing_golden_cases() -> None:
    tenant = baseline_tenant()
    failing = {case.check_id for case in CASES if case.expected(tenant)}
    covered = {case.check_id for case in CASES}
    assert covered == EXPECTED_CATALOGUE
    assert failing == EXPECTED_CATALOGUE


def test_every_check_has_a_section_in_the_checks_doc() -> None:
    text = (DOCS / "checks.md").read_text(encoding="utf-8")
    for check in load_catalogue():
        assert f"\n## `{check.id}`\n" in text, check.id
        assert f"| [`{check.id}`](#{check.id}) | {check.severity} | {check.title} |" in text, check.id


def test_every_check_runs_and_returns_subject_and_detail(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    with open_db(db):
        pass
    with open_db(db, read_only=True) as con:
        for check in load_catalogue():
            assert _offending_rows(con, check, Policy(), date(2026, 11, 2)) == [], check.id
