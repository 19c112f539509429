"""The compliance section: absent check results say so; stored ones show by clause, new and fixed."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from markupsafe import escape

from m365audit.checks.catalogue import check_ids, load_catalogue
from m365audit.checks.runner import check_database
from m365audit.policy import Policy, load_policy
from m365audit.report.compliance import check_info
from m365audit.report.manager import write_reports
from tests.report.conftest import read_csv
from tests.report.tenant_data import ANCHOR

SEATS = "licence_copilot_seats_used"
TRAINED = "usage_copilot_users_trained"
REVIEW = "policy_reviewed_within_cycle"
UNTIL = "2026-12-31"


def add_findings(db: Path, subjects: dict[str, str], policy: Policy) -> None:
    """Two stored check runs, written to the tables behind the `findings` view as `m365audit check` leaves them."""
    first, second = ANCHOR - timedelta(days=1), ANCHOR
    rows = [
        ("check-1", first, SEATS, "medium", "fail", subjects["a"], "idle 40 days", False, None, None, "new"),
        ("check-1", first, SEATS, "medium", "fail", subjects["b"], "idle 35 days", False, None, None, "new"),
        ("check-1", first, TRAINED, "high", "fail", subjects["c"], f"{subjects['c']} is not in AI Trained Staff",
         False, None, None, "new"),
        ("check-1", first, REVIEW, "low", "pass", None, None, False),
        ("check-2", second, SEATS, "medium", "fail", subjects["a"], "idle 41 days", False, None, None, "open"),
        ("check-2", second, SEATS, "medium", "fail", subjects["d"], "idle 31 days", True, "On long leave", UNTIL,
         "new"),
        ("check-2", second, TRAINED, "high", "not_checked", None, "training group not found", False),
        ("check-2", second, REVIEW, "low", "pass", None, None, False),
    ]
    with duckdb.connect(str(db)) as con:
        for seq, (run_id, checked_at) in enumerate((("check-1", first), ("check-2", second)), 1):
            con.execute("INSERT INTO check_runs VALUES (?, ?, ?, ?, 'Test policy', ?, NULL, 'test', NULL, ?)",
                        [run_id, seq, checked_at, checked_at, policy.source, policy.sha256])
        con.executemany("INSERT INTO check_findings BY NAME SELECT unnest(?) AS run_id, unnest(?) AS check_id, "
                        "unnest(?) AS severity, unnest(?) AS status, unnest(?) AS subject, unnest(?) AS detail, "
                        "unnest(?) AS excepted, unnest(?) AS exception_reason, unnest(?)::DATE AS exception_until, "
                        "unnest(?) AS change",
                        [[[(r + (None, None, None))[i] for r in rows] for i in (0, 2, 3, 4, 5, 6, 7, 8, 9, 10)]])


@pytest.fixture(scope="module")
def checked_db(report_db, policy, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    db = tmp_path_factory.mktemp("checked") / "checked.duckdb"
    shutil.copy(report_db, db)
    with duckdb.connect(str(db), read_only=True) as con:
        upns = [r[0] for r in con.execute(
            "SELECT user_principal_name FROM users ORDER BY user_principal_name LIMIT 4").fetchall()]
    subjects = dict(zip("abcd", upns, strict=True))
    add_findings(db, subjects, policy)
    return db, subjects


def test_without_check_results_or_a_policy_compliance_says_not_checked(report_db, tmp_path) -> None:
    out = tmp_path / "r"
    write_reports(db=report_db, out=out, formats="html,csv")
    html = (out / "copilot-report.html").read_text(encoding="utf-8")
    assert "Compliance was not checked" in html
    assert read_csv(out / "csv" / "compliance_checks.csv") == []
    provenance = {r["source"]: r for r in read_csv(out / "csv" / "provenance.csv")}
    assert provenance["Policy checks (m365audit check)"]["status"] == "not checked"


def test_a_report_with_a_policy_and_no_stored_run_checks_that_policy(report_dir, policy) -> None:
    html = (report_dir / "copilot-report.html").read_text(encoding="utf-8")
    assert f"Results of the policy AI policy ({policy.source}, SHA-256 {policy.sha256[:12]})" in html
    assert "checked when this report was made" in html
    assert len(read_csv(report_dir / "csv" / "compliance_checks.csv")) == len(load_catalogue())


def test_checks_by_clause_and_changes_since_last_run(checked_db, policy, tmp_path) -> None:
    db, subjects = checked_db
    write_reports(db=db, out=tmp_path / "r", formats="csv", policy=policy)
    checks = {r["check_id"]: r for r in read_csv(tmp_path / "r" / "csv" / "compliance_checks.csv")}
    assert {k: (v["status"], v["open_findings"], v["excepted"]) for k, v in checks.items()} == {
        SEATS: ("fail", "1", "1"), TRAINED: ("not checked", "0", "0"), REVIEW: ("pass", "0", "0")}
    changes = {(r["change"], r["subject"]) for r in read_csv(tmp_path / "r" / "csv" / "compliance_changes.csv")}
    # d is new (excepted, still listed); b is fixed; c is not fixed because its check could not run.
    assert changes == {("new", subjects["d"]), ("fixed", subjects["b"])}


def test_pseudonyms_agree_across_tables(checked_db, policy, tmp_path, monkeypatch) -> None:
    db, subjects = checked_db
    monkeypatch.setenv("M365AUDIT_PSEUDONYM_KEY", "a-test-key-of-enough-length")
    write_reports(db=db, out=tmp_path / "r", formats="csv", policy=policy, pseudonymise=True)
    changes = read_csv(tmp_path / "r" / "csv" / "compliance_changes.csv")
    assert not {r["subject"] for r in changes} & set(subjects.values())
    from m365audit.report.pseudonym import Pseudonymiser

    pseudonym = Pseudonymiser(b"a-test-key-of-enough-length").pseudonym
    assert {r["subject"] for r in changes} == {pseudonym(subjects["d"]), pseudonym(subjects["b"])}


def test_open_muted_and_fixed_findings_are_listed_with_evidence_and_since(checked_db, policy, tmp_path) -> None:
    db, subjects = checked_db
    write_reports(db=db, out=tmp_path / "r", formats="csv,html", policy=policy)
    rows = read_csv(tmp_path / "r" / "csv" / "compliance_findings.csv")
    got = [(r["check_id"], r["state"], r["change"], r["subject"], r["detail"], r["since"], r["muted_reason"],
            r["muted_until"]) for r in rows]
    first, second = f"{ANCHOR - timedelta(days=1):%Y-%m-%d}", f"{ANCHOR:%Y-%m-%d}"
    assert got == [
        (SEATS, "open", "open", subjects["a"], "idle 41 days", first, "", ""),
        (SEATS, "muted", "new", subjects["d"], "idle 31 days", second, "On long leave", UNTIL),
        (SEATS, "fixed", "fixed", subjects["b"], "no longer found", first, "", ""),
    ]
    html = (tmp_path / "r" / "copilot-report.html").read_text(encoding="utf-8")
    seats = next(c for c in load_catalogue() if c.id == SEATS)
    assert escape(seats.remediation) in html and "What to do." in html
    assert "On long leave" in html and UNTIL in html
    assert "from the latest stored `m365audit check` run" in html


def test_a_report_shows_the_results_of_the_policy_it_names(report_db, policy_file, tmp_path) -> None:
    """`report --policy B` after `check --policy A`: B's results, named by B's file and hash, never A's."""
    db = tmp_path / "t.duckdb"
    shutil.copy(report_db, db)
    a = load_policy(policy_file, check_ids())
    stored = check_database(db, a, ANCHOR)
    failing = next(f for f in stored.findings if f.check_id == SEATS)
    b_file = tmp_path / "b.toml"
    b_file.write_text(policy_file.read_text(encoding="utf-8") + f"""
[[exceptions]]
check = "{SEATS}"
subject = "{failing.subject}"
reason = "Seconded to the NHS trust"
until = 2099-03-31
""", encoding="utf-8")
    b = load_policy(b_file, check_ids())
    write_reports(db=db, out=tmp_path / "b", formats="csv,html", policy=b)
    html = (tmp_path / "b" / "copilot-report.html").read_text(encoding="utf-8")
    assert f"({b_file}, SHA-256 {b.sha256[:12]})" in html and a.sha256[:12] not in html
    muted = [r for r in read_csv(tmp_path / "b" / "csv" / "compliance_findings.csv") if r["state"] == "muted"]
    assert [(r["subject"], r["muted_reason"], r["muted_until"]) for r in muted] == [
        (failing.subject, "Seconded to the NHS trust", "2099-03-31")]
    write_reports(db=db, out=tmp_path / "a", formats="html", policy=a)
    html = (tmp_path / "a" / "copilot-report.html").read_text(encoding="utf-8")
    assert f"({policy_file}, SHA-256 {a.sha256[:12]}), from the latest stored" in html


def test_titles_and_clauses_come_from_the_check_catalogue() -> None:
    info = {check_id: (title, clause) for check_id, title, clause, _ in check_info()}
    assert info["licence_copilot_only_members"] == (
        "Only members of the organisation hold Copilot seats (no guests)",
        "Copilot is for the organisation's own staff (every policy; no key to set)")
    assert len(info) == 17
