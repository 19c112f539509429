"""The report's agents section: each agent with users, trend and a verdict by its stated rule, in HTML, XLSX
and CSV alike, with hostile agent names shown as text and never run as formulas."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

from m365audit.policy import Policy
from m365audit.report.manager import write_reports
from m365audit.store.db import open_db
from tests.checks.activity import Interaction, Resource, add_interaction
from tests.conftest import ANCHOR
from tests.report.conftest import read_csv
from tests.report.test_safety import parsed

HOSTILE_AGENT = '=HYPERLINK("http://evil.example/a","Agent")<script>alert(2)</script>'
CHAT = {"app_host": "BizChat", "app_identity": "Copilot.MicrosoftCopilot.BizChat"}
STUDIO = {"app_host": "Teams", "app_identity": "Copilot.Studio.0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"}


@pytest.fixture(scope="module")
def agents_report(report_db: Path, policy: Policy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("agents")
    db = folder / "tenant.duckdb"
    shutil.copy(report_db, db)
    with open_db(db) as con:
        upns = [r[0] for r in con.execute("SELECT user_principal_name FROM users ORDER BY 1 LIMIT 3").fetchall()]
        hostile = {"agent_id": "CopilotStudio.Declarative.T_bad", "agent_name": HOSTILE_AGENT, **CHAT}
        secret = Resource("restructure.docx", "https://examplegovuk.sharepoint.com/sites/HR/r.docx",
                          label="Highly Confidential")
        for n, (upn, days) in enumerate(((upns[0], 1), (upns[1], 2), (upns[1], 40))):
            add_interaction(con, Interaction(f"agent-h{n}", upn, ANCHOR - timedelta(days=days),
                                             resources=(secret,) if n == 0 else (), **hostile))  # type: ignore[arg-type]
        add_interaction(con, Interaction("agent-s", upns[2], ANCHOR - timedelta(days=45), **STUDIO))  # type: ignore[arg-type]
        add_interaction(con, Interaction("agent-r", upns[2], ANCHOR - timedelta(days=3), agent_name="Researcher",
                                         **CHAT))  # type: ignore[arg-type]
    out = folder / "out"
    write_reports(db=db, out=out, policy=replace(policy, restricted_labels=("Highly Confidential",)))
    return out


def test_each_agent_has_users_trend_and_a_verdict_by_its_rule(agents_report: Path) -> None:
    rows = read_csv(agents_report / "csv" / "agents.csv")
    got = [(r["agent_name"], r["kind"], r["users_30d"], r["users_prev_30d"], r["trend"], r["restricted_resources_read"],
            r["verdict"]) for r in rows]
    assert got == [
        ("'" + HOSTILE_AGENT, "declarative", "2", "1", "rising", "1", "Review"),
        ("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "copilot studio", "0", "1", "falling", "0", "Retire"),
        ("Researcher", "microsoft", "1", "0", "new", "0", "Keep"),
    ]
    assert [r["rule"] for r in rows] == ["read content with a restricted label: review it",
                                         "nobody used it in the last 30 days: retire it",
                                         "used in the last 30 days and read nothing restricted: keep it"]


def test_agent_names_are_text_in_html_and_xlsx(agents_report: Path) -> None:
    html = (agents_report / "copilot-report.html").read_text(encoding="utf-8")
    page = parsed(agents_report)
    assert "script" not in page.tags and HOSTILE_AGENT in "".join(page.text)
    assert "<script>alert(2)" not in html and 'id="agents"' in html
    assert "Verdict rule: Review when the agent read content" in html
    book = openpyxl.load_workbook(agents_report / "copilot-report.xlsx")
    try:
        sheet = next(s for s in book.worksheets if s.title.startswith("agents"))
        cells = [c for row in sheet.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"]
        assert any(c.value == "'" + HOSTILE_AGENT and c.data_type == "s" for c in cells)
    finally:
        book.close()
