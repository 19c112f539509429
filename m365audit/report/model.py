"""The shape every report format renders: sections holding typed tables, charts and notes.

Tables are computed once (polars DataFrames from DuckDB) and rendered by the
HTML, XLSX and CSV writers alike, so the three formats always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import polars as pl

Kind = Literal["text", "int", "float", "money", "percent", "date", "datetime", "bool"]
KINDS: tuple[Kind, ...] = ("text", "int", "float", "money", "percent", "date", "datetime", "bool")

_DTYPES: dict[Kind, pl.DataType] = {
    "text": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "money": pl.Float64(),
    "percent": pl.Float64(),  # a share between 0 and 1
    "date": pl.Date(),
    "datetime": pl.Datetime("us", "UTC"),
    "bool": pl.Boolean(),
}


# A headline figure's unit (the "unit" column) and the kind its value is shown as.
UNIT_KINDS: dict[str, Kind] = {"seats": "int", "users": "int", "share": "percent", "currency": "money"}


@dataclass(frozen=True)
class Column:
    name: str  # the DataFrame column and the CSV header
    kind: Kind
    label: str  # the heading people read
    personal: bool = False  # names or addresses: pseudonymised on request
    key: bool = False  # a stable identifier for scripts; the HTML page leaves it out
    by_unit: bool = False  # a number whose kind each row's "unit" column chooses (UNIT_KINDS)

    @property
    def dtype(self) -> pl.DataType:
        return _DTYPES[self.kind]


@dataclass
class Table:
    key: str  # file and sheet name, e.g. "departments"
    title: str  # the caption
    columns: tuple[Column, ...]
    frame: pl.DataFrame
    description: str = ""

    def conformed(self) -> Table:
        """The same table with exactly the declared columns, in order, cast to their kinds."""
        names = [c.name for c in self.columns]
        if sorted(self.frame.columns) != sorted(names):
            raise RuntimeError(f"report table {self.key} has columns {self.frame.columns}, declared {names}")
        frame = self.frame.select([pl.col(c.name).cast(c.dtype) for c in self.columns])
        return Table(self.key, self.title, self.columns, frame, self.description)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass
class Chart:
    title: str
    svg: str  # inline SVG markup, built from escaped text only (see charts.py)


@dataclass
class Section:
    key: str  # anchor id in the HTML
    title: str
    summary: list[str] = field(default_factory=list)  # sentences shown above the tables
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # caveats: missing data, definitions
    available: bool = True  # False: the data this section needs was not collected


@dataclass
class Report:
    title: str
    organisation: str | None
    as_of: datetime
    generated_at: datetime
    currency: str
    department: str | None
    pseudonymised: bool
    scope: str | None
    sections: list[Section]

    def tables(self) -> list[Table]:
        """Every table in output order (one XLSX sheet and one CSV file each)."""
        return [t for s in self.sections for t in s.tables]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)
