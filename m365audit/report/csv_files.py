"""The report's CSV files: one per table, formula-safe text, ISO dates, numbers left as numbers."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from m365audit.csv_output import safe_column, write_frame
from m365audit.report.model import UNIT_KINDS, Report, Table


def safe_frame(table: Table) -> Table:
    """Text cells made safe for a spreadsheet (the workbook's rule is the CSV writer's); other kinds untouched."""
    text = [safe_column(c.name) for c in table.columns if c.kind == "text"]
    frame = table.frame.with_columns(text) if text else table.frame
    return Table(table.key, table.title, table.columns, frame, table.description)


def typed_by_unit(table: Table) -> Table:
    """A by_unit number as text in its row's kind: whole numbers as integers ("266"), others as they are."""
    columns = [c for c in table.columns if c.by_unit]
    if not columns:
        return table
    whole = pl.col("unit").is_in([u for u, k in UNIT_KINDS.items() if k == "int"])
    frame = table.frame.with_columns([
        pl.when(pl.col(c.name).is_null()).then(pl.lit(None, pl.String))
        .when(whole).then(pl.col(c.name).round(0).cast(pl.Int64).cast(pl.String))
        .otherwise(pl.col(c.name).cast(pl.String)).alias(c.name) for c in columns])
    return Table(table.key, table.title, table.columns, frame, table.description)


def write_csv_files(report: Report, folder: Path) -> list[Path]:
    """One file per table through the one CSV writer (m365audit/csv_output.py): formula-safe text, CRLF."""
    folder.mkdir(mode=0o700)
    written = []
    for table in report.tables():
        path = folder / f"{table.key}.csv"
        shown = typed_by_unit(table)
        write_frame(shown.frame, path, [c.name for c in table.columns if c.kind == "text"])
        written.append(path)
    return written
