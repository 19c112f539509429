"""The HTML report: one self-contained file from the Jinja2 templates in reports/.

Autoescaping is on for everything; the only markup passed through unescaped is
the SVG built by charts.py, which escapes its own text. A Content-Security-Policy
in the page forbids every network load and every script, so even a mistake in
escaping could not make the page run code or fetch anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from m365audit.csv_output import display_text
from m365audit.report import formatting as fmt
from m365audit.report.model import Chart, Column, Report, Section, Table
from m365audit.resources import reports_dir

MAX_HTML_ROWS = 500  # longer tables are complete in the workbook and the CSV files
PAGE_ROWS = 50  # rows per page of a long table: pages are <details> blocks (the page runs no script)
NUMERIC = ("int", "float", "money", "percent")


@dataclass(frozen=True)
class HtmlTable:
    table: Table
    columns: list[Column]  # those shown: key columns are for scripts, not readers
    rows: list[list[str]]
    classes: list[str]  # per column: "num" (right-aligned), "date" (kept on one line) or ""
    hidden_rows: int

    @property
    def pages(self) -> list[tuple[str, list[list[str]]]]:
        """(label, rows) per page of PAGE_ROWS rows; one unlabelled page for a short table."""
        if len(self.rows) <= PAGE_ROWS:
            return [("", self.rows)]
        total = len(self.rows) + self.hidden_rows
        return [(f"Rows {start + 1:,}\u2013{min(start + PAGE_ROWS, len(self.rows)):,} of {total:,}",
                 self.rows[start:start + PAGE_ROWS]) for start in range(0, len(self.rows), PAGE_ROWS)]


def html_table(table: Table, currency: str) -> HtmlTable:
    shown = table.frame.head(MAX_HTML_ROWS)
    visible = [i for i, c in enumerate(table.columns) if not c.key]
    columns = [table.columns[i] for i in visible]
    rows = [[fmt.cell(row[i], table.columns[i].kind, currency) for i in visible] for row in shown.iter_rows()]
    classes = ["num" if c.kind in NUMERIC else "date" if c.kind in ("date", "datetime") else "" for c in columns]
    return HtmlTable(table, columns, rows, classes, table.frame.height - shown.height)


@dataclass(frozen=True)
class FindingGroup:
    """One failing check in the findings list: what it asks, what to do, and its findings."""

    title: str
    severity: str
    clause: str
    remediation: str
    open_findings: int
    muted: int
    findings: HtmlTable


@dataclass(frozen=True)
class SectionView:
    section: Section
    tables: list[HtmlTable]
    charts: list[Chart]
    finding_groups: list[FindingGroup]


def section_view(section: Section, currency: str) -> SectionView:
    groups = finding_groups(section, currency) if section.key == "compliance" and section.available else []
    return SectionView(section, [html_table(t, currency) for t in section.tables], section.charts, groups)


def finding_groups(section: Section, currency: str) -> list[FindingGroup]:
    """The findings grouped by check, each with the check's remediation, most severe check first."""
    import polars as pl

    checks = next(t for t in section.tables if t.key == "compliance_checks")
    findings = next(t for t in section.tables if t.key == "compliance_findings")
    shown = [c for c in findings.columns if c.name not in ("check_id", "title", "severity")]
    groups = []
    for check_id in dict.fromkeys(findings.frame["check_id"].to_list()):
        row = checks.frame.filter(pl.col("check_id") == check_id).row(0, named=True)
        rows = findings.frame.filter(pl.col("check_id") == check_id).select([c.name for c in shown])
        table = Table(f"findings-{check_id}", f"Findings: {row['title']}", tuple(shown), rows)
        groups.append(FindingGroup(row["title"], row["severity"], row["clause"], row["remediation"],
                                   row["open_findings"], row["excepted"], html_table(table, currency)))
    return groups


def headline_cards(report: Report) -> list[tuple[str, str]]:
    frame = report.section("headline").tables[0].frame
    return [(row["figure"], fmt.by_unit(row["value"], row["unit"], report.currency))
            for row in frame.iter_rows(named=True)]


def environment() -> jinja2.Environment:
    # finalize: every printed text loses NUL and bidirectional overrides before it is escaped.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(reports_dir())), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              finalize=_visible)


def _visible(value: Any) -> Any:
    """Plain text without NUL and direction overrides; markup built by the report (charts) is kept."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return display_text(value)
    return value


def render_html(report: Report) -> str:
    template = environment().get_template("report.html.j2")
    return template.render(
        report=report,
        cards=headline_cards(report),
        sections=[section_view(s, report.currency) for s in report.sections],
        generated=fmt.day(report.generated_at),
        as_of=fmt.day(report.as_of),
    )


def write_html(report: Report, path: Path) -> Path:
    path.write_text(render_html(report), encoding="utf-8")
    return path
