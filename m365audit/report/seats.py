"""Sections about seats: headline figures, departments, seats to reclaim, trend, time to first use."""

from __future__ import annotations

from typing import Any

from m365audit.report import formatting as fmt
from m365audit.report.charts import bar_chart, line_chart
from m365audit.report.context import ReportContext
from m365audit.report.model import Section
from m365audit.report.queries import run_table
from m365audit.wording import plural

TOP_DEPARTMENTS = 15
HEADLINE_BARS = (("seats_purchased", "Purchased"), ("seats_assigned", "Assigned"), ("seat_holders", "Holding a seat"),
                 ("active_90_days", "Active, last 90 days"), ("active_30_days", "Active, last 30 days"),
                 ("active_7_days", "Active, last 7 days"))


def no_activity_note(ctx: ReportContext) -> str | None:
    if ctx.coverage.has_audit or ctx.coverage.has_usage:
        return None
    return ("No Copilot activity has been collected (neither the audit log nor the usage report), so active "
            "users and idle seats cannot be counted: run `m365audit collect --only audit,usage`.")


def headline(ctx: ReportContext) -> Section:
    table = run_table(ctx.con, "headline")
    figures = {row["measure"]: row for row in table.frame.iter_rows(named=True)}
    section = Section("headline", "At a glance", tables=[table])
    holders = figures["seat_holders"]["value"]
    active = figures["active_30_days"]["value"]
    section.summary.append(
        f"{fmt.count(figures['seats_purchased']['value'])} Copilot seats purchased, "
        f"{fmt.count(figures['seats_assigned']['value'])} assigned, {fmt.count(holders)} users holding a working seat.")
    if active is not None:
        section.summary.append(
            f"{fmt.count(active)} of them used Copilot in the last 30 days "
            f"({fmt.percent(figures['utilisation_30_days']['value'])}); idle seats cost "
            f"{fmt.money(figures['idle_monthly_cost']['value'], ctx.policy.currency)} a month.")
    section.notes += _cost_notes(ctx) + [n for n in [no_activity_note(ctx)] if n]
    bars = [(label, figures[key]["value"]) for key, label in HEADLINE_BARS]
    section.charts.append(bar_chart("Seats purchased, assigned and used", [b[0] for b in bars],
                                    [("Seats or users", [b[1] for b in bars])]))
    return section


def _cost_notes(ctx: ReportContext) -> list[str]:
    if not ctx.unpriced_skus:
        return [f"Prices come from the policy file's [costs] section ({ctx.policy.currency}, per seat per month)."]
    where = f"the policy file {ctx.policy.source}" if ctx.policy.source else "no policy file (--policy)"
    return [f"No price for {', '.join(ctx.unpriced_skus)} in {where}: the cost of idle seats is not shown. "
            "Add [[costs.prices]] entries to show it."]


def departments(ctx: ReportContext) -> Section:
    table = run_table(ctx.con, "departments")
    section = Section("departments", "By department", tables=[table])
    section.summary.append(f"{table.frame.height} departments hold Copilot seats.")
    top = table.frame.head(TOP_DEPARTMENTS)
    if top.height:
        labels = top["department"].to_list()
        series: list[tuple[str, list[Any]]] = [("Licensed users", top["licensed_users"].to_list())]
        if ctx.coverage.has_audit or ctx.coverage.has_usage:
            series.append(("Active in last 30 days", top["active_users"].to_list()))
        title = "Licensed and active users by department"
        if table.frame.height > TOP_DEPARTMENTS:
            title += f" (largest {TOP_DEPARTMENTS})"
        section.charts.append(bar_chart(title, labels, series))
    section.notes += [n for n in [no_activity_note(ctx)] if n]
    return section


def reclaim(ctx: ReportContext) -> Section:
    table = run_table(ctx.con, "reclaim")
    section = Section("reclaim", "Seats to reclaim", tables=[table])
    note = no_activity_note(ctx)
    if note:
        section.available = False
        section.notes.append(note)
        return section
    cost = float(table.frame["monthly_cost"].sum()) if table.frame.height else 0.0
    section.summary.append(
        f"{plural(table.frame.height, 'seat')} {'has' if table.frame.height == 1 else 'have'} not been used for "
        f"{plural(ctx.idle_days, 'day')} or more "
        f"(policy: inactive_after_days); reclaiming them would save "
        f"{fmt.money(cost if not ctx.unpriced_skus else None, ctx.policy.currency)} a month.")
    if ctx.coverage.has_audit and ctx.coverage.audit_from and not ctx.coverage.has_usage:
        covered = (ctx.as_of - ctx.coverage.audit_from).days
        if covered < ctx.idle_days:
            section.notes.append(f"The audit log covers only {plural(covered, 'day')} before the snapshot, fewer "
                                 f"than the {ctx.idle_days}-day threshold: some of these users may have used "
                                 "Copilot earlier.")
    return section


def trend(ctx: ReportContext) -> Section:
    table = run_table(ctx.con, "trend")
    section = Section("trend", "Trend", tables=[table])
    frame = table.frame
    labels = [f"{t:%Y-%m-%d}" for t in frame["snapshot_at"].to_list()]
    series: list[tuple[str, list[Any]]] = []
    if ctx.department is None:
        series += [("Purchased", frame["purchased"].to_list()), ("Assigned", frame["assigned"].to_list())]
    series.append(("Seat holders", frame["seat_holders"].to_list()))
    if ctx.coverage.has_audit:
        series.append(("Active seat holders (30 days)", frame["active_seat_holders"].to_list()))
    section.summary.append(f"{frame.height} stored snapshot{'s' if frame.height != 1 else ''} "
                           f"from {labels[0] if labels else '-'} to {labels[-1] if labels else '-'}.")
    if frame.height > 1:
        section.charts.append(line_chart("Seats and active seat holders over time", labels, series))
    else:
        section.notes.append("A trend needs more than one snapshot: each nightly `m365audit run` adds one.")
    return section


def first_use(ctx: ReportContext) -> Section:
    table = run_table(ctx.con, "first_use")
    section = Section("first-use", "Time to first use", tables=[table])
    if not ctx.coverage.has_audit:
        section.available = False
        section.notes.append("Time to first use needs the audit log, which has not been collected.")
        return section
    rows = table.frame.filter(table.frame["median_days"].is_not_null())
    overall = table.frame.filter(table.frame["department"] == "All departments")
    if overall.height and overall["median_days"][0] is not None:
        section.summary.append(f"Half of the seats assigned during the audit period were first used within "
                               f"{plural(overall['median_days'][0], 'day')}.")
    departments_only = rows.filter(rows["department"] != "All departments").head(TOP_DEPARTMENTS)
    if departments_only.height:
        section.charts.append(bar_chart("Median days from seat to first use, by department",
                                        departments_only["department"].to_list(),
                                        [("Median days", departments_only["median_days"].to_list())]))
    return section



def reassign(ctx: ReportContext) -> Section:
    table = run_table(ctx.con, "reassign")
    section = Section("reassign", "Who should get the next seat", tables=[table])
    if not ctx.coverage.has_audit:
        section.available = False
        section.notes.append("Copilot Chat use by people without a seat is read from the audit log, which has not "
                             "been collected (run `m365audit collect --only audit`).")
        return section
    frame = table.frame
    first = int((frame["action"] == "reassign a seat").sum()) if frame.height else 0
    section.summary.append(
        f"{frame.height:,} people without a Copilot seat used Copilot Chat in the last 30 days; "
        f"{first:,} of them could take a seat now, the rest need the AI training first.")
    if ctx.policy.training_group is None:
        section.notes.append("The policy names no training group ([usage] training_group), so no one is "
                             "held back for training.")
    section.notes.append("Ranked by days with Copilot Chat use, then prompts, then the latest use. Microsoft's "
                         "usage report covers people with a Copilot licence only, so for most people here the "
                         "audit log is the signal.")
    return section
