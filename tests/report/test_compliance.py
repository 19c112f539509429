"""The compliance section: absent check results say so; stored ones show by clause, new and fixed."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from m365audit.report.compliance import check_info
from m365audit.report.manager import write_reports
from tests.report.conftest import read_csv
from tests.report.tenant_data import ANCHOR

SEATS = "licence_copilot_seats_used"
TRAINED = "usage_copilot_users_trained"
REVIEW = "policy_reviewed_within_cycle"


def add_findings(db: Path, subjects: dict[str, str]) -> None:
    """Two stored check runs, written to the tables behind the `findings` view as `m365audit check` leaves them."""
    first, second = ANCHOR - timedelta(days=1), ANCHOR
    rows = [
        ("check-1", first, SEATS, "medium", "fail", subjects["a"], "idle 40 days", False),
        ("check-1", first, SEATS, "medium", "fail", subjects["b"], "idle 35 days", False),
        ("check-1", first, TRAINED, "high", "fail", subjects["c"], f"{subjects['c']} is not in AI Trained Staff",
         False),
        ("check-1", first, REVIEW, "low", "pass", None, None, False),
        ("check-2", second, SEATS, "medium", "fail", subjects["a"], "idle 41 days", False),
        ("check-2", second, SEATS, "medium", "fail", subjects["d"], "idle 31 days", True),
        ("check-2", second, TRAINED, "high", "not_checked", None, "training group not found", False),
        ("check-2", second, REVIEW, "low", "pass", None, None, False),
    ]
    with duckdb.connect(str(db)) as con:
        for seq, (run_id, checked_at) in enumerate((("check-1", first), ("check-2", second)), 1):
            con.execute("INSERT INTO check_runs VALUES (?, ?, ?, ?, 'Test policy', NULL, NULL, 'test', NULL)",
                        [run_id, seq, checked_at, checked_at])
        con.executemany("INSERT INTO check_findings VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                        [(r[0], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows])


@pytest.fixture(scope="module")
def checked_db(report_db, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    db = tmp_path_factory.mktemp("checked") / "checked.duckdb"
    shutil.copy(report_db, db)
    with duckdb.connect(str(db), read_only=True) as con:
        upns = [r[0] for r in con.execute(
            "SELECT user_principal_name FROM users ORDER BY user_principal_name LIMIT 4").fetchall()]
    subjects = dict(zip("abcd", upns, strict=True))
    add_findings(db, subjects)
    return db, subjects


def test_without_check_results_compliance_says_not_checked(report_dir) -> None:
    html = (report_dir / "copilot-report.html").read_text(encoding="utf-8")
    assert "Compliance was not checked" in html
    assert read_csv(report_dir / "csv" / "compliance_checks.csv") == []
    provenance = {r["source"]: r for r in read_csv(report_dir / "csv" / "provenance.csv")}
    assert provenance["Policy checks (m365audit check)"]["status"] == "not checked"


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


def test_titles_and_clauses_come_from_the_check_catalogue() -> None:
    info = {check_id: (title, clause) for check_id, title, clause in check_info()}
    assert info["licence_copilot_only_members"] == (
        "Only members of the organisation hold Copilot seats (no guests)",
        "Copilot is for the organisation's own staff (every policy; no key to set)")
    assert len(info) == 17
