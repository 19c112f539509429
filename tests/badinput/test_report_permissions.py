"""Issue 19 item 9: report files and folders are owner-only (0600 / 0700) wherever `report` writes them,
whatever the umask; before, only `run` (which sets the umask when it opens the database) did so."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.badinput.fixtures import copy_database
from tests.conftest import run_cli


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # a usual login umask: files 0644, folders 0755
    yield
    os.umask(previous)


def _modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode) for p in [folder, *folder.rglob("*")]}


def _owner_only(modes: dict[str, int]) -> None:
    wrong = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert not wrong, wrong


def test_report_into_a_new_and_an_existing_folder(base_db, tmp_path, open_umask) -> None:
    out = tmp_path / "reports"
    assert run_cli("report", "--db", str(base_db), "--out", str(out)).code == 0
    modes = _modes(out)
    assert modes["."] == 0o700 and modes["copilot-report.html"] == 0o600 and modes["csv"] == 0o700
    _owner_only(modes)
    assert run_cli("report", "--db", str(base_db), "--out", str(out), "--department", "Finance").code == 0
    _owner_only({k: v for k, v in _modes(out).items() if k != "."})
    own = tmp_path / "mine"
    own.mkdir(mode=0o755)
    assert run_cli("report", "--db", str(base_db), "--out", str(own), "--format", "csv,html").code == 0
    _owner_only({k: v for k, v in _modes(own).items() if k != "."})  # the user's own folder keeps its mode


def test_foi_out_and_reject_file_are_owner_only(base_db, tmp_path, open_umask) -> None:
    db = copy_database(base_db, tmp_path)
    answer = tmp_path / "answer.md"
    assert run_cli("foi", "--db", str(db), "--out", str(answer)).code == 0
    assert stat.S_IMODE(answer.stat().st_mode) == 0o600
