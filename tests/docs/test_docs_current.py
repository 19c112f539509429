"""Docs cannot fall behind silently: generated docs match, views match their docs, commands have help."""

from __future__ import annotations

import duckdb
import pytest

from m365audit.docgen import rendered_docs, view_docs
from m365audit.store.db import migrate
from tests.conftest import run_cli


@pytest.mark.parametrize("path", sorted(rendered_docs(), key=str), ids=lambda p: p.name)
def test_generated_docs_are_current(path) -> None:
    assert path.exists(), f"{path} is missing: run ./dev docs"
    assert path.read_text(encoding="utf-8") == rendered_docs()[path], f"{path} is stale: run ./dev docs"


def test_every_view_is_documented_with_its_exact_columns(tmp_path) -> None:
    with duckdb.connect(str(tmp_path / "x.duckdb")) as con:
        migrate(con)
        actual = {name: [c[0] for c in con.execute(f"DESCRIBE {name}").fetchall()]
                  for (name,) in con.execute(
                      "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'").fetchall()}
    documented = {v.name: [c for c, _ in v.columns] for v in view_docs()}
    assert actual == documented


def test_every_command_has_help() -> None:
    top = run_cli("--help")
    assert top.code == 0
    commands = [line.split()[1] for line in top.stdout.splitlines()
                if line.startswith("│ ") and len(line.split()) > 2 and line.split()[1].isalpha()]
    assert {"demo", "collect", "licences", "simulate"} <= set(commands)
    for command in commands:
        result = run_cli(command, "--help")
        assert result.code == 0, command
        assert len(result.stdout.strip().splitlines()) > 3, command
