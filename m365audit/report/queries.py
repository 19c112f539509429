"""Report tables as SQL files in queries/reports/, each with a header declaring its columns.

A file starts with a comment block::

    -- table: departments
    -- title: Copilot seats by department
    -- One sentence or more saying what a row is.
    --   department (text): Department
    --   licensed_users (int): Licensed users
    --   user_principal_name (text, personal): Sign-in name
    --   measure (text, key): Measure

"personal" columns are pseudonymised on request; "key" columns are stable
identifiers for scripts (in the workbook and CSV) that the HTML page leaves out;
a "by_unit" number takes its kind per row from the table's "unit" column
(seats and users are whole numbers, share a percentage, currency money).
The header is the table's contract: the loader refuses a file without one,
and running it refuses a result whose columns differ from it. Queries read
the working tables built by setup.sql (report_params, report_users, ...), so
they take no bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import duckdb

from m365audit.report.model import KINDS, Column, Kind, Table
from m365audit.resources import queries_dir

_TABLE = re.compile(r"^-- table: (\w+)\s*$")
_TITLE = re.compile(r"^-- title: (.+)$")
_COLUMN = re.compile(r"^--\s{3}(\w+) \((\w+)((?:, (?:personal|key|by_unit))*)\): (.+)$")


@dataclass(frozen=True)
class ReportQuery:
    key: str
    title: str
    description: str
    columns: tuple[Column, ...]
    sql: str


def _parse(name: str, text: str) -> ReportQuery:
    lines = text.splitlines()
    key = _TABLE.match(lines[0]) if lines else None
    title = _TITLE.match(lines[1]) if len(lines) > 1 else None
    if not key or not title or key.group(1) != name:
        raise RuntimeError(f"queries/reports/{name}.sql must start with '-- table: {name}' and '-- title: ...'")
    description: list[str] = []
    columns: list[Column] = []
    for line in lines[2:]:
        if not line.startswith("--"):
            break
        column = _COLUMN.match(line)
        if column:
            kind = column.group(2)
            if kind not in KINDS:
                raise RuntimeError(f"queries/reports/{name}.sql: column {column.group(1)} has unknown kind {kind}")
            flags = column.group(3)
            columns.append(Column(column.group(1), cast(Kind, kind), column.group(4).strip(),
                                  personal="personal" in flags, key="key" in flags,
                                  by_unit="by_unit" in flags))
        elif not columns:
            description.append(line[2:].strip())
    if not columns:
        raise RuntimeError(f"queries/reports/{name}.sql declares no columns")
    return ReportQuery(name, title.group(1).strip(), " ".join(description), tuple(columns), text)


@cache
def report_query(name: str) -> ReportQuery:
    path = queries_dir() / "reports" / f"{name}.sql"
    return _parse(name, path.read_text(encoding="utf-8"))


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    """The first row of a small result, read to the end (duckdb 2 refuses new work while a result is pending)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def run_table(con: duckdb.DuckDBPyConnection, name: str) -> Table:
    """Run queries/reports/<name>.sql and return it as a typed table."""
    query = report_query(name)
    frame = con.sql(query.sql).pl()
    return Table(query.key, query.title, query.columns, frame, query.description).conformed()


def empty_table(name: str) -> Table:
    """The table's declared columns with no rows, for a section whose data is absent."""
    import polars as pl

    query = report_query(name)
    frame = pl.DataFrame(schema={c.name: c.dtype for c in query.columns})
    return Table(query.key, query.title, query.columns, frame, query.description)


def run_script(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Run a SQL file of statements (the working tables), e.g. queries/reports/setup.sql."""
    con.execute((queries_dir() / "reports" / f"{name}.sql").read_text(encoding="utf-8"))
