"""The "how these figures were produced" text: sources, timestamps, definitions, suppression."""

from __future__ import annotations

import calendar
from datetime import date, datetime

from m365audit import __version__
from m365audit.foi.counts import ACTIVE_DAYS, ActivityWindow, SnapshotInfo
from m365audit.foi.suppression import SECONDARY_MARK, Outcome
from m365audit.policy import Policy
from m365audit.wording import plural


def _when(instant: datetime) -> str:
    return f"{_day(instant.date())} {instant:%H:%M} UTC"


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def method_text(*, info: SnapshotInfo, window: ActivityWindow, as_of: date, policy: Policy,
                outcome: Outcome, has_lower_bound: bool, combined: bool = False) -> str:
    """The public explanation: plain words, no tool names, settings or operator instructions."""
    return "\n\n".join(p for p in (
        _public_sources(info, window, as_of),
        _definitions(as_of, window),
        _expenditure(policy, has_lower_bound),
        _suppression(policy, outcome, combined),
    ) if p)


def _public_sources(info: SnapshotInfo, window: ActivityWindow, as_of: date) -> str:
    days = (as_of - info.taken_at.date()).days
    when = _day(info.taken_at.date())
    stale = f" (the latest record on or before {_day(as_of)})" if days > 1 else ""
    text = ("These figures come from the organisation's own Microsoft 365 records: its licences, its staff "
            "accounts with their licences and departments, and Microsoft's audit log of Copilot use. "
            f"Licence and department figures are as recorded on {when}{stale}.")
    if not window.held:
        text += (" No records of Copilot use are held for the period, so the number of active users is given "
                 "as not held.")
    return text


def officer_note(*, info: SnapshotInfo, window: ActivityWindow, as_of: date, policy: Policy) -> list[str]:
    """For the FOI officer, not the requester: how the answer was made, and what to check before sending."""
    note = [_sources(info, window) + _staleness(info, as_of)]
    note.append(_prices(policy))
    note.append(f"Small-number suppression: [foi] suppress_below = {policy.suppress_below}, secondary "
                f"suppression {policy.secondary_suppression}. The retired Copilot Chat service plan "
                "(Bing_Chat_Enterprise) is not read; the people who may use Copilot Chat are the enabled member "
                "accounts in Microsoft Entra ID.")
    return note


def _prices(policy: Policy) -> str:
    from m365audit.foi.list_prices import LIST_PRICE_NOTE, LIST_PRICES

    if policy.source and policy.prices:
        return f"Prices per seat per month come from the policy file {policy.source} ({policy.currency})."
    if not policy.source and policy.prices == LIST_PRICES:
        return LIST_PRICE_NOTE
    return "No prices were given (`--policy FILE` with [[costs.prices]]): expenditure is not estimated."


def _sources(info: SnapshotInfo, window: ActivityWindow) -> str:
    scope = f" for the organisation scope {', '.join(info.scopes)}" if info.scopes else ""
    text = (
        f"This answer was produced by m365audit {__version__} from records collected from the "
        f"organisation's Microsoft 365 tenant{scope} through Microsoft Graph: subscribed licences "
        "(subscribedSkus), user accounts with their licence assignments, assigned service plans and department "
        "(users), and the Microsoft Purview audit log's Copilot interaction records. "
        f"Licence and department counts come from the licence snapshot taken on {_when(info.taken_at)}. "
        f"The database holds {plural(info.count, 'licence snapshot')}, the first taken on "
        f"{_when(info.first)} and the latest on {_when(info.last)}"
    )
    gap = plural(info.longest_gap_days, "day")
    text += f"; the longest interval between two snapshots is {gap}." if info.count > 1 else "."
    if window.first_record and window.last_record:
        text += (f" Copilot audit records are held from {_when(window.first_record)} to "
                 f"{_when(window.last_record)}.")
    if window.last_collection:
        text += f" The audit log was last collected on {_when(window.last_collection)}."
    if not window.held:
        text += (" No Copilot audit records are held for the activity period, so the number of active users "
                 "is given as not held.")
    return text


def _staleness(info: SnapshotInfo, as_of: date) -> str:
    days = (as_of - info.taken_at.date()).days
    if days <= 1:
        return ""
    return (f" The licence snapshot used was taken {plural(days, 'day')} before {_day(as_of)}; licences, users and "
            "departments are assumed unchanged since then.")


def _definitions(as_of: date, window: ActivityWindow) -> str:
    return (
        "A licensed user holds a working Microsoft 365 Copilot licence: an active assignment of a licence that "
        "includes a Microsoft 365 Copilot service plan that has not been switched off for them (accounts that "
        "are blocked from signing in still count, because they still hold the licence). "
        "Microsoft 365 Copilot Chat is not a licence: Microsoft makes it available at no additional cost to the "
        "work accounts of organisations with Microsoft 365 or Office 365, so the people who may use it are "
        "counted as the enabled staff accounts (guests and blocked accounts are not counted; an account "
        "without any Microsoft 365 licence would be, so this is an upper bound). "
        "An active user used Microsoft 365 Copilot or Copilot Chat themselves (actions of automated programs, "
        "and use of Security Copilot or Copilot Studio agents, do not count), as the audit "
        f"log records it, in the {ACTIVE_DAYS} "
        f"days from {_day(window.start)} to {_day(as_of)} inclusive (four whole weeks, so that every day of "
        "the week counts equally). Active users holding a Microsoft 365 Copilot licence are counted under "
        "Microsoft 365 Copilot; the others under Copilot Chat. "
        "Licences purchased are those the organisation is paying for and licences assigned are those given "
        "to staff, as Microsoft reports them. The licences listed are those that include Microsoft 365 "
        "Copilot or its features, and any the organisation names as AI licences; Copilot Chat is not a "
        "licence and is not listed. "
        "Departments are as recorded on staff accounts on that date; a department "
        "is listed when at least one of its users is licensed or active."
    )


def _expenditure(policy: Policy, has_lower_bound: bool) -> str:
    start = policy.financial_year_start_month
    last = (start - 2) % 12 + 1  # the month before the start month
    last_name = calendar.month_name[last]
    last_day = "the last day of February" if last == 2 else f"{calendar.monthrange(2001, last)[1]} {last_name}"
    text = (
        f"Financial years run from 1 {calendar.month_name[start]} to {last_day}. "
        "Expenditure is an estimate from licence records, not from invoices: for each day, the purchased "
        "seats of each licence listed, as recorded on that day (or on the latest day before it with a record), are "
        "multiplied by the list price per seat per month in force on that day (in "
        f"{policy.currency}) divided by the number of days in that month. Discounts, credits and "
        "VAT are not included unless the prices used include them. Microsoft 365 Copilot Chat is "
        "shown at no licence cost. For days before the first licence record the "
        "information is not held; those days are never counted as zero."
    )
    if has_lower_bound:
        text += (" Where a lower bound is given for a period that is not held, it is reconstructed from the "
                 "dates on which the users holding Copilot at the first snapshot were assigned it; seats "
                 "removed before then are not visible, so the true figure may be higher.")
    return text


def _suppression(policy: Policy, outcome: Outcome, combined: bool) -> str:
    n = policy.suppress_below
    if n <= 1:
        return ("Small numbers are not suppressed: the organisation chose not to. No names, user "
                "principal names, user ids, email addresses or job titles are included.")
    text = (
        f"To protect individuals, any count of people from 1 to {n - 1} is shown as \"<{n}\", and a zero in "
        f"the same row as a withheld count is shown as \"<{n}\" too. "
    )
    if outcome.method == "round_totals":
        text += (f"So that a withheld count cannot be worked out by subtraction, the totals (the figures in the "
                 f"AI systems table and licences assigned) are rounded to the nearest {2 * n}. ")
    else:
        text += ("So that a withheld count cannot be worked out by subtraction from a total, the next "
                 f"smallest count in the same column is withheld as well, shown as \"{SECONDARY_MARK}\". ")
    if outcome.method == "round_totals" and outcome.secondary:
        text += (f"Where rounding alone was not enough, the next smallest count was withheld as well, shown as "
                 f"\"{SECONDARY_MARK}\". ")
    if outcome.primary or outcome.secondary:
        text += (f"In this answer {outcome.primary} count{'s were' if outcome.primary != 1 else ' was'} withheld "
                 f"as fewer than {n} and {outcome.secondary} to prevent subtraction. ")
    else:
        text += "No count in this answer needed to be withheld. "
    if combined:
        text += ("Some departments are combined into one unnamed row, because naming them would have let their "
                 "small counts be worked out. ")
    text += ("No names, user principal names, user ids, email addresses or job titles are included.")
    return text
