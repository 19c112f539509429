"""Issue 19 item 2: another program's database given as --db is refused, unchanged, by every command;
DuckDB never loads or installs an extension; m365audit's own databases (old and new) are recognised."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from m365audit.errors import DatabaseError
from m365audit.store.db import open_db
from tests.badinput.fixtures import copy_database, purview_export
from tests.conftest import assert_clean_failure, run_cli


def _sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE patients (nhs_number TEXT)")
    return path


def _other_duckdb(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE sales (amount INTEGER)")
        con.execute("INSERT INTO sales VALUES (1)")
    return path


def _rails_like(path: Path) -> Path:
    """Another tool's migrations table: same name, another shape."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE schema_migrations (version VARCHAR)")
        con.execute("INSERT INTO schema_migrations VALUES ('20240101')")
    return path


def _text(path: Path) -> Path:
    path.write_text("not a database\n", encoding="utf-8")
    return path


FOREIGN = {"sqlite": (_sqlite, "is a SQLite database"), "duckdb": (_other_duckdb, "of another program"),
           "migrations": (_rails_like, "of another program"), "text": (_text, "is not a DuckDB database file"),
           "empty": (lambda p: (p.touch(), p)[1], "is not a DuckDB database file")}


def _commands(db: Path, tmp: Path) -> list[tuple[str, ...]]:
    export = purview_export(tmp / "export.csv")
    return [("import", "purview-audit", str(export)), ("check",), ("licences",), ("foi",),
            ("report", "--out", str(tmp / "r")), ("export", "parquet", str(tmp / "e")),
            ("collect", "--graph-url", "http://127.0.0.1:9/v1.0", "--auth", "token")]


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_every_command_refuses_a_foreign_database_and_leaves_it_unchanged(tmp_path, kind) -> None:
    make, message = FOREIGN[kind]
    db = make(tmp_path / "their.db")
    before = db.read_bytes()
    for args in _commands(db, tmp_path):
        result = run_cli(*args, "--db", str(db), env={"M365AUDIT_TOKEN": "t"})
        assert_clean_failure(result, 2, message)
        assert db.read_bytes() == before, args
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv", "their.db"]


def test_a_missing_database_is_one_sentence_for_readers(tmp_path) -> None:
    for args in (("check",), ("licences",), ("foi",), ("report", "--out", str(tmp_path / "r")),
                 ("export", "parquet", str(tmp_path / "e"))):
        result = run_cli(*args, "--db", str(tmp_path / "none.duckdb"))
        assert_clean_failure(result, 2, "No database at")
    assert list(tmp_path.iterdir()) == []


def test_connections_never_autoload_or_autoinstall_extensions(base_db, tmp_path) -> None:
    db = copy_database(base_db, tmp_path)
    with open_db(db, read_only=True) as con:
        settings = con.execute("SELECT current_setting('autoload_known_extensions'), "
                               "current_setting('autoinstall_known_extensions')").fetchone()
        assert settings == (False, False)
        with pytest.raises(duckdb.Error, match="(?i)extension"):
            con.execute("SELECT * FROM sqlite_scan('x.db', 't')").fetchall()


def test_own_databases_are_recognised_new_and_from_before_the_marker(base_db, tmp_path) -> None:
    new = tmp_path / "new.duckdb"
    with open_db(new) as con:
        assert con.execute("SELECT application FROM m365audit_application").fetchall() == [("m365audit",)]
    old = copy_database(base_db, tmp_path, "old.duckdb")
    with duckdb.connect(str(old)) as con:  # as the previous version left it: no marker, no migration 035
        con.execute("DROP TABLE m365audit_application")
        con.execute("DELETE FROM schema_migrations WHERE version = 35")
    with pytest.raises(DatabaseError, match="older schema"):
        with open_db(old, read_only=True):
            pass
    with open_db(old) as con:  # a writer upgrades it and marks it
        assert con.execute("SELECT count(*) FROM m365audit_application").fetchone() == (1,)
    assert run_cli("licences", "--db", str(old)).code == 0
