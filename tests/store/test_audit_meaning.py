"""app, actor_type, agents, user_id and the rest of the record, as Microsoft's documented records imply.

The first test reads Microsoft's own AuditData examples (../shared/samples); the others
change one documented field at a time in the documented example, so each value has a
reason that can be read off the JSON.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from m365audit.store.db import open_db
from m365audit.store.imports import import_purview_audit
from tests.conftest import samples_dir
from tests.store.purview_files import CURRENT, export_text, row_for

WORD = "auditData.copilotInteraction.o365mgmt-schema-example1-word.json"
BING = "auditData.copilotInteraction.o365mgmt-schema-example2-bing.json"
APPCHAT = "auditData.copilotInteraction.o365mgmt-schema-2023rev-example1-appchat.json"
USER_KEY = "12d24f71-64c7-49b3-821f-f8884f3f373e"  # the examples' UserKey: an Entra object id
COLUMNS = "app, app_host, actor_type, user_type, user_id, agent_id, agent_name, agent_version, agent_kind"


def _example(name: str) -> dict[str, Any]:
    return json.loads((samples_dir() / "microsoft-docs" / name).read_text(encoding="utf-8"))


def _load(tmp_path: Path, records: list[dict[str, Any]], admin_units: dict[str, str] | None = None) -> Path:
    rows = [row_for(r) for r in records]
    for row, record in zip(rows, records, strict=True):
        row[CURRENT.index("AssociatedAdminUnits")] = (admin_units or {}).get(record["Id"], "")
    export = tmp_path / "e.csv"
    export.write_text(export_text(rows), encoding="utf-8")
    db = tmp_path / "m.duckdb"
    summary = import_purview_audit(db, export)
    assert summary.imported == len(records)
    return db


def _rows(db: Path, sql: str) -> dict[str, tuple[Any, ...]]:
    with open_db(db, read_only=True) as con:
        return {r[0]: tuple(r[1:]) for r in con.execute(sql).fetchall()}


def test_microsofts_examples_load_with_app_actor_agent_and_user_id(tmp_path: Path) -> None:
    records = [_example(WORD), _example(BING), _example(APPCHAT)]
    records[2]["Id"] = "appchat-" + records[2]["Id"]  # the 2023 revision reuses the Word example's Id
    db = _load(tmp_path, records)
    got = _rows(db, f"SELECT record_id, {COLUMNS} FROM copilot_interactions")
    person = ("person", "0", USER_KEY, None, None, None, None)
    assert got == {
        records[0]["Id"]: ("Word", "Word", *person),  # AppHost Word
        records[1]["Id"]: ("Copilot Chat (web)", "Bing", *person),  # AppHost Bing: Edge or Office mobile
        records[2]["Id"]: ("Word", "appchat", *person),  # appchat in a docx context
    }
    use = _rows(db, "SELECT record_id, app, product, actor_type FROM copilot_use")
    assert use == {records[0]["Id"]: ("Word", "Microsoft 365 Copilot", "person"),
                   records[1]["Id"]: ("Copilot Chat (web)", "Copilot Chat", "person"),
                   records[2]["Id"]: ("Word", "Microsoft 365 Copilot", "person")}
    assert _rows(db, "SELECT record_id, model_name, provider, version FROM copilot_models") == {
        records[1]["Id"]: ("DEEP_LEO", None, None)}
    assert _rows(db, "SELECT record_id, client_ip, client_region FROM copilot_interactions") == {
        records[0]["Id"]: ("ffff:10.11.0.229", "US"),
        records[1]["Id"]: ("2401:4900:60d2:179b:c004:b6f:b678:b148", "IN"),
        records[2]["Id"]: ("::ffff:10.11.0.229", None)}


def _variant(base: dict[str, Any], record_id: str, **top: Any) -> dict[str, Any]:
    record = copy.deepcopy(base)
    event = top.pop("event", {})
    record.update(Id=record_id, **top)
    record["CopilotEventData"].update(event)
    return record


VARIANTS: dict[str, tuple[dict[str, Any], tuple[Any, ...]]] = {
    # copilot-schema.md's second example: AppHost bizchat, no contexts
    "bizchat": ({"event": {"AppHost": "bizchat", "Contexts": []}},
                ("Copilot Chat (work)", "bizchat", "person", "0", USER_KEY, None, None, None, None)),
    "admin": ({"UserType": 2, "event": {"AppHost": "Excel"}},
              ("Excel", "Excel", "admin", "2", USER_KEY, None, None, None, None)),
    "teams-meeting": ({"event": {"AppHost": "appchat", "Contexts": [{"Id": "m1", "Type": "TeamsMeeting"}]}},
                      ("Teams", "appchat", "person", "0", USER_KEY, None, None, None, None)),
    "appchat-identity": ({"AppIdentity": "Copilot.MicrosoftCopilot.PowerPoint",
                          "event": {"AppHost": "appchat", "Contexts": []}},
                         ("PowerPoint", "appchat", "person", "0", USER_KEY, None, None, None, None)),
    "application": ({"UserType": 5, "UserKey": "8a1f2c3d-0000-4000-8000-00000000a5a5",
                     "event": {"AppHost": "BizChat"}},
                    ("Copilot Chat (work)", "BizChat", "application", "5",
                     "8a1f2c3d-0000-4000-8000-00000000a5a5", None, None, None, None)),
    "service-principal": ({"UserType": 6, "UserKey": "not-an-object-id"},
                          ("Word", "Word", "service principal", "6", None, None, None, None, None)),
    "security-copilot": ({"AppIdentity": "Copilot.Security.SecurityCopilot", "event": {"AppHost": "Copilot"}},
                         ("Security Copilot", "Copilot", "person", "0", USER_KEY, None, None, None, None)),
    "studio-by-identity": ({"AppIdentity": "Copilot.Studio.3f9a1c2e-agent", "event": {"AppHost": "Teams"}},
                           ("Copilot Studio agent", "Teams", "person", "0", USER_KEY, "3f9a1c2e-agent", None, None,
                            "Copilot Studio")),
    "declarative": ({"AgentId": "CopilotStudio.Declarative.T_4f1d0c6a", "AgentName": "HR Policy Helper",
                     "AgentVersion": "1.3", "event": {"AppHost": "BizChat"}},
                    ("Copilot Chat (work)", "BizChat", "person", "0", USER_KEY, "CopilotStudio.Declarative.T_4f1d0c6a",
                     "HR Policy Helper", "1.3", "declarative")),
    "target-agent": ({"event": {"AppHost": "BizChat", "AgentId": "a-77", "TargetAgentName": "Researcher"}},
                     ("Copilot Chat (work)", "BizChat", "person", "0", USER_KEY, "a-77", "Researcher", None, "other")),
    "unknown-host": ({"UserType": 42, "event": {"AppHost": "HoloDeck", "Contexts": []}},
                     ("other", "HoloDeck", "other", "42", USER_KEY, None, None, None, None)),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_documented_field_changes_what_it_should(tmp_path: Path, name: str) -> None:
    change, expected = VARIANTS[name]
    db = _load(tmp_path, [_variant(_example(WORD), name, **copy.deepcopy(change))])
    assert _rows(db, f"SELECT record_id, {COLUMNS} FROM copilot_interactions") == {name: expected}


def test_only_people_using_microsoft_365_copilot_or_chat_count_as_use(tmp_path: Path) -> None:
    records = [_variant(_example(WORD), name, **copy.deepcopy(change)) for name, (change, _) in VARIANTS.items()]
    db = _load(tmp_path, records, admin_units={"admin": "[au-1, au-2]", "bizchat": "au-2"})
    used = set(_rows(db, "SELECT record_id FROM copilot_use"))
    # not: programs (application, service principal), an unknown UserType, Security Copilot, Copilot Studio
    assert used == {"bizchat", "admin", "teams-meeting", "appchat-identity", "declarative", "target-agent"}
    with open_db(db, read_only=True) as con:
        units = con.execute("SELECT record_id, admin_unit_id FROM copilot_record_admin_units ORDER BY ALL").fetchall()
    assert units == [("admin", "au-1"), ("admin", "au-2"), ("bizchat", "au-2")]


def test_policy_details_as_object_or_empty_string(tmp_path: Path) -> None:
    record = _example(BING)
    resource = record["CopilotEventData"]["AccessedResources"][0]
    second = {**resource, "Id": "second", "PolicyDetails": ""}
    resource["PolicyDetails"] = {"PolicyId": "dlp-7", "PolicyName": "Block Highly Confidential",
                                 "Rules": [{"RuleId": "r1", "RuleName": "No HC in Copilot"}]}
    record["CopilotEventData"]["AccessedResources"].append(second)
    db = _load(tmp_path, [record])
    got = _rows(db, "SELECT resource_id, policy_details, policy_ids, policy_names FROM copilot_accessed_resources")
    assert got == {resource["Id"]: (json.dumps(resource["PolicyDetails"], separators=(",", ":")), ["dlp-7"],
                                    ["Block Highly Confidential"]),
                   "second": (None, None, None)}


def test_records_stored_before_migration_25_get_the_same_meaning(tmp_path: Path) -> None:
    records = [_variant(_example(WORD), name, **copy.deepcopy(change)) for name, (change, _) in VARIANTS.items()]
    records.append(_example(BING))
    db = _load(tmp_path, records)
    derived = f"SELECT record_id, {COLUMNS}, target_agent_name, client_ip FROM copilot_interactions"
    before = _rows(db, derived)
    models = _rows(db, "SELECT record_id, model_name FROM copilot_models")
    with open_db(db) as con:  # back to the tables as migration 7 left them
        con.execute("DROP VIEW IF EXISTS copilot_use")
        for view in ("ai_app_use", "copilot_apps", "copilot_models", "copilot_record_admin_units",
                     "copilot_activity_daily", "copilot_interactions", "copilot_accessed_resources"):
            con.execute(f"DROP VIEW IF EXISTS {view}")
        for column in ("app", "actor_type", "user_type", "agent_version", "agent_kind", "target_agent_name",
                       "client_ip", "admin_units"):
            con.execute(f"ALTER TABLE copilot_interaction_facts DROP COLUMN {column}")
        for column in ("policy_details", "policy_ids", "policy_names"):
            con.execute(f"ALTER TABLE copilot_accessed_resource_facts DROP COLUMN {column}")
        con.execute("ALTER TABLE copilot_activity_daily_totals DROP COLUMN app")
        con.execute("DROP TABLE copilot_model_facts")
        # agent ids named only by AppIdentity, and agent names from TargetAgentName, were not kept then
        con.execute("UPDATE copilot_interaction_facts SET agent_id = NULL WHERE record_id = 'studio-by-identity'")
        con.execute("UPDATE copilot_interaction_facts SET agent_name = NULL WHERE record_id = 'target-agent'")
        con.execute("UPDATE copilot_interaction_facts SET user_id = NULL")  # UserKey was not read then either
        con.execute("DELETE FROM schema_migrations WHERE version = 25")
    with open_db(db) as con:  # a writing open applies migration 25 again
        assert con.execute("SELECT count(*) FROM schema_migrations WHERE version = 25").fetchone() == (1,)
    after = _rows(db, derived)
    assert after == before
    assert _rows(db, "SELECT record_id, model_name FROM copilot_models") == models
