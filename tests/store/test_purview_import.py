"""`m365audit import purview-audit`: Microsoft's examples, the real export, encodings, bad rows, dedupe."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import orjson
import pytest

from m365audit.store.db import open_db
from tests.conftest import assert_clean_failure, run_cli, samples_dir
from tests.store.audit_reference import actual_rows, expected_rows, sort_rows
from tests.store.purview_files import OLDER, write_export

EXAMPLES = ("auditData.copilotInteraction.o365mgmt-schema-example1-word.json",
            "auditData.copilotInteraction.o365mgmt-schema-example2-bing.json",
            "auditData.copilotInteraction.o365mgmt-schema-2023rev-example1-appchat.json")


def _example(name: str) -> dict:
    return json.loads((samples_dir() / "microsoft-docs" / name).read_text(encoding="utf-8"))


def _import(db, path, *extra: str):
    return run_cli("import", "purview-audit", str(path), "--db", str(db), "--format", "json", *extra)


@pytest.mark.parametrize("name", EXAMPLES)
def test_microsofts_examples_fill_every_view_field_as_the_json_says(tmp_path, name) -> None:
    data = _example(name)
    db = tmp_path / "i.duckdb"
    result = _import(db, write_export(tmp_path / "export.csv", [data]))
    assert result.code == 0, result.stderr
    assert orjson.loads(result.stdout)["imported"] == 1
    with open_db(db, read_only=True) as con:
        assert actual_rows(con) == sort_rows(expected_rows(data))
        raw, source = con.execute("SELECT audit_data, source FROM audit_records").fetchone()
    assert json.loads(raw) == data and source == "purview-csv"


def test_the_bing_example_in_detail(tmp_path) -> None:
    db = tmp_path / "i.duckdb"
    assert _import(db, write_export(tmp_path / "e.csv", [_example(EXAMPLES[1])])).code == 0
    with open_db(db, read_only=True) as con:
        interaction = con.execute("SELECT record_id, created_at, user_principal_name, app_host, client_region "
                                  "FROM copilot_interactions").fetchone()
        resource = con.execute("SELECT resource_name, resource_type, sensitivity_label_id, action, site_url "
                               "FROM copilot_accessed_resources").fetchone()
        plugin = con.execute("SELECT plugin_id, plugin_name, plugin_version FROM copilot_plugins").fetchone()
        prompts = con.execute("SELECT message_id, is_prompt FROM copilot_messages ORDER BY 1").fetchall()
    assert interaction == ("537312b6-dce7-4d9b-8b12-58283204b720", datetime(2023, 12, 14, 2, 11, 55, tzinfo=UTC),
                           "admin@moderncomms975184.onmicrosoft.com", "Bing", "IN")
    assert resource[:4] == ("Document1.docx", "docx", "f41ab342-8706-4188-bd11-ebb85995028c", "Read")
    assert resource[4].startswith("https://microsoft.sharepoint.com/teams/OfficeSerbia/Shared%20Documents/")
    assert plugin == ("BingWebSearch", "BuiltIn", None)
    assert prompts == [("1715186983849", True), ("1715186984291", False)]


def test_older_layout_utf16_tab_and_bom_variants(tmp_path) -> None:
    lines = (samples_dir() / "microsoft-docs" / "auditData.copilotInteraction.o365mgmt-schema-examples.jsonl")
    records = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines() if line.strip()]
    for i, (layout, encoding, delimiter) in enumerate([(OLDER, "utf-8", ","), (None, "utf-8-sig", ","),
                                                       (None, "utf-16", "\t"), (OLDER, "utf-16", ",")]):
        db = tmp_path / f"{i}.duckdb"
        kwargs = {"layout": layout} if layout else {}
        path = write_export(tmp_path / f"{i}.csv", records, encoding=encoding, delimiter=delimiter, **kwargs)
        result = _import(db, path)
        assert result.code == 0, (i, result.stderr)
        expected: dict[str, list] = {}
        for record in records:
            for view, rows in expected_rows(record).items():
                expected.setdefault(view, []).extend(rows)
        with open_db(db, read_only=True) as con:
            assert actual_rows(con) == sort_rows(expected), i


def test_the_real_purview_export_imports_with_every_row_skipped_and_counted(tmp_path) -> None:
    export = samples_dir() / "purview-export" / "huntress-ctf-2023-rogue-inbox.purview.csv"
    db = tmp_path / "i.duckdb"
    result = _import(db, export)
    assert result.code == 0, result.stderr
    summary = orjson.loads(result.stdout)
    assert summary["imported"] == 0 and summary["bad_rows"] == 0 and summary["skipped_rows"] == 219
    assert summary["skipped_record_types"]["ExchangeAdmin (1)"] == 89
    text = run_cli("import", "purview-audit", str(export), "--db", str(db))
    assert text.code == 0 and "219 rows of record types m365audit does not audit skipped" in text.stdout
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM audit_records").fetchone() == (0,)
        assert con.execute("SELECT command, status FROM runs").fetchall() == [("import", "succeeded")] * 2


def test_bad_rows_stop_the_import_unless_skipped(tmp_path) -> None:
    good = _example(EXAMPLES[1])
    second = {**good, "Id": "11111111-2222-4333-8444-555555555555"}
    export = tmp_path / "bad.csv"
    write_export(export, [good, "{not json", second, {**good, "Id": "x2", "CreationTime": "13/13/2023"}])
    with export.open("a", encoding="utf-8") as f:
        f.write('a9,1/2/2024,261,CopilotInteraction,u@x,"{}",,,one too many\r\n')
    db = tmp_path / "i.duckdb"
    failed = _import(db, export)
    assert_clean_failure(failed, 2, "bad.csv line 3: AuditData is not valid JSON (and 2 more bad rows)",
                         "nothing was imported", "--skip-bad-rows")
    assert not db.exists() or _count(db) == 0
    rejects = tmp_path / "rejects.csv"
    ok = _import(db, export, "--skip-bad-rows", "--reject-file", str(rejects))
    assert ok.code == 0, ok.stderr
    summary = orjson.loads(ok.stdout)
    assert (summary["imported"], summary["bad_rows"], summary["reject_file"]) == (2, 3, str(rejects))
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "line,reason,record_id,audit_data,unsplit_line"
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["3", "AuditData is not valid JSON"], ["5", "AuditData has no valid CreationTime"],
        ["6", "wrong number of columns (Expected Number of Columns: 8 Found: 9)"]]
    assert _count(db) == 2


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path) -> None:
    export = write_export(tmp_path / "latin.csv", [_example(EXAMPLES[0])])
    export.write_bytes(export.read_bytes().replace(b"admin@", "adm\xefn@".encode("latin-1")))
    result = _import(tmp_path / "i.duckdb", export)
    assert_clean_failure(result, 2, "latin.csv line 2: the file is not UTF-8 text")


def test_a_file_without_auditdata_is_not_an_export(tmp_path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("Name,Value\r\na,b\r\n", encoding="utf-8")
    assert_clean_failure(_import(tmp_path / "i.duckdb", other), 2, "not a Purview audit log export")
    assert_clean_failure(_import(tmp_path / "i.duckdb", tmp_path / "missing.csv"), 2, "does not exist")


def test_imports_dedupe_against_collected_records(make_server, tmp_path) -> None:
    from tests.collect.test_audit_end_to_end import _tenant, collect_audit, view_counts

    tenant = _tenant(users=300, days=3)
    server = make_server(tenant)
    start, end = tenant.activity.window
    db = tmp_path / "d.duckdb"
    collect_audit(server, db, since=start, until=end)
    before = view_counts(db)
    records = list(tenant.activity.records(start, end))
    result = _import(db, write_export(tmp_path / "same.csv", records))
    assert result.code == 0, result.stderr
    summary = orjson.loads(result.stdout)
    assert summary["imported"] == 0 and summary["already_present"] == len(records) == before["raw"]
    assert view_counts(db) == before
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT DISTINCT source FROM audit_records").fetchall() == [("graph",)]


def _count(db) -> int:
    with open_db(db, read_only=True) as con:
        return con.execute("SELECT count(*) FROM audit_records").fetchone()[0]
