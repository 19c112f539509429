"""The Copilot usage reports of the simulated tenant, derived from its audit records.

The user detail report lists licensed users only; each app's last activity date
is the last day in the period with an audit record of that AppHost, so the
report and the audit log agree by construction. Version 2 adds, from the same
records: prompts (messages with isPrompt), active days, Copilot Chat (work) =
BizChat and (web) = Bing, and agent use (records naming an agent). The
simulated tenant has no Microsoft 365 Copilot app or Edge host, so those
columns are always empty. The user-count reports count seat holders
(enabled) and those of them with a record of the app (active).
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator.activity import ActivityModel
from m365audit.simulator.reports_counts import day_activity

COLUMNS = ("copilot_chat", "teams", "word", "excel", "powerpoint", "outlook", "onenote", "loop")

# The v1.0 CSV header, exactly as Graph sends it (after a UTF-8 byte-order mark).
V1_HEADER = (
    "Report Refresh Date,User Principal Name,Display Name,Last Activity Date,"
    "Copilot Chat Last Activity Date,Microsoft Teams Copilot Last Activity Date,"
    "Word Copilot Last Activity Date,Excel Copilot Last Activity Date,"
    "PowerPoint Copilot Last Activity Date,Outlook Copilot Last Activity Date,"
    "OneNote Copilot Last Activity Date,Loop Copilot Last Activity Date,Report Period"
)
# The legacy /beta/reports download puts Report Period second and Copilot Chat last.
LEGACY_HEADER = (
    "Report Refresh Date,Report Period,User Principal Name,Display Name,Last Activity Date,"
    "Microsoft Teams Copilot Last Activity Date,Word Copilot Last Activity Date,"
    "Excel Copilot Last Activity Date,PowerPoint Copilot Last Activity Date,"
    "Outlook Copilot Last Activity Date,OneNote Copilot Last Activity Date,"
    "Loop Copilot Last Activity Date,Copilot Chat Last Activity Date"
)
# Version 2 adds these after the v1 columns (Microsoft 365 Copilot APIs reference, "Report versions").
V2_COLUMNS = (
    "Prompts submitted for all apps", "Prompts submitted for Copilot Chat (work)",
    "Prompts submitted for Copilot Chat (web)", "Active Usage Days for all apps",
    "Copilot Chat (work) Last Activity Date", "Copilot Chat (web) Last Activity Date",
    "Microsoft 365 Copilot Last Activity Date", "Edge Last Activity Date", "Copilot Agent Last Activity Date",
)
V2_HEADER = V1_HEADER + "," + ",".join(V2_COLUMNS)
JSON_FIELDS = {
    "copilot_chat": "copilotChatLastActivityDate", "teams": "microsoftTeamsCopilotLastActivityDate",
    "word": "wordCopilotLastActivityDate", "excel": "excelCopilotLastActivityDate",
    "powerpoint": "powerPointCopilotLastActivityDate", "outlook": "outlookCopilotLastActivityDate",
    "onenote": "oneNoteCopilotLastActivityDate", "loop": "loopCopilotLastActivityDate",
}
PERIODS = {"D7": 7, "D30": 30, "D90": 90, "D180": 180, "ALL": None}
V2_PERIODS = {"D7": 7, "D28": 28, "D90": 90, "D180": 180, "ALL": None}


def refresh_date(model: ActivityModel) -> date:
    """The report's data date: the last complete day before the anchor."""
    return date.fromordinal(model.end_day - 1)


def usage_rows(model: ActivityModel, refresh: date, period_days: int | None) -> list[dict[str, Any]]:
    """One row per seat holder: upn, display_name, and the last date per column (None = no use)."""
    last: dict[int, dict[str, date]] = {}
    first = model.first_day if period_days is None else refresh.toordinal() - period_days + 1
    people = model.people
    for day in range(max(first, model.first_day), min(refresh.toordinal() + 1, model.end_day)):
        plan = model.plan(day, ac.COPILOT)
        for pos, n in zip(plan.positions, plan.counts, strict=True):
            person = people[pos]
            if person.seat_from is None:
                continue
            rng = model.builder.rng(day, person, ac.COPILOT)
            model.builder.times(rng, n)  # the draws before the hosts
            seen = last.setdefault(pos, {})
            for host in model.builder.hosts(rng, person, n, model.licensed_on(person, day)):
                seen[ac.USAGE_COLUMN[host]] = date.fromordinal(day)
    rows = []
    for pos, person in enumerate(people):
        if person.seat_from is None:
            continue
        dates = last.get(pos, {})
        row: dict[str, Any] = {"upn": person.upn, "display_name": person.display_name,
                               "last_activity": max(dates.values()) if dates else None}
        row.update({c: dates.get(c) for c in COLUMNS})
        rows.append(row)
    return rows


def usage_rows_v2(model: ActivityModel, refresh: date, period_days: int | None) -> list[dict[str, Any]]:
    """usage_rows plus the version 2 figures, from the full records of each seat holder in the period."""
    first = model.first_day if period_days is None else refresh.toordinal() - period_days + 1
    totals: dict[int, dict[str, Any]] = {}
    for day, (_, used) in day_activity(model, first, refresh.toordinal(), True).days.items():
        for pos, use in used.items():
            seen = totals.setdefault(pos, {"prompts": 0, "work": 0, "web": 0, "days": 0})
            seen["prompts"] += use.prompts
            seen["work"] += use.work_prompts
            seen["web"] += use.web_prompts
            seen["days"] += 1
            for host, key in (("BizChat", "work_last"), ("Bing", "web_last")):
                if host in use.hosts:
                    seen[key] = max(seen.get(key, date.min), date.fromordinal(day))
            if use.agent:
                seen["agent_last"] = max(seen.get("agent_last", date.min), date.fromordinal(day))
    rows = usage_rows(model, refresh, period_days)
    by_upn = {p.upn: pos for pos, p in enumerate(model.people)}
    for row in rows:
        seen = totals.get(by_upn[row["upn"]], {"prompts": 0, "work": 0, "web": 0, "days": 0})
        row["v2"] = [str(seen["prompts"]), str(seen["work"]), str(seen["web"]), str(seen["days"]),
                     seen.get("work_last"), seen.get("web_last"), None, None, seen.get("agent_last")]
    return rows


def conceal(value: str) -> str:
    """A 32-hex stand-in for a name, as reports show when the tenant conceals names."""
    return hashlib.md5(value.encode(), usedforsecurity=False).hexdigest().upper()


def csv_text(rows: list[dict[str, Any]], refresh: date, period: int, concealed: bool, legacy: bool) -> str:
    def cell(value: date | None) -> str:
        return value.isoformat() if value else ""

    v2 = bool(rows) and "v2" in rows[0]
    lines = [LEGACY_HEADER if legacy else V2_HEADER if v2 else V1_HEADER]
    for row in rows:
        upn = conceal(row["upn"]) if concealed else row["upn"]
        name = conceal(row["display_name"]) if concealed else _csv_quote(row["display_name"])
        apps = [cell(row[c]) for c in COLUMNS]
        if legacy:
            fields = [refresh.isoformat(), str(period), upn, name, cell(row["last_activity"]), *apps[1:], apps[0]]
        else:
            fields = [refresh.isoformat(), upn, name, cell(row["last_activity"]), *apps, str(period)]
            if v2:
                fields += [v if isinstance(v, str) else cell(v) for v in row["v2"]]
        lines.append(",".join(fields))
    return "\r\n".join(lines) + "\r\n"


def json_row(row: dict[str, Any], refresh: date, period: int, concealed: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "reportRefreshDate": refresh.isoformat(),
        "userPrincipalName": conceal(row["upn"]) if concealed else row["upn"],
        "displayName": conceal(row["display_name"]) if concealed else row["display_name"],
        "lastActivityDate": row["last_activity"].isoformat() if row["last_activity"] else "",
    }
    for column, field in JSON_FIELDS.items():
        out[field] = row[column].isoformat() if row[column] else ""
    out["copilotActivityUserDetailsByPeriod"] = [{"reportPeriod": period}]
    return out


def _csv_quote(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def period_days(period: str, model: ActivityModel, version: str = "v1") -> tuple[int | None, int]:
    """(days the rows cover, the Report Period value) for D7/D30 (v1) or D28 (v2)/D90/D180/ALL."""
    days = (V2_PERIODS if version == "v2" else PERIODS)[period]
    shown = days if days is not None else model.end_day - model.first_day
    return days, shown
