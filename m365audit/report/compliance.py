"""The compliance section: stored `m365audit check` results, by policy clause, new and fixed."""

from __future__ import annotations

import duckdb

from m365audit.report.charts import bar_chart
from m365audit.report.context import ReportContext
from m365audit.report.model import Section
from m365audit.report.queries import empty_table, one_row, run_table


def has_findings(con: duckdb.DuckDBPyConnection) -> bool:
    row = one_row(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'findings'")
    return bool(row and row[0])


def check_info() -> list[tuple[str, str, str]]:
    """(check id, title, clause) for every check in the catalogue the check command runs."""
    from m365audit.checks.catalogue import load_catalogue

    return [(c.id, c.title, c.clause) for c in load_catalogue()]


def compliance(ctx: ReportContext) -> Section:
    section = Section("compliance", "Compliance with the AI policy")
    if not has_findings(ctx.con):
        section.tables += [empty_table("compliance_checks"), empty_table("compliance_changes")]
        section.available = False
        section.notes.append("Compliance was not checked: this database holds no policy check results. "
                             "Run `m365audit check --policy FILE` before the report.")
        return section
    ctx.con.execute("CREATE OR REPLACE TEMP TABLE report_check_info (check_id VARCHAR, title VARCHAR, clause VARCHAR)")
    info = check_info()
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
