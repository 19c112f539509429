"""No FOI output of the demo tenant, in any format, carries personal data or a small count."""

from __future__ import annotations

import csv
import html
import io
import json
import zipfile

import pytest

from m365audit.demo import run_demo
from m365audit.store.db import open_db
from tests.conftest import run_cli

FORMATS = ("md", "csv", "json", "docx")
THRESHOLD = 5


def _plant(db) -> dict[str, str]:
    """Copilot use for a third of the users, and departments held by one or two licensed people
    (one named like a person), written straight into the history the way a tenant could hold them."""
    with open_db(db) as con:
        con.execute("""
            INSERT INTO copilot_interaction_facts (record_id, created_at, user_principal_name, user_id, record_type,
                                                   app, actor_type)
            SELECT 'planted-' || user_id, (SELECT max(taken_at) FROM snapshots) - INTERVAL 2 DAY,
                   lower(user_principal_name), CASE WHEN hash(user_id) % 2 = 0 THEN user_id END, 'CopilotInteraction',
                   'Copilot Chat (work)', 'person'
            FROM users WHERE hash(user_id) % 3 = 0""")
        holders = [r[0] for r in con.execute(
            "SELECT DISTINCT user_id FROM licence_assignments WHERE holds_copilot_seat ORDER BY user_id LIMIT 4"
        ).fetchall()]
        person = con.execute("SELECT display_name FROM users WHERE user_id NOT IN (SELECT unnest(?)) LIMIT 1",
                             [holders]).fetchone()[0]
        planted = {holders[0]: "Coroner's Office", holders[1]: "Mayor's Office", holders[2]: "Mayor's Office",
                   holders[3]: person}
        for user_id, department in planted.items():
            con.execute("UPDATE user_versions SET department = ? WHERE user_id = ? AND valid_to IS NULL",
                        [department, user_id])
    return planted


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "demo.duckdb"
    run_demo(db=db, users=800, days=30, seed=4)
    planted = _plant(db)
    outputs = {}
    for fmt in FORMATS:
        out = folder / f"answer.{fmt}"
        result = run_cli("foi", "--db", str(db), "--format", fmt, "--out", str(out), "--lower-bound")
        assert result.code == 0, result.stderr
        outputs[fmt] = out.read_bytes()
    with open_db(db, read_only=True) as con:
        people = con.execute("""
            SELECT user_id, user_principal_name, display_name, mail, job_title FROM user_versions""").fetchall()
    return outputs, people, planted


def _text(fmt: str, data: bytes) -> str:
    if fmt != "docx":
        return data.decode("utf-8")
    with zipfile.ZipFile(io.BytesIO(data)) as parts:  # every part: body, properties, styles
        return html.unescape("\n".join(parts.read(name).decode("utf-8", "replace") for name in parts.namelist()))


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_names_user_principal_names_or_ids(demo, fmt) -> None:
    outputs, people, _ = demo
    text = _text(fmt, outputs[fmt]).casefold()
    identifiers = {v for row in people for v in row[:4] if v}
    assert len(identifiers) > 2000
    leaked = sorted(v for v in identifiers if v.casefold() in text)
    assert leaked == []


def test_no_job_title_is_a_value(demo) -> None:
    outputs, people, _ = demo
    answer = json.loads(outputs["json"])
    titles = {row[4] for row in people if row[4]}
    values = {d["department"] for d in answer["departments"]} | {s["name"] for s in answer["systems"]}
    assert titles and not titles & values


def test_small_departments_show_no_small_count(demo) -> None:
    outputs, _, planted = demo
    answer = json.loads(outputs["json"])
    rows = {d["department"]: d for d in answer["departments"]}
    assert rows["Coroner's Office"]["licensed_users"] == "<5"
    assert rows["Mayor's Office"]["licensed_users"] == "<5"
    person = next(v for v in planted.values() if v not in ("Coroner's Office", "Mayor's Office"))
    assert person not in rows  # a department named like a person is never shown
    assert rows["(department name withheld)"]["licensed_users"] == "<5"
    counts = [v for s in answer["systems"] for v in (s["entitled_users"], s["licensed_users"], s["active_users"])]
    counts += [lic["assigned"] for lic in answer["licences"]]
    counts += [v for d in answer["departments"] for v in (d["licensed_users"], d["active_users"])]
    assert all(v is None or v in ("<5", "[c]") or (isinstance(v, int) and (v == 0 or v >= THRESHOLD))
               for v in counts), counts
    assert "<5" in counts


@pytest.mark.parametrize("fmt", ["md", "csv", "docx"])
def test_every_format_shows_the_suppressed_cells_as_text(demo, fmt) -> None:
    outputs, _, _ = demo
    answer = json.loads(outputs["json"])
    text = _text(fmt, outputs[fmt])
    coroner = next(d for d in answer["departments"] if d["department"] == "Coroner's Office")
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert ["departments", "Coroner's Office", "licensed_users", "<5"] in rows
    elif fmt == "md":
        assert f"| Coroner's Office | <5 | {coroner['active_users']} |" in text
    else:
        from docx import Document

        document = Document(io.BytesIO(outputs["docx"]))
        cells = [[c.text for c in row.cells] for table in document.tables for row in table.rows]
        assert ["Coroner's Office", "<5", str(coroner["active_users"])] in cells
