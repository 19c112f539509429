"""Sections about Copilot use: adoption by app and week, sensitivity labels, reconciliation."""

from __future__ import annotations

from typing import Any

from m365audit.report import formatting as fmt
from m365audit.report.charts import bar_chart, line_chart
from m365audit.report.context import ReportContext
from m365audit.report.model import Section
from m365audit.report.queries import one_row, run_table
from m365audit.wording import plural

APP_COLUMNS = (("Word", "word"), ("Excel", "excel"), ("PowerPoint", "powerpoint"), ("Outlook", "outlook"),
               ("Teams", "teams"), ("Copilot Chat", "copilot_chat"), ("Other", "other"))
NO_AUDIT = "The audit log has not been collected: run `m365audit collect --only audit` (or `m365audit import`)."


def adoption(ctx: ReportContext) -> Section:
    apps = run_table(ctx.con, "adoption_apps")
    weeks = run_table(ctx.con, "adoption_weeks")
    section = Section("adoption", "Adoption by app", tables=[apps, weeks])
    if not ctx.coverage.has_audit:
        section.available = False
        section.notes.append(NO_AUDIT)
        return section
    busiest = apps.frame.sort("active_users", descending=True).row(0, named=True)
    section.summary.append(f"In the last 30 days Copilot was used most in {busiest['app']} "
                           f"({fmt.count(busiest['active_users'])} people).")
    section.charts.append(bar_chart("Active users by app, last 30 days", apps.frame["app"].to_list(),
                                    [("Seat holders", apps.frame["seat_holders_active"].to_list()),
                                     ("Without a seat", apps.frame["without_seat"].to_list())]))
    if weeks.frame.height > 1:
        labels = [f"{d:%d %b}" for d in weeks.frame["week_start"].to_list()]
        series: list[tuple[str, list[Any]]] = [(name, weeks.frame[col].to_list()) for name, col in APP_COLUMNS]
        section.charts.append(line_chart("Active users by week and app", labels, series))
    section.notes.append("Copilot Chat is Microsoft 365 Copilot Chat at work (Teams, the Microsoft 365 app, "
                         "microsoft365.com) and web-grounded chat (Edge, Bing); Copilot used inside Word, Excel or "
                         "another app counts under that app; Other covers OneNote, Loop, Whiteboard and hosts "
                         "Microsoft adds. Security Copilot, Copilot Studio agents and records made by programs "
                         "(applications, service principals) are not counted as people using Copilot.")
    return section


def labels(ctx: ReportContext) -> Section:
    by_label = run_table(ctx.con, "labels_by_label")
    unlabelled = run_table(ctx.con, "labels_unlabelled")
    section = Section("labels", "Sensitivity labels", tables=[by_label, unlabelled])
    if not ctx.coverage.has_audit:
        section.available = False
        section.notes.append(NO_AUDIT)
        return section
    share = unlabelled.frame.row(unlabelled.frame.height - 1, named=True)  # the policy's share, last row
    if share["resources"]:
        section.summary.append(f"{fmt.percent(share['unlabelled_share'])} of the {fmt.count(share['resources'])} "
                               f"files, emails and other items Copilot read carried no sensitivity label on any "
                               f"read (policy allows at most {fmt.percent(ctx.policy.max_unlabelled_share)}; the "
                               f"labels check judges the same share).")
    if by_label.frame.height:
        section.charts.append(bar_chart("Copilot accesses by sensitivity label", by_label.frame["label"].to_list(),
                                        [("Accesses", by_label.frame["accesses"].to_list())]))
    if not _has_label_catalogue(ctx):
        section.notes.append("The label catalogue has not been collected, so labels show by id: run "
                             "`m365audit collect --only labels`.")
    return section


def _has_label_catalogue(ctx: ReportContext) -> bool:
    row = one_row(ctx.con, "SELECT count(*) FROM sensitivity_labels")
    return bool(row and row[0])


def reconciliation(ctx: ReportContext) -> Section:
    totals = run_table(ctx.con, "reconciliation")
    apps = run_table(ctx.con, "reconciliation_apps")
    section = Section("reconciliation", "Audit log and Microsoft's usage report", tables=[totals, apps])
    cov = ctx.coverage
    if not (cov.has_audit and cov.has_usage):
        section.available = False
        missing = [name for name, present in (("the audit log", cov.has_audit), ("the usage report", cov.has_usage))
                   if not present]
        section.notes.append(f"Reconciliation needs both sources; {' and '.join(missing)} "
                             f"{'has' if len(missing) == 1 else 'have'} not been collected.")
        return section
    start = cov.usage_refresh_date.toordinal() - (cov.usage_period or 1) + 1
    section.summary.append(
        f"Both counts cover the usage report's {plural(cov.usage_period or 0, 'day')} ending "
        f"{fmt.day(cov.usage_refresh_date)} (the report's refresh date).")
    section.notes += reconciliation_reasons(ctx, {r["measure"]: r["users"] for r in totals.frame.iter_rows(named=True)},
                                            start)
    section.charts.append(bar_chart("Active users by app: audit log and usage report", apps.frame["app"].to_list(),
                                    [("Audit log", apps.frame["audit_log"].to_list()),
                                     ("Usage report", apps.frame["usage_report"].to_list())]))
    return section


def reconciliation_reasons(ctx: ReportContext, figures: dict[str, Any], start_ordinal: int) -> list[str]:
    """Why the two counts differ, each reason with the figure behind it."""
    cov = ctx.coverage
    reasons = []
    lag = ctx.as_of.date().toordinal() - cov.usage_refresh_date.toordinal()
    reasons.append(f"Report latency: Microsoft's report was last refreshed {plural(lag, 'day')} before the snapshot "
                   "and typically runs two to three days behind; activity after its refresh date is left out of both "
                   "counts here, but the admin centre and this report's other sections include it.")
    if figures.get("audit_active_without_seat"):
        reasons.append(f"Unlicensed Copilot Chat: {fmt.count(figures['audit_active_without_seat'])} people used "
                       "the free Copilot Chat without a seat; the audit log records them, the usage report lists "
                       "licensed users only.")
    reasons.append("Definitions: the usage report counts a user active after any intentional Copilot action in the "
                   "listed apps; the audit log records each interaction, including apps and agents the report has "
                   "no column for, and misses actions that create no audit record.")
    if cov.audit_from and cov.audit_from.date().toordinal() > start_ordinal:
        reasons.append(f"Audit coverage: the audit log starts on {fmt.day(cov.audit_from.date())}, after the start "
                       "of the report's period, so it undercounts.")
    if cov.usage_concealed:
        reasons.append("Concealed names: the tenant's report privacy setting replaces names with hashes, so users "
                       "cannot be matched between the sources. An administrator can change it under Microsoft 365 "
                       "admin centre > Settings > Org settings > Reports.")
    return reasons
