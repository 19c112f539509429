"""`export parquet`: date-partitioned Parquet that reads back with the same rows and values."""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import pytest

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from m365audit.simulator.tenant import SimAssignment
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, assert_clean_failure, collect_from, run_cli

FIRST = ANCHOR - timedelta(days=2)


@pytest.fixture
def db(make_server, tmp_path):
    tenant = Tenant(TenantConfig(users=300, seed=9, anchor=ANCHOR))
    server = make_server(tenant)
    path = tmp_path / "t.duckdb"
    collect_from(server, path, now=FIRST, only=("licences", "labels"))
    tenant.override_user(1, assignments=(SimAssignment(cat.COPILOT.sku_id, None, assigned_at=FIRST),))
    collect_from(server, path, now=ANCHOR, only=("licences",))
    with open_db(path) as con:
        for n, day in enumerate((FIRST, FIRST, ANCHOR)):
            con.execute("INSERT INTO copilot_interaction_facts (record_id, created_at, user_principal_name, app_host) "
                        "VALUES (?, ?, 'a@example.gov.uk', 'Word')", [f"r{n}", day + timedelta(hours=n)])
            con.execute("INSERT INTO copilot_message_facts VALUES (?, ?, true, false)", [f"r{n}", f"m{n}"])
        con.execute("INSERT INTO copilot_message_facts VALUES ('orphan', 'mx', false, false)")
    return path


def _read(out, view: str) -> str:
    return f"read_parquet('{out}/{view}/**/*.parquet', hive_partitioning = true)"


def test_export_reads_back_with_the_same_rows(db, tmp_path) -> None:
    out = tmp_path / "export"
    result = run_cli("export", "parquet", str(out), "--db", str(db))
    assert result.code == 0, result.stderr
    assert "Exported" in result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        snapshots = [r[0] for r in con.execute("SELECT taken_at FROM snapshots ORDER BY 1").fetchall()]
        for view, macro in (("users", "users_at"), ("licence_assignments", "licence_assignments_at"),
                            ("skus", "skus_at")):
            assert sorted(p.name for p in (out / view).iterdir()) == [
                f"snapshot_date={ts:%Y-%m-%d}" for ts in snapshots]
            for ts in snapshots:
                exported = f"SELECT * EXCLUDE (snapshot_date) FROM {_read(out, view)} WHERE snapshot_date = ?"
                assert con.execute(f"SELECT count(*) FROM ({exported})", [ts.date()]).fetchone() == \
                    con.execute(f"SELECT count(*) FROM {macro}(?)", [ts]).fetchone()
                for a, b in ((exported, f"SELECT * FROM {macro}(?)"), (f"SELECT * FROM {macro}(?)", exported)):
                    params = [ts.date(), ts] if a == exported else [ts, ts.date()]
                    assert con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})", params).fetchone() == (0,)
        seats = con.execute(f"SELECT snapshot_date, count(*) FROM {_read(out, 'licence_assignments')} "
                            "WHERE holds_copilot_seat GROUP BY ALL ORDER BY 1").fetchall()
        assert [n for _, n in seats] == [
            con.execute("SELECT count(*) FROM licence_assignments_at(?) WHERE holds_copilot_seat", [ts]).fetchone()[0]
            for ts in snapshots]
        assert sorted(p.name for p in (out / "copilot_interactions").iterdir()) == [
            f"created_date={FIRST:%Y-%m-%d}", f"created_date={ANCHOR:%Y-%m-%d}"]
        messages = con.execute(f"SELECT created_date, count(*) FROM {_read(out, 'copilot_messages')} "
                               "GROUP BY ALL ORDER BY 1 NULLS LAST").fetchall()
        assert messages == [(FIRST.date(), 2), (ANCHOR.date(), 1), (None, 1)]
        labels = con.execute(f"SELECT * FROM {_read(out, 'sensitivity_labels')} EXCEPT ALL "
                             "SELECT * FROM sensitivity_labels").fetchall()
        assert labels == [] and con.execute(f"SELECT count(*) FROM {_read(out, 'sensitivity_labels')}"
                                            ).fetchone() == (len(cat.LABELS),)
    manifest = json.loads((out / "_m365audit_export.json").read_text())
    rows = {d["name"]: d["rows"] for d in manifest["datasets"]}
    assert rows["copilot_interactions"] == 3 and rows["users"] == 600


def test_existing_export_is_kept_unless_replaced(db, tmp_path) -> None:
    out = tmp_path / "export"
    out.mkdir()
    (out / "keep.txt").write_text("earlier")
    result = run_cli("export", "parquet", str(out), "--db", str(db))
    assert_clean_failure(result, 2, "already exists", "--replace")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    result = run_cli("export", "parquet", str(out), "--db", str(db), "--replace", "--latest-only")
    assert result.code == 0, result.stderr
    assert not (out / "keep.txt").exists()
    assert [p.name for p in (out / "users").iterdir()] == [f"snapshot_date={ANCHOR:%Y-%m-%d}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "t.duckdb"]  # no temporary folders left


def test_missing_database(tmp_path) -> None:
    result = run_cli("export", "parquet", str(tmp_path / "out"), "--db", str(tmp_path / "none.duckdb"))
    assert_clean_failure(result, 2, "No database")
    assert not (tmp_path / "out").exists()
