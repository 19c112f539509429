"""auditLogRecordType: the shipped list is Microsoft's enum, names are validated, chosen types land."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from m365audit.collect.audit_plan import Slice, cut, merge, subtract
from m365audit.collect.record_types import AI_RECORD_TYPES, enum_members, generate, parse_record_types
from m365audit.errors import UsageError
from m365audit.store.audit import land_graph_spools
from m365audit.store.db import open_db
from tests.conftest import samples_dir


def test_the_shipped_list_is_generated_from_microsofts_enum() -> None:
    xml = next((samples_dir() / "graph-schema").glob("*security.auditLogRecordType.xml"))
    shipped = (enum_members.__module__.replace(".", "/") + ".py")
    assert shipped  # the module exists; the list beside it:
    from importlib import resources

    text = resources.files("m365audit.collect").joinpath("auditlogrecordtype.txt").read_text(encoding="utf-8")
    assert text == generate(xml.read_text(encoding="utf-8"))
    members = enum_members()
    assert (members["CopilotInteraction"], members["AIAppInteraction"], members["CopilotSessionSharing"]) == \
        (261, 284, 467)
    assert set(AI_RECORD_TYPES) <= set(members)


def test_names_are_matched_case_insensitively_and_unknown_ones_refused() -> None:
    assert parse_record_types("copilotinteraction, AIINVOKEAGENT,CopilotInteraction") == \
        ("CopilotInteraction", "AIInvokeAgent")
    with pytest.raises(UsageError, match="'CopilotChat' is not an auditLogRecordType"):
        parse_record_types(["CopilotChat"])
    with pytest.raises(UsageError, match="at least one"):
        parse_record_types(" , ")


def test_a_chosen_type_the_views_do_not_know_lands_with_its_type_name(tmp_path) -> None:
    record = {"Id": "6f0c6d0e-1111-4a4a-9b9b-000000000001", "RecordType": 382, "CreationTime": "2026-11-01T10:00:00",
              "Operation": "CopilotActions", "UserId": "ann@example.gov.uk", "OrganizationId": "x", "Workload": "Copilot"}
    spool = tmp_path / "a.ndjson"
    spool.write_bytes(orjson.dumps({"id": record["Id"], "createdDateTime": "2026-11-01T10:00:00Z",
                                    "auditLogRecordType": "CopilotActions", "operation": "CopilotActions",
                                    "userPrincipalName": "ann@example.gov.uk", "auditData": record}) + b"\n")
    db = tmp_path / "a.duckdb"
    with open_db(db) as con:
        skipped = land_graph_spools(con, [spool], run_id="r1")
        landed = land_graph_spools(con, [spool], run_id="r2", record_types={"CopilotActions": 382})
        rows = con.execute("SELECT record_id, record_type, operation FROM audit_records").fetchall()
    assert (skipped.new, dict(skipped.skipped_types)) == (0, {"CopilotActions": 1})
    assert landed.new == 1 and rows == [(record["Id"], "CopilotActions", "CopilotActions")]


def test_window_arithmetic() -> None:
    day = datetime(2026, 11, 1, tzinfo=UTC)
    window = Slice(day, day + timedelta(days=10))
    covered = [Slice(day + timedelta(days=2), day + timedelta(days=4)), Slice(day + timedelta(days=3), day + timedelta(days=5))]
    assert merge(covered) == [Slice(day + timedelta(days=2), day + timedelta(days=5))]
    assert subtract(window, covered) == [Slice(day, day + timedelta(days=2)),
                                         Slice(day + timedelta(days=5), day + timedelta(days=10))]
    pieces = cut(Slice(day, day + timedelta(days=10)), timedelta(days=4))
    assert [p.length for p in pieces] == [timedelta(days=10) / 3] * 3 and pieces[-1].end == window.end
