"""The manager report: licence use, cost, adoption, labels, reconciliation, compliance, provenance.

``write_reports`` reads the DuckDB file only (never Microsoft Graph), computes
every table once, and renders the same tables as HTML, XLSX and CSV:

    copilot-report[-<department>].html    one self-contained page
    copilot-report[-<department>].xlsx    one sheet per table
    csv[-<department>]/<table>.csv        one file per table

All files appear together or not at all (see output.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from m365audit.errors import UsageError
from m365audit.policy import Policy
from m365audit.report import activity, seats
from m365audit.report.compliance import compliance
from m365audit.report.context import ReportContext, prepare
from m365audit.report.model import Report, Section
from m365audit.report.output import publish, staging
from m365audit.report.provenance import collection_scope, provenance
from m365audit.report.pseudonym import Pseudonymiser, load_key
from m365audit.report.queries import one_row

FORMATS = ("html", "xlsx", "csv")
TITLE = "Microsoft 365 Copilot: licences, use and policy"
Progress = Callable[[str, int], None]
SectionBuilder = Callable[[ReportContext], Section]
SECTIONS: tuple[tuple[str, SectionBuilder], ...] = (
    ("headline figures", seats.headline),
    ("departments", seats.departments),
    ("seats to reclaim", seats.reclaim),
    ("adoption by app", activity.adoption),
    ("trend", seats.trend),
    ("sensitivity labels", activity.labels),
    ("time to first use", seats.first_use),
    ("reconciliation", activity.reconciliation),
    ("compliance", compliance),
)
STEPS = len(SECTIONS) + 2  # the sections, provenance, and the working tables before them


def parse_formats(formats: str | Sequence[str]) -> tuple[str, ...]:
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in items if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise UsageError(f"--format {','.join(unknown) or '(empty)'} is not a list of {', '.join(FORMATS)}.")
    return chosen


def file_stem(department: str | None) -> str:
    if not department:
        return "copilot-report"
    slug = re.sub(r"[^a-z0-9]+", "-", department.casefold()).strip("-") or "department"
    return f"copilot-report-{slug[:60]}"


def build_report(con: duckdb.DuckDBPyConnection, policy: Policy, department: str | None = None,
                 pseudonymiser: Pseudonymiser | None = None, progress: Progress | None = None) -> Report:
    """Compute every section from an open database connection."""
    step = progress or (lambda label, n: None)
    step("Preparing working tables", 1)
    ctx = prepare(con, policy, department)
    generated_at = datetime.now(UTC)
    scope = collection_scope(ctx)
    sections = []
    for label, builder in SECTIONS:
        step(f"Computing {label}", 1)
        sections.append(builder(ctx))
    step("Computing provenance", 1)
    sections.append(provenance(ctx, generated_at, scope, pseudonymiser is not None))
    if pseudonymiser is not None:
        for section in sections:
            section.tables = [pseudonymiser.table(t) for t in section.tables]
    return Report(TITLE, _organisation(ctx), ctx.as_of, generated_at, policy.currency, ctx.department,
                  pseudonymiser is not None, scope, sections)


def _organisation(ctx: ReportContext) -> str | None:
    """The most common companyName among the report's users: the organisation's own name."""
    row = one_row(ctx.con,
        "SELECT company_name FROM users_at((SELECT as_of FROM report_params)) "
        "WHERE nullif(trim(company_name), '') IS NOT NULL GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1"
    )
    return str(row[0]) if row else None


def report_names(formats: Sequence[str], department: str | None) -> list[str]:
    """The files and folder ``write_reports`` creates or replaces inside its folder."""
    stem = file_stem(department)
    names = {"html": f"{stem}.html", "xlsx": f"{stem}.xlsx", "csv": "csv" + stem.removeprefix("copilot-report")}
    return [names[f] for f in formats]


def write_reports(db: Path, out: Path, formats: str | Sequence[str] = FORMATS, policy: Policy | None = None,
                  pseudonymise: bool = False, department: str | None = None,
                  progress: Progress | None = None, replace: bool = False,
                  inputs: Sequence[Path] = ()) -> list[Path]:
    """Write the report files into ``out`` (created if missing); return their paths.

    ``out`` passes the output guard (m365audit/outputs.py) first: a folder that
    holds files m365audit did not write needs ``replace``; the database and the
    ``inputs`` (policy file, configuration) are never overwritten.
    """
    from m365audit.outputs import check_folder, protected_paths
    from m365audit.report.csv_files import write_csv_files
    from m365audit.report.html import write_html
    from m365audit.report.xlsx import write_workbook
    from m365audit.store.db import open_db

    chosen = parse_formats(formats)
    out = Path(out)
    sources = [*inputs, *([Path(policy.source)] if policy and policy.source and Path(policy.source).is_file() else [])]
    protected = protected_paths(db, sources)
    pseudonymiser = Pseudonymiser(load_key(out)) if pseudonymise else None
    check_folder(out, option="--out", replace=replace, protected=protected,
                 names=report_names(chosen, department))
    with open_db(db, read_only=True) as con:
        report = build_report(con, policy or Policy(), department, pseudonymiser, progress)
    stem = file_stem(report.department)
    step = progress or (lambda label, n: None)
    with staging(out) as tmp:
        names = []
        if "html" in chosen:
            step("Writing HTML", 1)
            names.append(write_html(report, tmp / f"{stem}.html").name)
        if "xlsx" in chosen:
            step("Writing Excel workbook", 1)
            names.append(write_workbook(report, tmp / f"{stem}.xlsx").name)
        if "csv" in chosen:
            step("Writing CSV files", 1)
            folder = "csv" + stem.removeprefix("copilot-report")
            write_csv_files(report, tmp / folder)
            names.append(folder)
        return publish(tmp, out, names, protected)
