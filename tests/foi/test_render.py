"""Rendering: tenant-controlled text stays inert in Markdown, CSV and DOCX; marks stay text."""

from __future__ import annotations

import csv
import io
import json

from m365audit.foi.render import csv_text, markdown, md_text, render


def _answer(department: str) -> dict:
    return {
        "as_of": "2026-03-31",
        "systems": [{"name": "Microsoft 365 Copilot", "purpose": "p", "entitled_users": "<5",
                     "licensed_users": "<5", "active_users": None}],
        "licences": [{"sku_part_number": "Microsoft_365_Copilot", "purchased": 10, "assigned": "<5"}],
        "departments": [{"department": department, "licensed_users": "<5", "active_users": "[c]"}],
        "expenditure": [
            {"financial_year": "2024-25", "start": "2024-04-01", "end": "2025-03-31", "amount": None,
             "currency": "GBP", "basis": "Information not held: x.", "held": False},
            {"financial_year": "2025-26", "start": "2025-04-01", "end": "2026-03-31", "amount": 1234.5,
             "currency": "GBP", "basis": "Estimate.", "held": True},
            {"financial_year": "2023-24", "start": "2023-04-01", "end": "2024-03-31", "amount": 12.0,
             "currency": "CHF", "basis": "Lower bound.", "held": False},
        ],
        "suppression": {"threshold": 5, "secondary_method": "next_smallest"},
        "method": "First paragraph.\n\nSecond paragraph.",
    }


def test_markdown_escapes_tenant_text_but_not_the_marks() -> None:
    assert md_text("a|b *x* [l](http://e) <script> _y_ Microsoft_365") == (
        "a\\|b \\*x\\* \\[l](http://e) \\<script> \\_y\\_ Microsoft_365")
    assert md_text("line\nbreak") == "line break"
    text = markdown(_answer("Dept | <img src=x>\n# Heading"))
    assert "| Dept \\| \\<img src=x> # Heading | <5 | [c] |" in text  # "#" matters only at a line start
    assert "| Microsoft 365 Copilot | p | <5 | <5 | not held |" in text
    assert "| 2024-25 | 1 April 2024 | 31 March 2025 | not held | Information not held: x. |" in text
    assert "| £1,234.50 |" in text
    assert "| not held (lower bound 12.00 CHF) |" in text
    assert "First paragraph.\n\nSecond paragraph." in text


def test_csv_protects_spreadsheets_and_keeps_marks_as_text() -> None:
    rows = list(csv.reader(io.StringIO(csv_text(_answer("=HYPERLINK(\"http://e\")")))))
    assert ["departments", "'=HYPERLINK(\"http://e\")", "licensed_users", "<5"] in rows
    assert ["departments", "'=HYPERLINK(\"http://e\")", "active_users", "[c]"] in rows
    assert ["systems", "Microsoft 365 Copilot", "active_users", ""] in rows
    assert ["expenditure", "2024-25 2024-04-01 to 2025-03-31", "held", "false"] in rows


def test_docx_drops_characters_xml_cannot_hold() -> None:
    from docx import Document

    data = render(_answer("Finance\x00\x07 Team"), "docx")
    cells = [[c.text for c in row.cells] for t in Document(io.BytesIO(data)).tables for row in t.rows]
    assert ["Finance Team", "<5", "[c]"] in cells


def test_json_is_the_answer() -> None:
    answer = _answer("Finance")
    assert json.loads(render(answer, "json")) == answer
