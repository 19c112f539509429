"""The provenance section: sources, periods, tool versions and scope, so figures can be traced."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from m365audit import __version__
from m365audit.report import formatting as fmt
from m365audit.report.compliance import has_findings
from m365audit.report.context import ReportContext
from m365audit.report.model import Column, Section, Table
from m365audit.report.queries import one_row, run_table
from m365audit.wording import plural

ABOUT_COLUMNS = (Column("item", "text", "Item"), Column("value", "text", "Value"))


def collection_scope(ctx: ReportContext) -> str | None:
    """The scope of the latest successful collection (runs.scope); None = the whole tenant."""
    row = one_row(ctx.con,
        "SELECT scope FROM runs WHERE status = 'succeeded' AND command <> 'check' AND started_at <= ? "
        "ORDER BY started_at DESC LIMIT 1", [ctx.as_of])
    return row[0] if row else None


def _checks_row(ctx: ReportContext) -> dict[str, object]:
    row = None
    if has_findings(ctx.con):
        row = one_row(ctx.con,
            "SELECT max(checked_at), count(*) FILTER (WHERE run_id = (SELECT run_id FROM findings "
            "ORDER BY checked_at DESC LIMIT 1)) FROM findings")
    checked = bool(row and row[0])
    return {"source": "Policy checks (m365audit check)", "status": "checked" if checked else "not checked",
            "collected_at": row[0] if row and checked else None, "period_from": None, "period_to": None,
            "rows": int(row[1]) if row and checked else 0,
            "detail": "latest check run" if checked else "no check results stored: compliance was not checked"}


def _sources(ctx: ReportContext) -> Table:
    table = run_table(ctx.con, "provenance")
    extra = pl.DataFrame([_checks_row(ctx)], schema={c.name: c.dtype for c in table.columns})
    return Table(table.key, table.title, table.columns, pl.concat([table.frame, extra]),
                 table.description).conformed()


def _about(ctx: ReportContext, generated_at: datetime, scope: str | None, pseudonymised: bool) -> Table:
    versions = one_row(ctx.con,
        "SELECT string_agg(DISTINCT tool_version, ', ' ORDER BY tool_version) FROM runs WHERE status = 'succeeded'"
    )
    items = [
        ("Report generated", fmt.day(generated_at)),
        ("Snapshot described", fmt.day(ctx.as_of)),
        ("Report tool version", f"m365audit {__version__}"),
        ("Versions that collected the data", (versions[0] if versions else None) or "unknown"),
        ("Scope", scope or "whole tenant"),
        ("Department", ctx.department or "all departments"),
        ("Names", "pseudonymised (keyed HMAC-SHA256)" if pseudonymised else "shown"),
        ("Policy file", ctx.policy.source or "none (defaults)"),
        ("Idle after", f"{plural(ctx.idle_days, 'day')} without Copilot activity"),
        ("Currency", ctx.policy.currency),
        ("SKUs without a price", ", ".join(ctx.unpriced_skus) or "none"),
    ]
    frame = pl.DataFrame(items, schema=["item", "value"], orient="row")
    return Table("about", "About this report", ABOUT_COLUMNS, frame,
                 "Facts about the report itself: when, from what, by which version, for whom.")


def provenance(ctx: ReportContext, generated_at: datetime, scope: str | None, pseudonymised: bool) -> Section:
    sources = _sources(ctx)
    section = Section("provenance", "Provenance", tables=[sources, _about(ctx, generated_at, scope, pseudonymised)])
    missing = sources.frame.filter(pl.col("status").is_in(["missing", "not checked", "names concealed"]))
    for row in missing.iter_rows(named=True):
        section.notes.append(f"{row['source']}: {row['status']} ({row['detail']}).")
    section.summary.append(f"Figures describe the directory snapshot of {fmt.day(ctx.as_of)}, "
                           f"{'scope ' + scope if scope else 'the whole tenant'}.")
    return section
