"""The report's CSV files: one per table, formula-safe text, ISO dates, numbers left as numbers."""

from __future__ import annotations

from pathlib import Path

from m365audit.csv_output import safe_column, write_frame
from m365audit.report.model import Report, Table


def safe_frame(table: Table) -> Table:
    """Text cells made safe for a spreadsheet (the workbook's rule is the CSV writer's); other kinds untouched."""
    text = [safe_column(c.name) for c in table.columns if c.kind == "text"]
    frame = table.frame.with_columns(text) if text else table.frame
    return Table(table.key, table.title, table.columns, frame, table.description)


def write_csv_files(report: Report, folder: Path) -> list[Path]:
    """One file per table through the one CSV writer (m365audit/csv_output.py): formula-safe text, CRLF."""
    folder.mkdir(mode=0o700)
    written = []
    for table in report.tables():
        path = folder / f"{table.key}.csv"
        write_frame(table.frame, path, [c.name for c in table.columns if c.kind == "text"])
        written.append(path)
    return written
