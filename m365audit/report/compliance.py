"""The compliance section: stored `m365audit check` results, by policy clause, new and fixed."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from m365audit.report.charts import bar_chart
from m365audit.report.context import ReportContext
from m365audit.report.model import Section
from m365audit.report.queries import empty_table, one_row, run_table
from m365audit.resources import queries_dir

_HEADER = re.compile(r"^--\s*(?P<key>title|(?:policy[ _]?)?clause)\s*:\s*(?P<value>.+?)\s*$", re.IGNORECASE)


def has_findings(con: duckdb.DuckDBPyConnection) -> bool:
    row = one_row(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'findings'")
    return bool(row and row[0])


def check_info(folder: Path) -> list[tuple[str, str, str]]:
    """(check id, title, clause) from the header comments of queries/checks/<id>.sql, where present."""
    rows = []
    for file in sorted(folder.glob("*.sql")) if folder.is_dir() else []:
        found = {"title": "", "clause": ""}
        for line in file.read_text(encoding="utf-8").splitlines():
            if not line.startswith("--"):
                break
            match = _HEADER.match(line)
            if match:
                key = "title" if match["key"].lower() == "title" else "clause"
                found[key] = found[key] or match["value"]
        rows.append((file.stem, found["title"], found["clause"]))
    return rows


def compliance(ctx: ReportContext) -> Section:
    section = Section("compliance", "Compliance with the AI policy")
    if not has_findings(ctx.con):
        section.tables += [empty_table("compliance_checks"), empty_table("compliance_changes")]
        section.available = False
        section.notes.append("Compliance was not checked: this database holds no policy check results. "
                             "Run `m365audit check --policy FILE` before the report.")
        return section
    ctx.con.execute("CREATE OR REPLACE TEMP TABLE report_check_info (check_id VARCHAR, title VARCHAR, clause VARCHAR)")
    info = check_info(queries_dir() / "checks")
    if info:
        ctx.con.executemany("INSERT INTO report_check_info VALUES (?, ?, ?)", info)
    checks = run_table(ctx.con, "compliance_checks")
    changes = run_table(ctx.con, "compliance_changes")
    section.tables += [checks, changes]
    if checks.frame.height == 0:
        section.available = False
        section.notes.append("Compliance was not checked: no `m365audit check` run is stored yet.")
        return section
    failing = checks.frame.filter(checks.frame["status"] == "fail")
    new = changes.frame.filter(changes.frame["change"] == "new").height
    fixed = changes.frame.height - new
    section.summary.append(f"{failing.height} of {checks.frame.height} checks fail; {new} findings are new and "
                           f"{fixed} fixed since the previous check run.")
    if ctx.department:
        section.notes.append("Policy checks cover the whole organisation, not only the chosen department.")
    if failing.height:
        section.charts.append(bar_chart("Open findings by check", failing["check_id"].to_list(),
                                        [("Open findings", failing["open_findings"].to_list())]))
    return section
