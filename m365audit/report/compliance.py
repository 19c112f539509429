"""The compliance section: the results of the report's policy, by clause, with the findings to act on.

The results are those of the policy the report names (check_results.py says how);
the policy file and its hash are named above them. Each failing check comes with its
remediation paragraph (from the check's header) and its findings: open, muted with
the reason and end date, and fixed since the previous run.
"""

from __future__ import annotations

import duckdb

from m365audit.report.charts import bar_chart
from m365audit.report.check_results import prepare_check_results
from m365audit.report.context import ReportContext
from m365audit.report.model import Section
from m365audit.report.queries import empty_table, one_row, run_table
from m365audit.wording import plural

TABLES = ("compliance_checks", "compliance_findings", "compliance_changes")


def has_findings(con: duckdb.DuckDBPyConnection) -> bool:
    row = one_row(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'check_runs'")
    return bool(row and row[0])


def check_info() -> list[tuple[str, str, str, str]]:
    """(check id, title, clause, remediation) for every check in the catalogue the check command runs."""
    from m365audit.checks.catalogue import load_catalogue

    return [(c.id, c.title, c.clause, c.remediation) for c in load_catalogue()]


def compliance(ctx: ReportContext) -> Section:
    section = Section("compliance", "Compliance with the AI policy")
    source = prepare_check_results(ctx.con, ctx.policy) if has_findings(ctx.con) else None
    if source is None:
        section.tables += [empty_table(name) for name in TABLES]
        section.available = False
        section.notes.append("Compliance was not checked: this database holds no policy check results. "
                             "Run `m365audit check --policy FILE` before the report, or give the report --policy.")
        return section
    ctx.con.execute("CREATE OR REPLACE TEMP TABLE report_check_info "
                    "(check_id VARCHAR, title VARCHAR, clause VARCHAR, remediation VARCHAR)")
    ctx.con.executemany("INSERT INTO report_check_info VALUES (?, ?, ?, ?)", check_info())
    checks, findings, changes = (run_table(ctx.con, name) for name in TABLES)
    section.tables += [checks, findings, changes]
    section.summary.append(source.sentence)
    failing = checks.frame.filter(checks.frame["status"] == "fail")
    new = changes.frame.filter(changes.frame["change"] == "new").height
    fixed = changes.frame.height - new
    section.summary.append(f"{plural(failing.height, 'check')} of {checks.frame.height} fail; "
                           f"{plural(new, 'finding')} new and {fixed} fixed since the previous check run.")
    if ctx.department:
        section.notes.append("Policy checks cover the whole organisation, not only the chosen department.")
    if failing.height:
        section.charts.append(bar_chart("Open findings by check", failing["title"].to_list(),
                                        [("Open findings", failing["open_findings"].to_list())]))
    return section

