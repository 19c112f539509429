"""The Copilot usage report of the simulated tenant, derived from its audit records.

The report lists licensed users only; each app's last activity date is the
last day in the period with an audit record of that AppHost, so the report
and the audit log agree by construction.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator.activity import ActivityModel

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
JSON_FIELDS = {
    "copilot_chat": "copilotChatLastActivityDate", "teams": "microsoftTeamsCopilotLastActivityDate",
    "word": "wordCopilotLastActivityDate", "excel": "excelCopilotLastActivityDate",
    "powerpoint": "powerPointCopilotLastActivityDate", "outlook": "outlookCopilotLastActivityDate",
    "onenote": "oneNoteCopilotLastActivityDate", "loop": "loopCopilotLastActivityDate",
}
PERIODS = {"D7": 7, "D30": 30, "D90": 90, "D180": 180, "ALL": None}


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


def conceal(value: str) -> str:
    """A 32-hex stand-in for a name, as reports show when the tenant conceals names."""
    return hashlib.md5(value.encode(), usedforsecurity=False).hexdigest().upper()


def csv_text(rows: list[dict[str, Any]], refresh: date, period: int, concealed: bool, legacy: bool) -> str:
    def cell(value: date | None) -> str:
        return value.isoformat() if value else ""

    lines = [LEGACY_HEADER if legacy else V1_HEADER]
    for row in rows:
        upn = conceal(row["upn"]) if concealed else row["upn"]
        name = conceal(row["display_name"]) if concealed else _csv_quote(row["display_name"])
        apps = [cell(row[c]) for c in COLUMNS]
        if legacy:
            fields = [refresh.isoformat(), str(period), upn, name, cell(row["last_activity"]), *apps[1:], apps[0]]
        else:
            fields = [refresh.isoformat(), upn, name, cell(row["last_activity"]), *apps, str(period)]
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


def period_days(period: str, model: ActivityModel) -> tuple[int | None, int]:
    """(days the rows cover, the Report Period value) for D7/D30/D90/D180/ALL."""
    days = PERIODS[period]
    shown = days if days is not None else model.end_day - model.first_day
    return days, shown
