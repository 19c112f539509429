"""Hand-picked awkward records: key spellings, PolicyDetails shapes, offsets, unknown apps, nulls."""

from __future__ import annotations

from datetime import UTC, datetime

from m365audit.store.db import open_db
from m365audit.store.imports import import_purview_audit
from tests.store.audit_reference import actual_rows, expected_rows, sort_rows
from tests.store.purview_files import write_export

BASE = {"Id": "r1", "CreationTime": "2024-03-01T10:00:00", "RecordType": 261, "Operation": "CopilotInteraction",
        "UserId": "Amy@Example.gov.uk"}


def _load(tmp_path, records):
    db = tmp_path / "n.duckdb"
    summary = import_purview_audit(db, write_export(tmp_path / "n.csv", records))
    with open_db(db, read_only=True) as con:
        return summary, actual_rows(con), con


def test_awkward_records_load_as_their_json_says(tmp_path) -> None:
    records = [
        {**BASE, "Id": "camel", "copilotEventData": {"appHost": "Word", "messages": [
            {"id": "m1", "IsPrompt": True}, {"ID": "m2", "isprompt": False, "jailbreakdetected": True}]}},
        {**BASE, "Id": "odd-case", "CopilotEventData": {
            "aPpHoSt": "Excel", "Messages": [{"Id": "m3", "iSpRoMpT": True}],
            "AccessedResources": [{"iD": "f1", "Name": "a.xlsx"}]}},
        {**BASE, "Id": "policy", "CreationTime": "2024-03-01T10:00:00.1234567+01:00",
         "CopilotEventData": {"AppHost": "SomeFutureApp", "AccessedResources": [
             {"Id": "f2", "PolicyDetails": "", "XPIADetected": True},
             {"Id": "f3", "PolicyDetails": {"PolicyId": "x", "Rules": [{"Name": "r"}]}, "SiteUrl": None}]}},
        {**BASE, "Id": "nulls", "ClientRegion": None, "CopilotEventData": {
            "AppHost": None, "Messages": None, "Contexts": [None, {"Id": "c1", "Type": None}],
            "AISystemPlugin": [{}], "AccessedResources": "not a list"}},
        {**BASE, "Id": "zulu", "CreationTime": "2024-03-01T23:30:00Z", "CopilotEventData": {"AppHost": "Teams"}},
    ]
    summary, rows, _ = _load(tmp_path, records)
    assert summary.imported == 5 and summary.bad_rows == 0
    expected: dict[str, list] = {}
    for record in records:
        for view, found in expected_rows(record).items():
            expected.setdefault(view, []).extend(found)
    assert rows == sort_rows(expected)
    by_id = {r[0]: r for r in rows["copilot_interactions"]}
    assert by_id["policy"][1] == datetime(2024, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
    assert by_id["policy"][6] == "SomeFutureApp" and by_id["odd-case"][6] == "Excel"
    assert ("camel", "m2", False, True) in rows["copilot_messages"]
    assert ("odd-case", "f1", "a.xlsx", None, None, None, None, None, None, None) in rows["copilot_accessed_resources"]
    with open_db(tmp_path / "n.duckdb", read_only=True) as con:
        policies = con.execute("SELECT resource_id, policy_details, policy_ids, policy_names "
                               "FROM copilot_accessed_resources WHERE record_id = 'policy' ORDER BY 1").fetchall()
        apps = dict(con.execute("SELECT record_id, app FROM copilot_interactions").fetchall())
    assert policies == [("f2", None, None, None), ("f3", '{"PolicyId":"x","Rules":[{"Name":"r"}]}', ["x"], [])]
    # unknown and missing hosts are 'other', the raw AppHost kept
    assert apps == {"camel": "Word", "odd-case": "Excel", "policy": "other", "nulls": "other", "zulu": "Teams"}
