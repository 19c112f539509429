"""`export delta`: Delta tables that read back with the view's rows, schema and meaning, written incrementally."""

from __future__ import annotations

import shutil
from datetime import timedelta
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from m365audit.docgen import view_docs
from m365audit.export.lake_target import lake_target, storage_options
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, assert_clean_failure, run_cli
from tests.ops.runhelp import run, steps, write_config

FIRST = ANCHOR - timedelta(days=2)
DATED = ("copilot_interactions", "copilot_accessed_resources", "copilot_messages", "copilot_contexts",
         "copilot_plugins")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """The demo: the real collector over HTTP against the simulated tenant."""
    path = tmp_path_factory.mktemp("delta") / "demo.duckdb"
    result = run_cli("demo", "--users", "200", "--days", "4", "--no-history", "--db", str(path))
    assert result.code == 0, result.stderr
    return path


def _export(db, out, *extra: str):
    result = run_cli("export", "delta", str(out), "--db", str(db), *extra)
    assert result.code == 0, result.stderr
    return result


def _views(db) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal "
                                          "AND schema_name = 'main'").fetchall()]


def _lake_rows(out, view: str) -> int:
    return int(DeltaTable(str(out / view)).count())


def _view_rows(db, view: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute(f'SELECT count(*) FROM "{view}"').fetchall()[0][0])


def test_tables_read_back_with_the_views_rows_and_documented_schema(db, tmp_path) -> None:
    out = tmp_path / "lake"
    result = _export(db, out)
    assert f"Exported {len(_views(db))} views to Delta" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([*_views(db), "_m365audit_export"])
    docs = {d.name: d for d in view_docs()}
    with duckdb.connect(str(db), read_only=True) as con:
        for view in ("copilot_interactions", "copilot_messages", "sensitivity_labels", "copilot_seat_holders"):
            table = DeltaTable(str(out / view))
            lake = table.to_pyarrow_table()
            partition = table.metadata().partition_columns
            assert partition == (["created_date"] if view in DATED else [])
            rows = lake.drop_columns(partition)
            original = con.sql(f"SELECT * FROM {view}").to_arrow_table()
            assert rows.num_rows == original.num_rows > 0
            assert rows.column_names == original.column_names
            con.register("lake_rows", rows)
            assert con.execute(f"SELECT count(*) FROM (SELECT * FROM lake_rows EXCEPT ALL SELECT * FROM {view})"
                               ).fetchall() == [(0,)]
            con.unregister("lake_rows")
            schema = pa.schema(table.schema().to_arrow())
            documented = dict(docs[view].columns)
            for field in schema:
                meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
                assert meta["m365audit.schema_version"] == "1"
                if field.name in documented:
                    assert meta["comment"] == documented[field.name]
            assert table.metadata().description == docs[view].description
        users = DeltaTable(str(out / "users")).to_pyarrow_table()
        snapshot = con.execute("SELECT max(snapshot_at) FROM users").fetchall()[0][0]
        assert set(users.column("snapshot_date").to_pylist()) == {snapshot.date()}
        assert users.num_rows == con.execute("SELECT count(*) FROM users").fetchall()[0][0] == 200


def test_rerun_writes_nothing_and_overlapping_days_never_duplicate(db, tmp_path) -> None:
    out = tmp_path / "lake"
    _export(db, out)
    counts = {v: _lake_rows(out, v) for v in DATED}
    again = _export(db, out)
    assert "(0 rows written)" in again.stderr and "copilot_interactions: " in again.stderr
    # Forget what was written: every day counts as changed, as when collections overlap.
    DeltaTable(str(out / "_m365audit_export")).delete("table_name <> 'users'")
    overlap = _export(db, out)
    assert "partition(s) written" in overlap.stderr
    assert {v: _lake_rows(out, v) for v in DATED} == counts == {v: _view_rows(db, v) for v in DATED}
    interactions = DeltaTable(str(out / "copilot_interactions")).to_pyarrow_table(columns=["record_id"])
    assert len(set(interactions.column(0).to_pylist())) == interactions.num_rows


def test_a_changed_record_is_merged_on_its_record_id(db, tmp_path) -> None:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.read_bytes())
    out = tmp_path / "lake"
    _export(copy, out)
    with open_db(copy) as con:
        record, day = con.execute("SELECT record_id, created_at FROM copilot_interaction_facts "
                                  "ORDER BY record_id LIMIT 1").fetchall()[0]
        con.execute("UPDATE copilot_interaction_facts SET app_host = 'Changed' WHERE record_id = ?", [record])
        con.execute("DELETE FROM copilot_interaction_facts WHERE record_id = "
                    "(SELECT max(record_id) FROM copilot_interaction_facts WHERE created_at::DATE = ?::DATE)", [day])
    result = _export(copy, out)
    assert "copilot_interactions: " in result.stderr
    lake = DeltaTable(str(out / "copilot_interactions")).to_pyarrow_table(columns=["record_id", "app_host"])
    hosts = dict(zip(lake.column(0).to_pylist(), lake.column(1).to_pylist(), strict=True))
    assert hosts[record] == "Changed"
    assert lake.num_rows == _view_rows(copy, "copilot_interactions")


def test_new_columns_are_added_and_other_schema_changes_refused(db, tmp_path) -> None:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(db.read_bytes())
    out = tmp_path / "lake"
    _export(copy, out)
    with duckdb.connect(str(copy)) as con:
        body = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'groups'").fetchall()[0][0]
        body = body.split(" AS ", 1)[1].rstrip().rstrip(";")
        con.execute(f"CREATE OR REPLACE VIEW groups AS SELECT *, 'x' AS added_note FROM ({body})")
    old = set(DeltaTable(str(out / "groups")).schema().to_arrow().names)
    result = _export(copy, out)
    assert "groups: " in result.stderr and "schema version 2" in result.stderr
    schema = pa.schema(DeltaTable(str(out / "groups")).schema().to_arrow())
    assert "added_note" in schema.names and old <= set(schema.names)
    added = {k.decode(): v.decode() for k, v in schema.field("added_note").metadata.items()}
    assert added["m365audit.schema_version"] == "2" and schema.field("added_note").nullable
    with duckdb.connect(str(copy)) as con:
        con.execute("CREATE OR REPLACE VIEW groups AS SELECT 1 AS added_note")
    refused = run_cli("export", "delta", str(out), "--db", str(copy))
    assert_clean_failure(refused, 2, "The Delta table groups has a column")
    assert pa.schema(DeltaTable(str(out / "groups")).schema().to_arrow()) == schema


def test_bad_targets_are_one_sentence_and_exit_2(db, tmp_path) -> None:
    assert_clean_failure(run_cli("export", "delta", "ftp://host/lake", "--db", str(db)), 2,
                         "scheme 'ftp' is not supported")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not a lake")
    assert_clean_failure(run_cli("export", "delta", str(foreign), "--db", str(db)), 2,
                         "holds files but no m365audit Delta export")
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    assert_clean_failure(run_cli("export", "delta", str(tmp_path / "no" / "lake"), "--db", str(db)), 2,
                         "does not exist")
    lake = tmp_path / "lake"
    _export(db, lake)
    shutil.rmtree(lake / "groups" / "_delta_log")  # parquet files left without their log
    assert_clean_failure(run_cli("export", "delta", str(lake), "--db", str(db)), 2,
                         "groups holds files but is not a Delta table")
    unreachable = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "test", "AWS_REGION": "eu-west-2",
                   "AWS_SECRET_ACCESS_KEY": "test", "AWS_ALLOW_HTTP": "true"}
    assert_clean_failure(run_cli("export", "delta", "s3://bucket/lake", "--db", str(db), env=unreachable), 2,
                         "Cannot write the Delta export at s3://bucket/lake")


class _FakeCredential:
    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str) -> SimpleNamespace:
        self.scopes.extend(scopes)
        return SimpleNamespace(token="fake-storage-token")


def test_storage_options_carry_a_token_from_the_credential_chain() -> None:
    fake = _FakeCredential()
    onelake = "abfss://Audit@onelake.dfs.fabric.microsoft.com/Audit.Lakehouse/Tables"
    assert storage_options("abfss", onelake, lambda: fake) == {
        "bearer_token": "fake-storage-token", "use_fabric_endpoint": "true"}
    assert fake.scopes == ["https://storage.azure.com/.default"]
    target = lake_target("abfss://lake@account.dfs.core.windows.net/m365audit/", lambda: fake)
    assert (target.uri, target.scheme) == ("abfss://lake@account.dfs.core.windows.net/m365audit", "abfss")
    assert target.storage_options == {"bearer_token": "fake-storage-token"}
    assert "fake-storage-token" not in repr(target)
    assert lake_target("s3://bucket/m365audit").storage_options == {}  # AWS variables are read by deltalake


def test_nightly_run_exports_the_lake(make_server, tmp_path) -> None:
    server = make_server(users=150)
    config = write_config(tmp_path, server.url, '[export]\ndelta = "lake"\n')
    first = run(config, env={"M365AUDIT_NOW": FIRST.isoformat()})
    assert first.code == 0, first.stderr
    assert steps(first)["export"]["status"] == "ok"
    second = run(config, env={"M365AUDIT_NOW": ANCHOR.isoformat()})
    assert second.code == 0, second.stderr
    export = steps(second)["export"]
    assert export["counts"]["tables"] == len(_views(tmp_path / "audit.duckdb"))
    assert export["counts"]["partitions_written"] > 0
    db = tmp_path / "audit.duckdb"
    for view in (*DATED, "users", "groups"):
        lake = DeltaTable(str(tmp_path / "lake" / view))
        if view == "users":
            assert lake.count() == 2 * _view_rows(db, view)  # one snapshot per day
        else:
            assert lake.count() == _view_rows(db, view)


def test_spark_engine_without_an_export_is_one_sentence(tmp_path) -> None:
    result = run_cli("check", "--engine", "spark", "--lake", str(tmp_path))
    assert_clean_failure(result, 2, "holds no m365audit Delta export")
    assert_clean_failure(run_cli("check", "--engine", "spark"), 2, "--engine spark needs --lake")
