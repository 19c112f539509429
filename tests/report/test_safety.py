"""Hostile names planted in the simulated tenant are shown as text and never run as formulas."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import polars as pl

from m365audit.report.csv_files import safe_frame
from m365audit.report.model import Column, Table
from tests.report.conftest import read_csv
from tests.report.tenant_data import HOSTILE_DEPARTMENT, HOSTILE_NAME, NUMERIC_LOOKING_NAME


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [f"{name}={value}" for name, value in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(report_dir: Path) -> _Collector:
    collector = _Collector()
    collector.feed((report_dir / "copilot-report.html").read_text(encoding="utf-8"))
    return collector


def test_html_shows_hostile_names_as_text(report_dir) -> None:
    html = (report_dir / "copilot-report.html").read_text(encoding="utf-8")
    page = parsed(report_dir)
    assert "script" not in page.tags  # nothing in the page runs
    assert HOSTILE_NAME in page.text  # ... and the name reads exactly as the tenant holds it
    assert HOSTILE_DEPARTMENT in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert not any(a.startswith("on") for a in page.attributes)


def test_html_loads_nothing_from_the_network(report_dir) -> None:
    html = (report_dir / "copilot-report.html").read_text(encoding="utf-8")
    page = parsed(report_dir)
    assert "default-src 'none'" in html
    assert not {"link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert not any(a.startswith(("src=", "href=http")) for a in page.attributes)


def test_csv_neutralises_formulas(report_dir) -> None:
    departments = [r["department"] for r in read_csv(report_dir / "csv" / "departments.csv")]
    assert "'" + HOSTILE_DEPARTMENT in departments
    assert HOSTILE_DEPARTMENT not in departments
    reclaim = {r["user_principal_name"]: r for r in read_csv(report_dir / "csv" / "reclaim.csv")}
    names = {r["display_name"] for r in reclaim.values()}
    assert HOSTILE_NAME in names  # not a formula: left as it is
    hostile = next(r for r in reclaim.values() if r["display_name"] == HOSTILE_NAME)
    assert hostile["department"] == "'" + HOSTILE_DEPARTMENT
    for path in (report_dir / "csv").glob("*.csv"):
        for row in read_csv(path):
            for value in row.values():
                assert not value.startswith(("=", "+", "@", "\t", "\r")), (path.name, value)


def test_xlsx_holds_formulas_as_quoted_text(report_dir) -> None:
    book = openpyxl.load_workbook(report_dir / "copilot-report.xlsx")
    try:
        cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
        hostile = [c for c in cells if isinstance(c.value, str) and HOSTILE_DEPARTMENT in c.value]
        assert hostile and all(c.value == "'" + HOSTILE_DEPARTMENT and c.data_type == "s" for c in hostile)
    finally:
        book.close()


def test_numeric_looking_text_is_quoted_but_numbers_stay_numbers(tmp_path) -> None:
    columns = (Column("name", "text", "Name"), Column("change", "int", "Change"), Column("share", "percent", "Share"))
    frame = pl.DataFrame({"name": [NUMERIC_LOOKING_NAME, "+44 20 7946 0000", "Ada"], "change": [-5, 3, 0],
                          "share": [-0.25, 0.5, None]})
    safe = safe_frame(Table("t", "T", columns, frame)).frame
    assert safe["name"].to_list() == ["'-2+3", "'+44 20 7946 0000", "Ada"]
    assert safe["change"].to_list() == [-5, 3, 0]
    assert safe["share"].to_list() == [-0.25, 0.5, None]


def test_numeric_looking_display_name_is_quoted_in_csv_and_xlsx(report_dir) -> None:
    names = {r["display_name"] for r in read_csv(report_dir / "csv" / "reclaim.csv")}
    assert "'" + NUMERIC_LOOKING_NAME in names  # the planted user never uses Copilot, so is listed
    book = openpyxl.load_workbook(report_dir / "copilot-report.xlsx")
    try:
        cells = [row[0] for row in book["reclaim"].iter_rows(min_row=2)]
        assert "'" + NUMERIC_LOOKING_NAME in [c.value for c in cells]
        assert all(c.data_type == "s" for c in cells)
    finally:
        book.close()
