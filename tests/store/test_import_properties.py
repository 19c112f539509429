"""Property-based: generated malformed AuditData and CSV rows through the import path.

Every row is either loaded exactly as a plain reading of its JSON says, skipped
(a record type not audited, or a repeated record id), or rejected with its line
and a reason; nothing crashes, and without --skip-bad-rows nothing half-loads.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from m365audit.errors import UsageError
from m365audit.store.db import open_db
from m365audit.store.imports import import_purview_audit
from tests.store.audit_reference import actual_rows, expected_rows, get, instant, sort_rows
from tests.store.purview_files import export_text, row_for

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
MAYBE_TEXT = st.one_of(st.none(), TEXT)
MAYBE_FLAG = st.one_of(st.none(), st.booleans())
_MISSING = object()


def _case(key: str, how: int) -> str:
    return (key, key.lower(), key.upper(), key[0].swapcase() + key[1:])[how]


@st.composite
def objects(draw: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """A dict with some of ``fields`` (missing, null or a value), each key spelt one of four ways."""
    out: dict[str, Any] = {}
    for key, values in fields.items():
        value = draw(st.one_of(st.just(_MISSING), values))
        if value is not _MISSING:
            out[_case(key, draw(st.integers(0, 3)))] = value
    return out


@st.composite
def creation_times(draw: Any) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["13/13/2023 5:00 PM", "2023-02-30T10:00:00", "", "yesterday"]))
    ts = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 10**8)))
    text = ts.strftime("%Y-%m-%dT%H:%M:%S") + draw(st.sampled_from(["", ".5", ".123456", ".1234567"]))
    return text + draw(st.sampled_from(["", "Z", "+01:00", "-05:30"]))


@st.composite
def audit_data(draw: Any, ids: Any) -> dict[str, Any] | str:
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return draw(st.sampled_from(["{not json", "[1, 2]", "null", "42", "", '{"Id": "x"']))
    record_type = draw(st.sampled_from([261, "261", 284, 8]))
    resources = st.lists(st.one_of(st.integers(-5, 5), objects({
        "Id": MAYBE_TEXT, "Name": MAYBE_TEXT, "Type": MAYBE_TEXT, "SiteUrl": MAYBE_TEXT,
        "SensitivityLabelId": MAYBE_TEXT, "Action": MAYBE_TEXT, "Status": MAYBE_TEXT,
        "XPIADetected": MAYBE_FLAG,
        "PolicyDetails": st.one_of(st.just(""), st.just({}), st.just({"PolicyId": "p", "Rules": [1]}))})),
        max_size=3)
    event = draw(objects({
        "AppHost": MAYBE_TEXT, "ThreadId": MAYBE_TEXT,
        "Messages": st.lists(st.one_of(st.just("junk"), objects({
            "Id": st.one_of(TEXT, st.integers(0, 10**12)), "isPrompt": MAYBE_FLAG,
            "JailbreakDetected": MAYBE_FLAG})), max_size=3),
        "MessageIds": st.lists(st.one_of(st.none(), TEXT), max_size=2),
        "AccessedResources": resources,
        "Contexts": st.lists(objects({"Id": MAYBE_TEXT, "Type": MAYBE_TEXT}), max_size=2),
        "AISystemPlugin": st.lists(objects({"Id": MAYBE_TEXT, "Name": MAYBE_TEXT, "Version": MAYBE_TEXT}),
                                   max_size=2)}))
    record = draw(objects({"ClientRegion": MAYBE_TEXT, "AppIdentity": MAYBE_TEXT, "AgentId": MAYBE_TEXT,
                           "AgentName": MAYBE_TEXT}))
    required = {"Id": draw(ids), "CreationTime": draw(creation_times()), "RecordType": record_type,
                "Operation": "Set-Mailbox" if record_type == 8 else draw(st.sampled_from(
                    ["CopilotInteraction", "AIAppInteraction"])),
                "UserId": draw(st.sampled_from(["Amy@Example.gov.uk", " bo@example.gov.uk ", ""]))}
    for key, value in required.items():
        if key == "CreationTime" and draw(st.integers(0, 19)) == 0:
            continue  # missing entirely
        record[_case(key, draw(st.integers(0, 3)))] = value
    record[_case("CopilotEventData", draw(st.integers(0, 3)))] = event
    return record


ROWS = st.lists(audit_data(st.sampled_from(["a1", "a2", "b-3", " a1 ", "  ", "c4"])), min_size=1, max_size=8)


def _outcome(rows: list[dict[str, Any] | str]) -> tuple[dict[int, str], list[dict[str, Any]], int]:
    """Per line the reason a row is bad; the records that load; how many rows are skipped."""
    bad: dict[int, str] = {}
    loaded: dict[str, dict[str, Any]] = {}
    skipped = 0
    for line, data in enumerate(rows, start=2):
        if isinstance(data, dict) and str(get(data, "RecordType")) == "8":
            skipped += 1
            continue
        reason = _problem(data)
        if reason:
            bad[line] = reason
        elif str(get(data, "Id")).strip() in loaded:
            skipped += 1
        else:
            loaded[str(get(data, "Id")).strip()] = data  # type: ignore[assignment]
    return bad, list(loaded.values()), skipped


def _problem(data: dict[str, Any] | str) -> str | None:
    if isinstance(data, str):
        text = data.strip()
        if not text:
            return "AuditData is empty"
        return "AuditData is not a JSON object" if not text.startswith("{") else "AuditData is not valid JSON"
    if not str(get(data, "Id") or "").strip():
        return "AuditData has no Id"
    try:
        instant(get(data, "CreationTime"))
    except (TypeError, ValueError, AttributeError):
        return "AuditData has no valid CreationTime"
    return None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(rows=ROWS, mangle=st.integers(0, 2))
# Found by this test: Messages holding nothing but a non-object and an empty one, with MessageIds.
@example(rows=[{"id": "c4", "creationTime": "2024-04-25T17:46:40-05:30", "recordType": 284,
                "OPERATION": "CopilotInteraction", "USERID": "",
                "copilotEventData": {"MESSAGES": ["junk", {"jailbreakDetected": None}], "messageIds": ["m1", "m2"]}}],
         mangle=0)
def test_every_row_is_loaded_exactly_skipped_or_rejected_with_a_reason(tmp_path_factory, rows, mangle) -> None:
    work = tmp_path_factory.mktemp("prop")
    text = export_text([row_for(r) for r in rows])
    bad, loaded, skipped = _outcome(rows)
    if mangle:  # a row the CSV reader cannot split: one column too many, or too few
        extra = 'z,1/1/2024,261,CopilotInteraction,u@x,"{}",,,extra\r\n' if mangle == 1 else "z,1/1/2024\r\n"
        text += extra
        bad[len(rows) + 2] = "wrong number of columns"
    export = work / "export.csv"
    export.write_text(text, encoding="utf-8", newline="")
    db = work / "p.duckdb"
    if bad:
        with pytest.raises(UsageError, match=rf"line {min(bad)}: {bad[min(bad)]}"):
            import_purview_audit(db, export)
        with open_db(db) as con:
            assert con.execute("SELECT count(*) FROM audit_records").fetchone() == (0,)
            assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    rejects = work / "rejects.csv"
    summary = import_purview_audit(db, export, skip_bad_rows=True, reject_file=rejects)
    assert summary.bad_rows == len(bad)
    assert summary.imported == len(loaded)
    assert summary.already_present + sum(summary.skipped_types.values()) == skipped
    if bad:
        with rejects.open(encoding="utf-8", newline="") as f:
            reported = {int(r["line"]): r["reason"] for r in csv.DictReader(f)}
        assert set(reported) == set(bad)
        assert all(reported[line].startswith(reason) for line, reason in bad.items())
    expected: dict[str, list[Any]] = {}
    for record in loaded:
        for view, found in expected_rows(record).items():
            expected.setdefault(view, []).extend(found)
    with open_db(db, read_only=True) as con:
        assert actual_rows(con) == sort_rows({k: expected.get(k, []) for k in actual_rows(con)})
