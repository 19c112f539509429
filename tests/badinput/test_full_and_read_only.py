"""Issue 19 item 8: a full disk, a read-only file system and a lock path that cannot be a lock file are
each one sentence naming the path and the cause, exit 2, with nothing half-written.

Full and read-only file systems are small tmpfs mounts, which need root (CAP_SYS_ADMIN); where mounting
is not permitted those tests are skipped with the reason. chmod cannot stand in: root ignores it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.badinput.fixtures import RECORD, purview_export, tables_digest
from tests.conftest import assert_clean_failure, run_cli


def _mount(folder: Path, options: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}): needs root")


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    mounted: list[Path] = []
    yield mounted
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _small_fs(mounts: list[Path], folder: Path, size: str, read_only: bool = False) -> Path:
    _mount(folder, f"size={size}" + (",ro" if read_only else ""))
    mounts.append(folder)
    return folder


def _fill(folder: Path, leave: int) -> None:
    """Leave ``leave`` bytes free on the file system holding ``folder``."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with (folder / "filler").open("wb") as f:
        os.posix_fallocate(f.fileno(), 0, max(free - leave, 0))


def test_a_database_on_a_full_disk_names_the_disk_not_a_rollback(tmp_path, mounts) -> None:
    fs = _small_fs(mounts, tmp_path / "full", "8m")
    db = fs / "i.duckdb"
    assert run_cli("import", "purview-audit", str(purview_export(tmp_path / "one.csv")), "--db", str(db)).code == 0
    before = tables_digest(db)
    big = purview_export(tmp_path / "big.csv", [{**RECORD, "Id": f"id-{i}", "CopilotEventData": {
        "AppHost": "Word", "Messages": [{"Id": str(i), "isPrompt": True}] * 20}} for i in range(3000)])
    _fill(fs, 64 * 1024)
    result = run_cli("import", "purview-audit", str(big), "--db", str(db))
    assert_clean_failure(result, 2, f"Cannot write the database {db}: the disk is full")
    assert "rollback" not in result.stderr
    (fs / "filler").unlink()
    assert tables_digest(db) == before


def test_report_and_foi_on_a_full_disk(base_db, tmp_path, mounts) -> None:
    fs = _small_fs(mounts, tmp_path / "full", "1m")
    _fill(fs, 16 * 1024)
    result = run_cli("report", "--db", str(base_db), "--out", str(fs / "r"))
    assert_clean_failure(result, 2, f"Cannot write the reports to {fs / 'r'}: the disk is full")
    result = run_cli("foi", "--db", str(base_db), "--out", str(fs / "a.docx"), "--format", "docx")
    assert_clean_failure(result, 2, f"Cannot write --out {fs / 'a.docx'}: the disk is full")
    result = run_cli("export", "parquet", str(fs / "e"), "--db", str(base_db))
    assert_clean_failure(result, 2, "the disk is full")
    assert sorted(p.name for p in fs.iterdir()) == ["filler"]


def test_foi_and_report_on_a_read_only_file_system(base_db, tmp_path, mounts) -> None:
    fs = _small_fs(mounts, tmp_path / "ro", "1m", read_only=True)
    result = run_cli("foi", "--db", str(base_db), "--out", str(fs / "a.md"))
    assert_clean_failure(result, 2, f"Cannot write --out {fs / 'a.md'}: the file system is read-only")
    result = run_cli("report", "--db", str(base_db), "--out", str(fs / "r"))
    assert_clean_failure(result, 2, f"Cannot write the reports to {fs / 'r'}: the file system is read-only")


def test_a_lock_file_that_cannot_be_created(tmp_path, mounts) -> None:
    fs = _small_fs(mounts, tmp_path / "ro", "1m", read_only=True)
    export = purview_export(tmp_path / "e.csv")
    result = run_cli("import", "purview-audit", str(export), "--db", str(fs / "i.duckdb"))
    assert_clean_failure(result, 2, f"Cannot create the lock file {fs / 'i.duckdb.lock'}",
                         "the file system is read-only")


def test_a_lock_path_that_is_a_folder_or_a_link(tmp_path) -> None:
    export = purview_export(tmp_path / "e.csv")
    (tmp_path / "i.duckdb.lock").mkdir()
    result = run_cli("import", "purview-audit", str(export), "--db", str(tmp_path / "i.duckdb"))
    assert_clean_failure(result, 2, f"Cannot create the lock file {tmp_path / 'i.duckdb.lock'}", "it is a folder")
    assert not (tmp_path / "i.duckdb").exists()
    (tmp_path / "i.duckdb.lock").rmdir()
    (tmp_path / "victim").write_text("keep", encoding="utf-8")
    (tmp_path / "i.duckdb.lock").symlink_to(tmp_path / "victim")
    result = run_cli("import", "purview-audit", str(export), "--db", str(tmp_path / "i.duckdb"))
    assert_clean_failure(result, 2, "it is a symbolic link")
    assert (tmp_path / "victim").read_text(encoding="utf-8") == "keep"
