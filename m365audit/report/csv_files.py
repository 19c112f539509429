"""CSV output: one file per table, formula-safe text, ISO dates, numbers left as numbers."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from m365audit.report.model import UNIT_KINDS, Report, Table
from m365audit.report.safety import spreadsheet_safe_column


def safe_frame(table: Table) -> Table:
    """Text cells that a spreadsheet would run as formulas get a leading quote; other kinds are untouched."""
    text = [spreadsheet_safe_column(c.name) for c in table.columns if c.kind == "text"]
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
    folder.mkdir()
    written = []
    for table in report.tables():
        path = folder / f"{table.key}.csv"
        # A byte-order mark makes Excel read UTF-8 (names with accents, the pound sign) correctly.
        safe_frame(typed_by_unit(table)).frame.write_csv(path, include_bom=True, date_format="%Y-%m-%d",
                                          datetime_format="%Y-%m-%dT%H:%M:%SZ", float_precision=None)
        written.append(path)
    return written
