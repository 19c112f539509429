"""Building an FOI answer: exact counts -> disclosure control -> one published shape.

The answer is a plain dict in the JSON shape of `m365audit foi --format json`.
Every other format is rendered from that dict alone, so nothing that is not in
it (names, user ids, exact small counts) can reach any output.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import duckdb

from m365audit.errors import UsageError
from m365audit.foi import counts as c
from m365audit.foi.agents import PURPOSE as AGENT_PURPOSE
from m365audit.foi.agents import agents_in_use
from m365audit.foi.expenditure import estimate_periods
from m365audit.foi.method import method_text, officer_note
from m365audit.foi.periods import end_of_day, last_financial_years, reporting_periods, utc_day
from m365audit.foi.products import product_name
from m365audit.foi.suppression import Outcome, Table, display, protect
from m365audit.policy import Policy
from m365audit.store.scope import current_scope
from m365audit.wording import plural

COPILOT = "Microsoft 365 Copilot"
CHAT = "Microsoft 365 Copilot Chat"
COMBINED = "(other departments, combined to protect small numbers)"
PURPOSES = {
    COPILOT: ("Generative AI assistant in Word, Excel, PowerPoint, Outlook and Teams that works with the "
              "organisation's documents, email and meetings the user can already open; used for "
              "administrative tasks such as drafting, summarising and finding information."),
    CHAT: ("Web-grounded generative AI chat with enterprise data protection, available to every work account "
           "at no licence cost (it is not a licence); used for administrative tasks such as drafting and "
           "summarising."),
}


@dataclass(frozen=True)
class FoiOptions:
    as_of: date | None = None  # default: the day of the latest snapshot
    years: int = 3
    lower_bound: bool = False


def _scope_words(con: duckdb.DuckDBPyConnection) -> str | None:
    """Whose figures these are, in words, for a scoped database (one organisation of a shared tenant)."""
    scope = current_scope(con)
    return None if scope is None or scope.scope is None else scope.description


def build_answer(con: duckdb.DuckDBPyConnection, policy: Policy, options: FoiOptions) -> dict[str, Any]:
    ts = _snapshot_for(con, options.as_of)
    as_of = options.as_of or utc_day(ts)
    info = c.snapshot_info(con, ts)
    window = c.activity_window(con, as_of)
    ai_skus = c.ai_sku_ids(con, list(policy.ai_skus))
    raw = protected_counts(c.raw_counts(con, ts, window, ai_skus), policy)
    table, keys = _table(raw)
    outcome = protect(table, policy.suppress_below, policy.secondary_suppression, cap=max(raw.users, 1))
    if outcome.exposed:
        # Never publish a table the audit can break; this needs a threshold below 5 (property-tested).
        raise UsageError(
            f"With [foi] suppress_below = {policy.suppress_below}, {plural(len(outcome.exposed), 'withheld count')} in "
            "this answer could still be worked out from the others; raise suppress_below (5 or more is usual).")
    shown = {k: display(cell, policy.suppress_below) for k, cell in table.cells.items()}
    years = last_financial_years(as_of, options.years, policy.financial_year_start_month)
    periods = reporting_periods(years, as_of, utc_day(info.first))
    estimates = estimate_periods(con, periods, policy, ai_skus, info.first, options.lower_bound)
    return {
        "as_of": as_of.isoformat(),
        "scope": _scope_words(con),
        "organisation": _organisation(con, ts),
        "systems": [
            _system(COPILOT, shown[keys["copilot.licensed"]], shown[keys["copilot.licensed"]],
                    shown[keys["copilot.active"]]),
            _system(CHAT, shown[keys["chat.entitled"]], None, shown[keys["chat.active"]]),
        ],
        "agents": agents_in_use(con, window, policy.suppress_below, policy.secondary_suppression, raw.users),
        "agent_purpose": AGENT_PURPOSE,
        "licences": [{"product": product_name(row.sku_id, row.sku_part_number),
                      "sku_part_number": row.sku_part_number, "purchased": row.purchased,
                      "assigned": shown[f"licence.{i}.assigned"]} for i, row in enumerate(raw.licences)],
        "departments": [{"department": row.department, "licensed_users": shown[f"department.{i}.licensed"],
                         "active_users": shown[f"department.{i}.active"]} for i, row in enumerate(raw.departments)],
        "expenditure": [{
            "financial_year": e.period.financial_year.label, "start": e.period.start.isoformat(),
            "end": e.period.end.isoformat(), "amount": float(e.amount) if e.amount is not None else None,
            "currency": policy.currency, "basis": e.basis, "held": e.period.held,
        } for e in estimates],
        "suppression": {"threshold": policy.suppress_below, "secondary_method": policy.secondary_suppression},
        "method": method_text(info=info, window=window, as_of=as_of, policy=policy, outcome=outcome,
                              has_lower_bound=options.lower_bound and any(not p.held for p in periods),
                              combined=any(d.department == COMBINED for d in raw.departments)),
        "officer_note": officer_note(info=info, window=window, as_of=as_of, policy=policy),
    }


def _organisation(con: duckdb.DuckDBPyConnection, ts: datetime) -> str | None:
    """The organisation's name: the most common companyName on its accounts at the snapshot."""
    row = con.execute(
        "SELECT company_name FROM users_at($ts) WHERE nullif(trim(company_name), '') IS NOT NULL "
        "GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1", {"ts": ts}).fetchone()
    return str(row[0]) if row else None


def _system(name: str, entitled: Any, licensed: Any, active: Any) -> dict[str, Any]:
    return {"name": name, "purpose": PURPOSES[name], "entitled_users": entitled,
            "licensed_users": licensed, "active_users": active}


def _snapshot_for(con: duckdb.DuckDBPyConnection, as_of: date | None) -> datetime:
    if as_of is None:
        row = con.execute("SELECT max(taken_at) FROM snapshots").fetchone()
    else:
        row = con.execute("SELECT max(taken_at) FROM snapshots WHERE taken_at < $end",
                          {"end": end_of_day(as_of)}).fetchone()
    if not row or row[0] is None:
        when = f" on or before {as_of.isoformat()}" if as_of else ""
        raise UsageError(f"The database holds no licence snapshot{when}; run `m365audit collect` first.")
    return row[0]  # type: ignore[no-any-return]


def protected_counts(raw: c.RawCounts, policy: Policy) -> c.RawCounts:
    """Combine departments into one unnamed row while withholding cells alone cannot protect them.

    Naming a department says at least one of its people is counted; when a total is itself "<5" and
    enough named departments each show "<5", that alone can give their exact counts.
    """
    while True:
        table, _ = _table(raw)
        outcome = protect(table, policy.suppress_below, policy.secondary_suppression, cap=max(raw.users, 1))
        exposed = [int(k.split(".")[1]) for k in outcome.exposed if k.startswith("department.")]
        named = [i for i in exposed if raw.departments[i].department != COMBINED]
        if not named:
            return raw
        raw = replace(raw, departments=_combine(raw.departments, raw.departments[named[0]]))


def _combine(rows: list[c.DepartmentRow], row: c.DepartmentRow) -> list[c.DepartmentRow]:
    combined = next((r for r in rows if r.department == COMBINED), c.DepartmentRow(COMBINED, 0, 0))
    active = None if row.active is None or combined.active is None else row.active + combined.active
    merged = c.DepartmentRow(COMBINED, combined.licensed + row.licensed, active)
    return [r for r in rows if r.department not in (COMBINED, row.department)] + [merged]


def _table(raw: c.RawCounts) -> tuple[Table, dict[str, str]]:
    """The published counts as cells, with the rows and additive relations an attacker could use."""
    t = Table()
    keys = {
        "copilot.licensed": t.add("copilot.licensed", raw.copilot_licensed, is_total=True),
        "copilot.active": t.add("copilot.active", raw.copilot_active, is_total=True),
        "chat.entitled": t.add("chat.entitled", raw.chat_entitled, is_total=True),
        "chat.active": t.add("chat.active", raw.chat_active, is_total=True),
    }
    t.rows += [[keys["copilot.licensed"], keys["copilot.active"]], [keys["chat.entitled"], keys["chat.active"]]]
    seat_assigned = []
    for i, row in enumerate(raw.licences):
        key = t.add(f"licence.{i}.assigned", row.assigned, is_total=True)
        t.rows.append([key])
        if row.is_copilot_seat:
            seat_assigned.append(key)
    licensed, active = [], []
    for i, dept in enumerate(raw.departments):
        licensed.append(t.add(f"department.{i}.licensed", dept.licensed))
        active.append(t.add(f"department.{i}.active", dept.active))
        t.rows.append([licensed[-1], active[-1]])
    t.relations.append(([keys["copilot.licensed"]], licensed))
    t.relations.append(([keys["copilot.active"], keys["chat.active"]], active))
    # consumedUnits usually equals the number of seat holders; when it does, it is one more total.
    if seat_assigned and sum(r.assigned for r in raw.licences if r.is_copilot_seat) == raw.copilot_licensed:
        t.relations.append((seat_assigned, [keys["copilot.licensed"]]))
    return t, keys


__all__ = ["COMBINED", "FoiOptions", "Outcome", "build_answer", "protected_counts"]
