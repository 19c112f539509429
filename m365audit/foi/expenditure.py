"""Estimated licence expenditure per financial-year period, from the stored snapshots.

For every day, each AI licence's purchased seats (prepaidUnits.enabled) are
those of the latest snapshot taken on or before that day; a seat-day costs the
monthly price in force that day divided by the number of days in that month,
so a seat held for a whole month costs exactly the monthly price whatever the
month's length. Amounts are rounded to the penny at the end, per period.

Days before the first snapshot are "not held". With ``lower_bound`` they get a
reconstruction from the first snapshot instead: the users holding a Copilot
seat then, counted from the date their Copilot plan was assigned
(assignedPlans). It cannot see seats removed before the first snapshot, nor
purchased seats nobody held, so it is a lower bound and labelled as one.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

import duckdb

from m365audit.foi.periods import Period
from m365audit.foi.products import product_name
from m365audit.policy import Policy


@dataclass(frozen=True)
class Estimate:
    period: Period
    amount: Decimal | None  # None: not held, or a price is missing
    basis: str


_HELD_SEATS = """
WITH snaps AS (SELECT taken_at, timezone('UTC', taken_at)::DATE AS day FROM snapshots),
days AS (SELECT d::DATE AS day FROM generate_series($start::DATE, $end::DATE, INTERVAL 1 DAY) t(d)),
state AS (SELECT days.day, (SELECT max(taken_at) FROM snaps WHERE snaps.day <= days.day) AS taken_at FROM days)
SELECT state.day, v.sku_id, coalesce(v.sku_part_number, v.sku_id), coalesce(v.prepaid_enabled, 0)
FROM state JOIN sku_versions v
  ON v.valid_from <= state.taken_at AND (v.valid_to IS NULL OR v.valid_to > state.taken_at)
WHERE list_contains($skus, v.sku_id)
"""

_RECONSTRUCTED_SEATS = """
WITH holders AS (
    SELECT user_id, min(sku_id) AS sku_id, min(sku_part_number) AS sku_part_number
    FROM licence_assignments_at($first) WHERE holds_copilot_seat GROUP BY user_id
),
since AS (
    SELECT p.user_id, timezone('UTC', min(p.assigned_at))::DATE AS day
    FROM assigned_plan_versions p
    JOIN reference_service_plans r ON r.service_plan_id = p.service_plan_id AND r.role = 'copilot_seat'
    WHERE p.valid_from <= $first AND (p.valid_to IS NULL OR p.valid_to > $first) AND p.assigned_at IS NOT NULL
    GROUP BY p.user_id
),
days AS (SELECT d::DATE AS day FROM generate_series($start::DATE, $end::DATE, INTERVAL 1 DAY) t(d))
SELECT days.day, h.sku_id, coalesce(h.sku_part_number, h.sku_id), count(*)
FROM days JOIN since ON since.day <= days.day JOIN holders h USING (user_id)
GROUP BY ALL
"""

ESTIMATE_BASIS = ("Estimate from licence records, not from invoices: {skus} licences paid for on each day, "
                  "times the list price per licence.")
NOT_HELD_BASIS = "Information not held: no licence records are held for this period."
LOWER_BOUND_BASIS = (
    "Information not held; the amount is a reconstructed lower bound, not an estimate: seats held at the "
    "first snapshot ({first}) counted from the date each was assigned, times the list price. "
    "Seats removed before {first} and purchased seats nobody held are not visible.")


def estimate_periods(con: duckdb.DuckDBPyConnection, periods: list[Period], policy: Policy,
                     ai_skus: list[str], first_snapshot: datetime, lower_bound: bool) -> list[Estimate]:
    names = _sku_names(con, ai_skus)
    out = []
    for period in periods:
        if period.held:
            rows = con.execute(_HELD_SEATS, {"start": period.start, "end": period.end, "skus": ai_skus}).fetchall()
            amount, missing = price_seat_days(rows, policy)
            out.append(Estimate(period, amount, missing or ESTIMATE_BASIS.format(skus=names)))
        elif lower_bound:
            rows = con.execute(_RECONSTRUCTED_SEATS, {"start": period.start, "end": period.end,
                                                      "first": first_snapshot}).fetchall()
            amount, missing = price_seat_days(rows, policy)
            basis = LOWER_BOUND_BASIS.format(first=first_snapshot.date().isoformat())
            out.append(Estimate(period, amount, f"{basis} {missing}" if missing else basis))
        else:
            out.append(Estimate(period, None, NOT_HELD_BASIS))
    return out


def price_seat_days(rows: Iterable[tuple[date, str, str, int]], policy: Policy) -> tuple[Decimal | None, str]:
    """Sum seats x price per day; (None, why) when seats were held on a day with no price."""
    total = Fraction(0)
    for day, sku_id, part_number, seats in sorted(rows):
        if not seats:
            continue
        price = policy.price_on(part_number, sku_id, day)
        if price is None:
            return None, (f"Not estimated: no list price is recorded for {product_name(sku_id, part_number)} "
                          f"on {day.isoformat()}.")
        days_in_month = calendar.monthrange(day.year, day.month)[1]
        total += Fraction(Decimal(str(price.monthly_price))) * seats / days_in_month
    pence = math.floor(total * 100 + Fraction(1, 2))  # exact: round half up to the penny
    return Decimal(pence).scaleb(-2), ""


def _sku_names(con: duckdb.DuckDBPyConnection, ai_skus: list[str]) -> str:
    rows = con.execute("SELECT DISTINCT sku_id, sku_part_number FROM sku_versions "
                       "WHERE list_contains($skus, sku_id)", {"skus": ai_skus}).fetchall()
    names = sorted({product_name(r[0], r[1]) for r in rows})
    return ", ".join(names) if names else "Microsoft 365 Copilot licences (none held)"
