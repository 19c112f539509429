"""The FOI answer laid out for people: headings, tables and paragraphs shared by Markdown and DOCX.

Built only from the answer dict, so it cannot show more than the JSON does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


@dataclass(frozen=True)
class Section:
    title: str
    columns: tuple[str, ...] = ()
    numeric: tuple[bool, ...] = ()  # right-align these columns
    rows: Sequence[Sequence[str]] = field(default_factory=list)
    paragraphs: tuple[str, ...] = ()


def long_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def count_text(value: Any, missing: str = "not held") -> str:
    if value is None:
        return missing
    return f"{value:,}" if isinstance(value, int) else str(value)


def money_text(amount: float, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


def title(answer: dict[str, Any]) -> str:
    scope = answer.get("scope") or answer.get("organisation")
    whose = f", {scope}" if scope else ""
    return f"Use of artificial intelligence{whose}: figures as at {long_date(answer['as_of'])}"


def sections(answer: dict[str, Any]) -> list[Section]:
    return [_systems(answer), _licences(answer), _departments(answer), _expenditure(answer),
            Section("How these figures were produced", paragraphs=(*answer["method"].split("\n\n"), _key(answer)))]


def _key(answer: dict[str, Any]) -> str:
    n = answer["suppression"]["threshold"]
    return (f"Key: \"<{n}\" means fewer than {n}; \"[c]\" means withheld so that a figure shown as \"<{n}\" "
            "cannot be worked out from a total; \"not held\" means the information is not held.")


def _rounding_note(answer: dict[str, Any], what: str) -> tuple[str, ...]:
    if answer["suppression"]["secondary_method"] != "round_totals":
        return ()
    n = answer["suppression"]["threshold"]
    return (f"In this table, {what} of {n} or more are rounded to the nearest {2 * n}.",)


def _systems(answer: dict[str, Any]) -> Section:
    rows = [(s["name"], s["purpose"], count_text(s["entitled_users"]),
             count_text(s["licensed_users"], "not applicable (no licence needed)"), count_text(s["active_users"]))
            for s in answer["systems"]]
    agents = answer.get("agents", [])
    rows += [(f"{a['name']}: {a['agents_in_use']:,} in use", answer["agent_purpose"], "not applicable",
              "not applicable (no licence needed)", count_text(a["active_users"])) for a in agents]
    notes = _rounding_note(answer, "counts") + (
        "Agents are counted from the audit log: an agent is in use when someone used it in the last 28 days; "
        "a person who used agents of several kinds is counted under each." if agents else
        "No agent was used in the last 28 days, or the audit log for them is not held.",)
    return Section("AI systems in use",
                   ("System", "Purpose", "Users who may use it", "Users licensed", "Active users (last 28 days)"),
                   (False, False, True, True, True), rows, notes)


def _licences(answer: dict[str, Any]) -> Section:
    rows = [(row.get("product") or row["sku_part_number"], count_text(row["purchased"]), count_text(row["assigned"]))
            for row in answer["licences"]]
    notes = (*_difference_notes(answer), *_rounding_note(answer, "numbers of licences assigned")) if rows else (
        "The organisation held no Microsoft 365 Copilot or other AI licences.",)
    return Section(f"AI licences held at {long_date(answer['as_of'])}", ("Licence", "Purchased", "Assigned"),
                   (False, True, True), rows, notes)


def _difference_notes(answer: dict[str, Any]) -> tuple[str, ...]:
    """One plain sentence per licence whose purchased and assigned numbers differ."""
    notes = []
    for row in answer["licences"]:
        purchased, assigned = row["purchased"], row["assigned"]
        if isinstance(purchased, int) and isinstance(assigned, int) and purchased != assigned:
            name = row.get("product") or row["sku_part_number"]
            if purchased > assigned:
                spare = purchased - assigned
                notes.append(f"{purchased:,} {name} licences were paid for and {assigned:,} were given to staff; "
                             f"the other {spare:,} {'was' if spare == 1 else 'were'} available to give to someone.")
            else:
                notes.append(f"More {name} licences were given to staff ({assigned:,}) than paid for ({purchased:,}) "
                             "on that date, which Microsoft allows for a short time after a subscription ends.")
    return tuple(notes)


def _departments(answer: dict[str, Any]) -> Section:
    rows = [(row["department"], count_text(row["licensed_users"]), count_text(row["active_users"]))
            for row in answer["departments"]]
    notes: tuple[str, ...] = (
        "Active users in a department are the people in it who used Microsoft 365 Copilot (with a licence) "
        "or the free Copilot Chat in the last 28 days; users licensed are those holding a Microsoft 365 "
        "Copilot licence.",
        "Microsoft 365 Copilot Chat is available across the organisation to every enabled staff account; it "
        "needs no licence.",)
    if not rows:
        notes = ("No department has Microsoft 365 Copilot licences or recorded Copilot use.", *notes)
    return Section("Departments where Copilot is used",
                   ("Department", "Users licensed", "Active users of Copilot or Copilot Chat (last 28 days)"),
                   (False, True, True), rows, notes)


def _expenditure(answer: dict[str, Any]) -> Section:
    rows = [(e["financial_year"], long_date(e["start"]), long_date(e["end"]), _amount(e), e["basis"])
            for e in answer["expenditure"]]
    return Section("Expenditure on AI licences by financial year",
                   ("Financial year", "From", "To", "Amount", "Basis"), (False, False, False, True, False), rows,
                   ("Microsoft 365 Copilot Chat: no licence cost (it comes with every work account).",))


def _amount(row: dict[str, Any]) -> str:
    if row["amount"] is None:
        return "not estimated" if row["held"] else "not held"
    money = money_text(row["amount"], row["currency"])
    return money if row["held"] else f"not held (lower bound {money})"
