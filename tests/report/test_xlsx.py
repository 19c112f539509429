"""The workbook opens with openpyxl: one sheet per table, typed cells, frozen headers, filters."""

from __future__ import annotations

from datetime import datetime

import openpyxl
import pytest

from tests.report.conftest import PRICE, read_csv

SHEETS = ["headline", "departments", "reclaim", "reassign", "adoption_apps", "adoption_weeks", "trend", "labels_by_label",
          "labels_unlabelled", "first_use", "agents", "reconciliation", "reconciliation_apps", "compliance_checks",
          "compliance_changes", "provenance", "about"]


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


def test_headline_values_match_the_csv(workbook, report_dir) -> None:
    sheet = workbook["headline"]
    in_book = {row[0].value: row[2].value for row in sheet.iter_rows(min_row=2)}
    rows = read_csv(report_dir / "csv" / "headline.csv")
    in_csv = {r["measure"]: float(r["value"]) if r["value"] else None for r in rows}
    assert in_book == pytest.approx(in_csv)
    assert all(isinstance(v, int | float) for v in in_book.values() if v is not None)
