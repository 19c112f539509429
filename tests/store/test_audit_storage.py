"""How raw audit records are stored: AuditData compressed with zstd (migration 007)."""

from __future__ import annotations

from pathlib import Path

from m365audit.store.db import open_db
from m365audit.store.imports import import_purview_audit
from tests.store.purview_files import write_export

_COLUMNS = ("record_id VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL, record_type VARCHAR, operation VARCHAR, "
            "user_principal_name VARCHAR, user_key VARCHAR, organization_id VARCHAR, source VARCHAR NOT NULL, "
            "run_id VARCHAR NOT NULL, ingested_at TIMESTAMPTZ NOT NULL, audit_data JSON")


def _records(n: int) -> list[dict]:
    return [{"Id": f"rec-{i:04d}", "CreationTime": f"2026-03-{1 + i % 28:02d}T10:{i % 60:02d}:00",
             "RecordType": 261, "Operation": "CopilotInteraction", "UserId": f"user{i % 7}@example.gov.uk",
             "UserKey": f"key{i % 7}", "OrganizationId": "org-1",
             "CopilotEventData": {"AppHost": "Word", "ThreadId": f"t{i}", "Messages": [{"Id": f"m{i}", "isPrompt": True}],
                                  "AccessedResources": [], "Contexts": []}} for i in range(n)]


def _audit_data_compression(con) -> set[str]:
    con.execute("CHECKPOINT")
    rows = con.execute("""SELECT DISTINCT compression FROM pragma_storage_info('audit_records')
                          WHERE column_name = 'audit_data' AND segment_type <> 'VALIDITY'""").fetchall()
    return {r[0] for r in rows}


def _snapshot(con) -> list[tuple]:
    return con.execute("SELECT * FROM audit_records ORDER BY record_id").fetchall()


def test_new_databases_store_audit_data_with_zstd(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    import_purview_audit(db, write_export(tmp_path / "e.csv", _records(300)))
    with open_db(db) as con:
        assert _audit_data_compression(con) == {"ZSTD"}
        assert con.execute("SELECT count(*), count(DISTINCT audit_data) FROM audit_records").fetchone() == (300, 300)


def test_a_database_from_before_migration_7_keeps_every_record_verbatim(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    import_purview_audit(db, write_export(tmp_path / "e.csv", _records(300)))
    with open_db(db) as con:
        before = _snapshot(con)
        # The table as migration 002 made it, with DuckDB's default string compression.
        con.execute(f"CREATE TABLE old_records ({_COLUMNS})")
        con.execute("INSERT INTO old_records SELECT * FROM audit_records")
        con.execute("DROP TABLE audit_records")
        con.execute("ALTER TABLE old_records RENAME TO audit_records")
        con.execute("DELETE FROM schema_migrations WHERE version = 7")
        assert _audit_data_compression(con) != {"ZSTD"}
    with open_db(db) as con:  # a writing open applies migration 7
        assert con.execute("SELECT count(*) FROM schema_migrations WHERE version = 7").fetchone() == (1,)
        assert _snapshot(con) == before
        assert _audit_data_compression(con) == {"ZSTD"}
        assert con.execute("SELECT count(*) FROM copilot_interactions").fetchone() == (300,)
