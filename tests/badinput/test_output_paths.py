"""Issue 19 item 1: no command writes over the database, its WAL or lock, an input, a link's target,
a device, an existing file without --force, or a foreign or system folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.badinput.fixtures import copy_database, purview_export, tables_digest
from tests.conftest import assert_clean_failure, run_cli


@pytest.fixture
def db(base_db, tmp_path) -> Path:
    return copy_database(base_db, tmp_path)


def _unchanged(db: Path, before: dict[str, int], size: int) -> None:
    assert db.stat().st_size == size
    assert tables_digest(db) == before


@pytest.mark.parametrize("suffix,what", [("", "the database"), (".wal", "the database's write-ahead log"),
                                         (".lock", "the database's lock file")])
def test_foi_out_never_replaces_the_database_or_its_files(db, suffix, what) -> None:
    before, size = tables_digest(db), db.stat().st_size
    target = Path(str(db) + suffix)
    result = run_cli("foi", "--db", str(db), "--out", str(target), "--force")
    assert_clean_failure(result, 2, f"--out {target} is {what}")
    _unchanged(db, before, size)


def test_foi_out_refuses_the_policy_file_a_link_and_an_existing_file(db, tmp_path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('name = "p"\n', encoding="utf-8")
    result = run_cli("foi", "--db", str(db), "--policy", str(policy), "--out", str(policy), "--force")
    assert_clean_failure(result, 2, "is an input file of this command")
    assert policy.read_text(encoding="utf-8") == 'name = "p"\n'
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    link = tmp_path / "answer.md"
    link.symlink_to(victim)
    result = run_cli("foi", "--db", str(db), "--out", str(link), "--force")
    assert_clean_failure(result, 2, "is a symbolic link")
    assert victim.read_text(encoding="utf-8") == "keep" and link.is_symlink()
    result = run_cli("foi", "--db", str(db), "--out", str(victim))
    assert_clean_failure(result, 2, f"--out {victim} already exists; pass --force to replace it.")
    assert victim.read_text(encoding="utf-8") == "keep"
    assert run_cli("foi", "--db", str(db), "--out", str(victim), "--force").code == 0
    assert victim.read_text(encoding="utf-8").startswith("# Use of artificial intelligence")


def test_foi_out_never_replaces_a_device_node(db, tmp_path) -> None:
    result = run_cli("foi", "--db", str(db), "--out", "/dev/null", "--force")
    assert_clean_failure(result, 2, "--out /dev/null is a device, not a regular file")
    assert Path("/dev/null").is_char_device()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert_clean_failure(run_cli("foi", "--db", str(db), "--out", str(fifo), "--force"), 2, "is a pipe")


def test_reject_file_never_replaces_the_database_or_the_export(db, tmp_path) -> None:
    export = purview_export(tmp_path / "export.csv", ["{not json"])
    original = export.read_bytes()
    before, size = tables_digest(db), db.stat().st_size
    for target, what in ((db, "the database"), (export, "an input file of this command")):
        result = run_cli("import", "purview-audit", str(export), "--db", str(db), "--skip-bad-rows",
                         "--reject-file", str(target), "--force")
        assert_clean_failure(result, 2, f"--reject-file {target} is {what}")
    assert export.read_bytes() == original
    _unchanged(db, before, size)


def test_reject_file_replaces_its_own_earlier_file_but_not_another(db, tmp_path) -> None:
    export = purview_export(tmp_path / "export.csv", ["{not json"])
    rejects = tmp_path / "rejects.csv"
    args = ("import", "purview-audit", str(export), "--db", str(db), "--skip-bad-rows", "--reject-file", str(rejects))
    assert run_cli(*args).code == 0
    assert run_cli(*args).code == 0, "an earlier reject file is replaced without --force"
    other = tmp_path / "notes.csv"
    other.write_text("mine\n", encoding="utf-8")
    result = run_cli(*args[:-1], str(other))
    assert_clean_failure(result, 2, "already exists; pass --force")
    assert other.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize("folder", ["/", "/etc", "/usr/share", "/var", "/proc", "~"])
def test_report_refuses_system_folders(db, folder) -> None:
    target = str(Path(folder).expanduser())
    result = run_cli("report", "--db", str(db), "--out", target, "--format", "csv", "--replace")
    assert_clean_failure(result, 2, "system folder")


def test_report_rerun_on_its_own_folder_but_not_on_a_foreign_one(db, tmp_path) -> None:
    out = tmp_path / "reports"
    assert run_cli("report", "--db", str(db), "--out", str(out), "--format", "csv").code == 0
    assert (out / ".m365audit-output").is_file()
    assert run_cli("report", "--db", str(db), "--out", str(out), "--format", "csv").code == 0
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "budget.xlsx").write_bytes(b"mine")
    result = run_cli("report", "--db", str(db), "--out", str(foreign), "--format", "csv")
    assert_clean_failure(result, 2, "holds files m365audit did not write; pass --replace")
    assert sorted(p.name for p in foreign.iterdir()) == ["budget.xlsx"]
    assert run_cli("report", "--db", str(db), "--out", str(foreign), "--format", "csv", "--replace").code == 0
    assert (foreign / "budget.xlsx").read_bytes() == b"mine"


def test_report_never_replaces_a_linked_or_protected_entry(db, tmp_path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    victim = tmp_path / "victim.html"
    victim.write_text("keep", encoding="utf-8")
    (out / "copilot-report.html").symlink_to(victim)
    result = run_cli("report", "--db", str(db), "--out", str(out), "--format", "html", "--replace")
    assert_clean_failure(result, 2, "is a symbolic link")
    assert victim.read_text(encoding="utf-8") == "keep"


def test_export_replace_never_removes_the_folder_holding_the_database(db, tmp_path) -> None:
    before, size = tables_digest(db), db.stat().st_size
    result = run_cli("export", "parquet", str(tmp_path), "--db", str(db), "--replace")
    assert_clean_failure(result, 2, "is or holds the database")
    _unchanged(db, before, size)
    result = run_cli("export", "parquet", ".", "--db", str(db), "--replace", cwd=tmp_path)
    assert_clean_failure(result, 2, "is or holds the database")
    _unchanged(db, before, size)


def test_demo_out_refuses_a_foreign_folder(tmp_path) -> None:
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "letter.docx").write_bytes(b"mine")
    result = run_cli("demo", "--users", "50", "--days", "1", "--db", str(tmp_path / "d.duckdb"),
                     "--out", str(foreign))
    assert_clean_failure(result, 2, "holds files m365audit did not write")
    assert not (tmp_path / "d.duckdb").exists()
