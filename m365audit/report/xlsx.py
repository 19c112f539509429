"""The Excel workbook: one sheet per table, typed cells, frozen headers, filters, a provenance sheet.

Text is always written as text (never parsed as a formula, URL or number) and
text that a spreadsheet would run as a formula also gets a leading quote, so
it stays inert when someone copies it or saves the sheet as CSV.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from m365audit.report.csv_files import safe_frame
from m365audit.report.formatting import SYMBOLS
from m365audit.report.model import UNIT_KINDS, Column, Kind, Report, Table

_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")
_NUMBER_FORMATS = {"int": "#,##0", "float": "#,##0.0", "percent": "0.0%", "date": "yyyy-mm-dd",
                   "datetime": "yyyy-mm-dd hh:mm"}


def _money_format(currency: str) -> str:
    symbol = SYMBOLS.get(currency)
    return f'"{symbol}"#,##0.00' if symbol else f'#,##0.00 "{currency}"'


def sheet_name(key: str, taken: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    base = _SHEET_UNSAFE.sub("_", key)[:31]
    name, n = base, 2
    while name.lower() in taken:
        suffix = f"_{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def write_workbook(report: Report, path: Path) -> Path:
    # constant_memory: each row goes to disk once written (rows are written in order), so
    # a workbook with a row per user of a large tenant does not sit in memory cell by cell.
    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "tmpdir": str(path.parent),
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "remove_timezone": True, "default_date_format": "yyyy-mm-dd",
    })
    formats = {kind: workbook.add_format({"num_format": f}) for kind, f in _NUMBER_FORMATS.items()}
    formats["money"] = workbook.add_format({"num_format": _money_format(report.currency)})
    formats["text"] = workbook.add_format({})
    formats["bool"] = workbook.add_format({})
    header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    taken: set[str] = set()
    for table in report.tables():
        sheet = workbook.add_worksheet(sheet_name(table.key, taken))
        _write_table(sheet, safe_frame(table), formats, header)
    workbook.close()
    return path


def _write_table(sheet: Worksheet, table: Table, formats: dict[str, Format], header: Format) -> None:
    for col, column in enumerate(table.columns):
        sheet.write_string(0, col, column.label, header)
        sheet.set_column(col, col, _width(column, table), formats[column.kind])
    units = table.frame["unit"].to_list() if any(c.by_unit for c in table.columns) else None
    for row, values in enumerate(table.frame.iter_rows(), start=1):
        for col, (column, value) in enumerate(zip(table.columns, values, strict=True)):
            kind = UNIT_KINDS.get(units[row - 1], "float") if units and column.by_unit else column.kind
            _write_cell(sheet, row, col, kind, value, formats)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(table.frame.height, 1), len(table.columns) - 1)
    if table.description:
        sheet.write_comment(0, 0, table.description[:30000], {"x_scale": 3, "y_scale": 2})


def _write_cell(sheet: Worksheet, row: int, col: int, kind: Kind, value: Any,
                formats: dict[str, Format]) -> None:
    """One cell, with the number format of its kind written on the cell itself."""
    fmt = formats[kind]
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif kind == "text":
        sheet.write_string(row, col, str(value), fmt)
    elif kind == "bool":
        sheet.write_boolean(row, col, bool(value), fmt)
    elif kind in ("date", "datetime") and isinstance(value, date | datetime):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)  # stored as UTC; Excel has no time zones
        sheet.write_datetime(row, col, value, fmt)
    elif kind == "int":
        sheet.write_number(row, col, round(value), fmt)
    else:
        sheet.write_number(row, col, float(value), fmt)


def _width(column: Column, table: Table) -> float:
    longest = len(column.label)
    if column.kind == "text" and table.frame.height:
        lengths = table.frame[column.name].head(500).str.len_chars().max()
        longest = max(longest, int(lengths) if isinstance(lengths, int | float) else 0)
    elif column.kind in ("date", "datetime"):
        longest = max(longest, 16)
    return min(max(longest + 2, 8), 60)
