"""The workbook opens with openpyxl: one sheet per table, typed cells, frozen headers, filters."""

from __future__ import annotations

import re
from datetime import datetime

import openpyxl
import pytest

from tests.report.conftest import PRICE, read_csv

SHEETS = ["headline", "departments", "reclaim", "reassign", "adoption_apps", "adoption_weeks", "trend", "labels_by_label",
          "labels_unlabelled", "first_use", "agents", "reconciliation", "reconciliation_apps", "compliance_checks",
          "compliance_findings", "compliance_changes", "provenance", "about"]


@pytest.fixture(scope="module")
def workbook(report_dir):
    book = openpyxl.load_workbook(report_dir / "copilot-report.xlsx")
    yield book
    book.close()


def column(sheet, label: str) -> list:
    headers = [c.value for c in sheet[1]]
    index = headers.index(label)
    return [row[index] for row in sheet.iter_rows(min_row=2)]


def test_one_sheet_per_table_and_one_csv_each(workbook, report_dir) -> None:
    assert workbook.sheetnames == SHEETS
    assert sorted(p.stem for p in (report_dir / "csv").glob("*.csv")) == sorted(SHEETS)


def test_every_sheet_has_a_frozen_header_and_a_filter(workbook) -> None:
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        assert all(cell.font.b for cell in sheet[1]), sheet.title


def test_cells_are_typed(workbook, report_dir) -> None:
    reclaim = workbook["reclaim"]
    since = column(reclaim, "Licensed since")
    assert since and all(isinstance(c.value, datetime) and c.number_format == "yyyy-mm-dd" for c in since)
    assert all(isinstance(c.value, int) for c in column(reclaim, "Days idle") if c.value is not None)
    costs = column(reclaim, "Monthly cost")
    assert all(c.value == PRICE and "£" in c.number_format for c in costs)
    assert all(isinstance(c.value, bool) for c in column(reclaim, "Account enabled"))
    trend = workbook["trend"]
    assert all(isinstance(c.value, datetime) for c in column(trend, "Snapshot"))
    in_csv = [int(r["seat_holders"]) for r in read_csv(report_dir / "csv" / "trend.csv")]
    assert [c.value for c in column(trend, "Seat holders")] == in_csv
    utilisation = column(workbook["departments"], "Utilisation")
    assert all(c.data_type == "n" and c.number_format == "0.0%" for c in utilisation)


EXPECTED_FORMATS = {"int": "#,##0", "float": "#,##0.0", "percent": "0.0%", "money": '"£"#,##0.00',
                    "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "text": "General", "bool": "General"}


def test_every_cell_of_every_sheet_has_the_format_of_its_kind(workbook, report_db, policy) -> None:
    from m365audit.report.manager import build_report
    from m365audit.report.model import UNIT_KINDS
    from m365audit.store.db import open_db

    with open_db(report_db, read_only=True) as con:
        report = build_report(con, policy)
    checked = 0
    for table in report.tables():
        sheet = workbook[table.key]
        units = table.frame["unit"].to_list() if any(c.by_unit for c in table.columns) else None
        for index, column in enumerate(table.columns):
            for n, cell in enumerate(next(sheet.iter_cols(min_col=index + 1, max_col=index + 1, min_row=2))):
                kind = UNIT_KINDS[units[n]] if units and column.by_unit else column.kind
                assert cell.number_format == EXPECTED_FORMATS[kind], (table.key, column.name, n)
                if kind == "int" and cell.value is not None:
                    assert isinstance(cell.value, int), (table.key, column.name, n)
                checked += 1
    assert checked > 1000


def test_headline_cells_each_have_their_own_type_and_format(workbook, report_dir) -> None:
    sheet = workbook["headline"]
    cells = {row[0].value: row[2] for row in sheet.iter_rows(min_row=2)}
    assert isinstance(cells["seats_purchased"].value, int) and cells["seats_purchased"].number_format == "#,##0"
    assert cells["utilisation_30_days"].number_format == "0.0%"
    assert cells["idle_monthly_cost"].number_format == '"£"#,##0.00'
    rows = {r["measure"]: r["value"] for r in read_csv(report_dir / "csv" / "headline.csv")}
    assert re.fullmatch(r"\d+", rows["seats_purchased"]) and re.fullmatch(r"\d+", rows["seat_holders"])
    assert "." in rows["utilisation_30_days"]


def test_headline_values_match_the_csv(workbook, report_dir) -> None:
    sheet = workbook["headline"]
    in_book = {row[0].value: row[2].value for row in sheet.iter_rows(min_row=2)}
    rows = read_csv(report_dir / "csv" / "headline.csv")
    in_csv = {r["measure"]: float(r["value"]) if r["value"] else None for r in rows}
    assert in_book == pytest.approx(in_csv)
    assert all(isinstance(v, int | float) for v in in_book.values() if v is not None)
