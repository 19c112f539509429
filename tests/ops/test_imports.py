"""Imports follow the operations rules: the writer lock, and pseudonymised storage."""

from __future__ import annotations

import orjson

from m365audit.simulator import Tenant, TenantConfig
from m365audit.store import pseudonym
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, assert_clean_failure, collect_from, run_cli, writer_lock_held
from tests.ops.test_pseudonymised_storage import KEY, _found_names, _names
from tests.store.purview_files import write_export


def _setup(make_server, tmp_path):
    tenant = Tenant(TenantConfig(users=200, seed=5, days=3, anchor=ANCHOR))
    server = make_server(tenant)
    db = tmp_path / "p.duckdb"
    collect_from(server, db, pseudonym_key=pseudonym.PseudonymKey.from_secret(KEY.encode()))
    start, end = tenant.activity.window
    export = write_export(tmp_path / "export.csv", list(tenant.activity.records(start, end)))
    return tenant, db, export


def _audit_rows(db) -> int:
    with open_db(db, read_only=True) as con:
        return con.execute("SELECT count(*) FROM audit_records").fetchone()[0]


def test_import_into_pseudonymised_storage(make_server, tmp_path) -> None:
    tenant, db, export = _setup(make_server, tmp_path)
    refused = run_cli("import", "purview-audit", str(export), "--db", str(db))
    assert_clean_failure(refused, 2, "stores pseudonyms")
    assert _audit_rows(db) == 0
    result = run_cli("import", "purview-audit", str(export), "--db", str(db), "--format", "json",
                     env={"M365AUDIT_STORAGE_KEY": KEY})
    assert result.code == 0, result.stderr
    assert orjson.loads(result.stdout)["imported"] == _audit_rows(db) > 0
    assert _found_names(db, _names(tenant)) == []
    with open_db(db, read_only=True) as con:
        matched = con.execute("SELECT count(*) FILTER (user_id IS NOT NULL), count(*) FROM copilot_interactions"
                              ).fetchone()
    assert matched[0] > 0  # pseudonyms join the directory's pseudonyms


def test_import_respects_the_writer_lock(make_server, tmp_path) -> None:
    _, db, export = _setup(make_server, tmp_path)
    with writer_lock_held(db) as holder:
        result = run_cli("import", "purview-audit", str(export), "--db", str(db), env={"M365AUDIT_STORAGE_KEY": KEY})
        assert_clean_failure(result, 2, f"process {holder.pid}", "m365audit run")
    assert _audit_rows(db) == 0
