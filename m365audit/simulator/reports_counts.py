"""The simulated tenant's Copilot user-count reports (summary and daily trend).

Enabled users of an app are the people holding a Copilot seat (the reports
cover licensed users only); active users are those of them with an audit
record of the app: per day for the trend, over the period for the summary.
Column names and order follow Microsoft's documented v1.0 CSVs and beta JSON
(copilot-reports.user-count-*.example in the shared samples); version 2 adds
Edge, Microsoft 365 Copilot, Copilot Chat (work) and (web) and prompt counts.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator.activity import ActivityModel

# (Microsoft's product name, beta key prefix, the AppHosts that count as it; None = any app)
V1_APPS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("Microsoft Teams", "microsoftTeams", ("Teams",)), ("Word", "word", ("Word",)),
    ("PowerPoint", "powerPoint", ("PowerPoint",)), ("Outlook", "outlook", ("Outlook",)),
    ("Excel", "excel", ("Excel",)), ("OneNote", "oneNote", ("OneNote",)), ("Loop", "loop", ("Loop",)),
    ("Any App", "anyApp", None), ("Copilot Chat", "copilotChat", ("BizChat", "Bing")),
)
V2_APPS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("Edge", "edge", ()), ("Microsoft 365 Copilot", "microsoft365Copilot", ()),
    ("Copilot Chat (work)", "copilotChatWork", ("BizChat",)), ("Copilot Chat (web)", "copilotChatWeb", ("Bing",)),
)


@dataclass(frozen=True)
class Use:
    """One seat holder's Copilot records on one day."""

    licensed: bool  # held the seat that day (only then counted by the user-count reports)
    hosts: frozenset[str]
    prompts: int = 0  # messages with isPrompt (full records only)
    work_prompts: int = 0  # of which in BizChat: Copilot Chat (work)
    web_prompts: int = 0  # of which in Bing: Copilot Chat (web)
    agent: bool = False  # a record named an agent


class DayActivity:
    """Per day: seat holders that day, and each seat holder's use (from full records when ``prompts``)."""

    def __init__(self, model: ActivityModel, first: int, last: int, prompts: bool) -> None:
        self.days: dict[int, tuple[int, dict[int, Use]]] = {}
        people = model.people
        seat_days = sorted(p.seat_from for p in people if p.seat_from is not None)
        for day in range(max(first, model.first_day), min(last + 1, model.end_day)):
            enabled = bisect_right(seat_days, day)  # seat holders on the day (licensed_on)
            used: dict[int, Use] = {}
            plan = model.plan(day, ac.COPILOT)
            for pos, n in zip(plan.positions, plan.counts, strict=True):
                person = people[pos]
                if person.seat_from is not None:
                    used[pos] = _use(model, day, person, n, prompts)
            self.days[day] = (enabled, used)


def _use(model: ActivityModel, day: int, person: Any, n: int, prompts: bool) -> Use:
    licensed = model.licensed_on(person, day)
    if not prompts:
        rng = model.builder.rng(day, person, ac.COPILOT)
        model.builder.times(rng, n)
        return Use(licensed, frozenset(model.builder.hosts(rng, person, n, licensed)))
    records = model.builder.user_day(day, person, ac.COPILOT, n, licensed)
    counts = {"": 0, "BizChat": 0, "Bing": 0}
    for record in records:
        event = record["CopilotEventData"]
        asked = sum(1 for m in event["Messages"] if m.get("isPrompt"))
        counts[""] += asked
        if event["AppHost"] in counts:
            counts[event["AppHost"]] += asked
    return Use(licensed, frozenset(_app_host(r["CopilotEventData"]) for r in records), counts[""],
               counts["BizChat"], counts["Bing"], any(r.get("AgentId") for r in records))


def _app_host(event: dict[str, Any]) -> str:
    """The app Microsoft's reports count a record under: an "appchat" record's app is its context's."""
    host = str(event["AppHost"])
    if host == "appchat":
        return ac.APP_OF_CONTEXT[event["Contexts"][0]["Type"]]
    return host


@lru_cache(maxsize=4)
def day_activity(model: ActivityModel, first: int, last: int, prompts: bool) -> DayActivity:
    """DayActivity, shared by the user detail, summary and trend of a period (a model never changes)."""
    return DayActivity(model, first, last, prompts)


def _active(used: dict[int, Use], hosts: tuple[str, ...] | None) -> set[int]:
    return {pos for pos, u in used.items() if u.licensed and (hosts is None or u.hosts & set(hosts))}


def _apps(version: str) -> tuple[tuple[str, str, tuple[str, ...] | None], ...]:
    return V1_APPS + (V2_APPS if version == "v2" else ())


def summary(model: ActivityModel, refresh: date, days: int, shown: int, version: str) -> dict[str, Any]:
    """One summary row: enabled and active users per app over the period, and (v2) prompts."""
    activity = day_activity(model, refresh.toordinal() - days + 1, refresh.toordinal(), version == "v2")
    enabled = activity.days.get(refresh.toordinal(), (0, {}))[0]
    row: dict[str, Any] = {"reportRefreshDate": refresh.isoformat(), "reportPeriod": shown}
    for name, prefix, hosts in _apps(version):
        active: set[int] = set()
        for _, used in activity.days.values():
            active |= _active(used, hosts)
        row[name] = (enabled, len(active), prefix)
    if version == "v2":
        total = sum(u.prompts for _, used in activity.days.values() for u in used.values() if u.licensed)
        any_active = row["Any App"][1]
        row["prompts"] = (total, round(total / any_active, 1) if any_active else 0)
    return row


def trend(model: ActivityModel, refresh: date, days: int, version: str) -> list[dict[str, Any]]:
    """One row per day of the period, newest first."""
    activity = day_activity(model, refresh.toordinal() - days + 1, refresh.toordinal(), version == "v2")
    out = []
    for day in sorted(activity.days, reverse=True):
        enabled, used = activity.days[day]
        row: dict[str, Any] = {"reportDate": date.fromordinal(day).isoformat()}
        for name, prefix, hosts in _apps(version):
            row[name] = (enabled, len(_active(used, hosts)), prefix)
        if version == "v2":
            row["prompts"] = sum(u.prompts for u in used.values() if u.licensed)
        out.append(row)
    return out


def summary_csv(row: dict[str, Any], version: str) -> str:
    apps = _apps(version)
    header = ["Report Refresh Date", "Report Period"]
    values = [row["reportRefreshDate"], str(row["reportPeriod"])]
    for name, _, _ in apps:
        header += [f"{name} Enabled Users", f"{name} Active Users"]
        values += [str(row[name][0]), str(row[name][1])]
    if version == "v2":
        header += ["Total prompts submitted", "Average prompts submitted"]
        values += [str(row["prompts"][0]), str(row["prompts"][1])]
    return ",".join(header) + "\r\n" + ",".join(values) + "\r\n"


def trend_csv(rows: list[dict[str, Any]], refresh: date, shown: int, version: str) -> str:
    v1 = list(V1_APPS)
    header = ["Report Refresh Date", "Report Date"]
    for name, _, _ in v1:
        header += [f"{name} Enabled Users", f"{name} Active Users"]
    header.append("Report Period")
    if version == "v2":
        for name, _, _ in V2_APPS:
            header += [f"{name} Enabled Users", f"{name} Active Users"]
        header.append("Prompts submitted")
    lines = [",".join(header)]
    for row in rows:
        values = [refresh.isoformat(), row["reportDate"]]
        values += [str(v) for name, _, _ in v1 for v in row[name][:2]]
        values.append(str(shown))
        if version == "v2":
            values += [str(v) for name, _, _ in V2_APPS for v in row[name][:2]]
            values.append(str(row["prompts"]))
        lines.append(",".join(values))
    return "\r\n".join(lines) + "\r\n"


def summary_json(row: dict[str, Any]) -> dict[str, Any]:
    product: dict[str, Any] = {"reportPeriod": row["reportPeriod"]}
    for name, prefix, _ in V1_APPS:
        product[f"{prefix}EnabledUsers"], product[f"{prefix}ActiveUsers"] = row[name][:2]
    return {"reportRefreshDate": row["reportRefreshDate"], "adoptionByProduct": [product]}


def trend_json(rows: list[dict[str, Any]], refresh: date, shown: int) -> dict[str, Any]:
    by_date = []
    for row in rows:
        item: dict[str, Any] = {"reportDate": row["reportDate"]}
        for name, prefix, _ in V1_APPS:
            item[f"{prefix}EnabledUsers"], item[f"{prefix}ActiveUsers"] = row[name][:2]
        by_date.append(item)
    return {"reportRefreshDate": refresh.isoformat(), "reportPeriod": shown, "adoptionByDate": by_date}
