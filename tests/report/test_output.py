"""Writing reports: all files or none, clear refusals, department reports, progress."""

from __future__ import annotations

import pytest

from m365audit.outputs import MARKER
from m365audit.report import xlsx
from m365audit.report.manager import FORMATS, STEPS, write_reports
from tests.conftest import assert_clean_failure, run_cli
from tests.report.conftest import read_csv


def explode(*args, **kwargs):
    raise RuntimeError("disk full, say")


def test_a_failed_report_leaves_no_folder_and_no_temporary_files(report_db, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(xlsx, "write_workbook", explode)
    with pytest.raises(RuntimeError):
        write_reports(db=report_db, out=tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_report_leaves_the_previous_one_untouched(report_db, tmp_path, monkeypatch) -> None:
    out = tmp_path / "out"
    write_reports(db=report_db, out=out, formats="html,csv")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    monkeypatch.setattr(xlsx, "write_workbook", explode)
    with pytest.raises(RuntimeError):
        write_reports(db=report_db, out=out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [MARKER]  # no temporary file


def test_a_new_report_replaces_its_own_files_only(report_db, tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "csv").mkdir()
    (out / "csv" / "stale.csv").write_text("old", encoding="utf-8")
    paths = write_reports(db=report_db, out=out, formats=["csv", "html"], replace=True)  # a foreign file: --replace
    assert [p.name for p in paths] == ["copilot-report.html", "csv"]
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (out / "csv" / "stale.csv").exists()
    assert (out / "csv" / "headline.csv").exists()
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "copilot-report.html", "csv", "notes.txt"]


def test_progress_reports_every_step(report_db, tmp_path) -> None:
    steps: list[str] = []
    write_reports(db=report_db, out=tmp_path / "out", progress=lambda label, n: steps.append(label))
    assert len(steps) == STEPS + len(FORMATS)
    assert steps[0] == "Preparing working tables" and steps[-1] == "Writing CSV files"


def test_department_report_covers_one_department(report_db, tmp_path, con) -> None:
    paths = write_reports(db=report_db, out=tmp_path / "out", formats="csv", department="FINANCE")
    assert [p.name for p in paths] == ["csv-finance"]
    departments = read_csv(paths[0] / "departments.csv")
    holders = con.execute("SELECT count(DISTINCT a.user_id) FROM licence_assignments a JOIN users u USING (user_id) "
                          "WHERE a.holds_copilot_seat AND u.department = 'Finance'").fetchone()[0]
    assert [(r["department"], int(r["licensed_users"])) for r in departments] == [("Finance", holders)]
    about = {r["item"]: r["value"] for r in read_csv(paths[0] / "about.csv")}
    assert about["Department"] == "Finance"


@pytest.mark.parametrize(("args", "fragments"), [
    (["--format", "html,pdf"], ["--format pdf is not a list of html, xlsx, csv"]),
    (["--department", "Ministry of Silly Walks"], ["No user is in department 'Ministry of Silly Walks'"]),
    (["--policy", "/nonexistent/policy.toml"], ["Policy file /nonexistent/policy.toml does not exist"]),
])
def test_bad_options_are_refused_before_anything_is_written(report_db, tmp_path, args, fragments) -> None:
    out = tmp_path / "out"
    result = run_cli("report", "--db", str(report_db), "--out", str(out), *args)
    assert_clean_failure(result, 2, *fragments)
    assert not out.exists()


def test_missing_database_and_file_as_folder_are_refused(report_db, tmp_path) -> None:
    result = run_cli("report", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "out"))
    assert_clean_failure(result, 2, "No database at")
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    result = run_cli("report", "--db", str(report_db), "--out", str(afile))
    assert result.code == 2 and "Traceback" not in result.stderr


def test_cli_prints_the_files_it_wrote(report_db, policy_file, tmp_path) -> None:
    out = tmp_path / "out"
    result = run_cli("report", "--db", str(report_db), "--out", str(out), "--policy", str(policy_file))
    assert result.code == 0, result.stderr
    assert result.stdout.split() == [str(out / "copilot-report.html"), str(out / "copilot-report.xlsx"),
                                     str(out / "csv")]


def test_figures_do_not_depend_on_the_machine_time_zone(report_db, policy_file, report_dir, tmp_path) -> None:
    out = tmp_path / "out"
    result = run_cli("report", "--db", str(report_db), "--out", str(out), "--format", "csv",
                     "--policy", str(policy_file), env={"TZ": "Pacific/Auckland"})
    assert result.code == 0, result.stderr
    for path in (report_dir / "csv").glob("*.csv"):
        if path.name != "about.csv":  # holds the time the report was made
            assert read_csv(out / "csv" / path.name) == read_csv(path), path.name
