"""The demo tenant's licence history: what it looked like on the first of each month, back three years.

`m365audit demo` collects the tenant with the real collector once a month from the start of the
financial year three years before its clock (``history_dates``), then today. Between collections
``SeatHistory.show`` changes the simulated tenant to how it stood on that date, so every snapshot is
made by the collector from what the simulated Graph answers then, never written into the database:

- Microsoft 365 Copilot is not subscribed before Microsoft made it available (``COPILOT_GA``), so the
  SKU is missing from subscribedSkus in the early snapshots;
- today's seat holders got their seats over a pilot, a wider rollout and a steady stream since
  (``seat_rollout``, the dates the generated users' assignments carry), and hold no seat before then;
- some people held a seat for a while and gave it up (``former_holders``, and the plants' former seats,
  planted.former_seats): they have none today;
- purchased seats follow the assigned ones (the simulator buys about a tenth spare, plus five), so
  seats are bought over time and the FOI expenditure grows.

The directory is otherwise today's (people who joined later are listed in earlier snapshots too);
licences are what the history is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from m365audit.simulator import catalogue as cat
from m365audit.simulator.model import SimAssignment, rollout_date
from m365audit.simulator.population import draws, unit
from m365audit.simulator.tenant import Tenant

# Microsoft 365 Copilot became generally available to enterprise customers on 1 November 2023
# (No Jitter, "What is Microsoft 365 Copilot and How to Use It": "On November 1, 2023, Microsoft 365
# Copilot became generally available to enterprise customers"; found with the search tool, pages corpus;
# the docs corpus had no page stating the date). No tenant could hold the SKU before.
COPILOT_GA = datetime(2023, 11, 1, tzinfo=UTC)
HISTORY_YEARS = 3  # FOI requests ask for "the past three financial years"
SNAPSHOT_HOUR = 2  # the nightly job's hour (UTC) on the first of each month
FORMER_RATE = 0.03  # share of back-office staff without a seat today who held one for a while
_BACK_OFFICE = {d.name for d in cat.DEPARTMENTS if d.copilot_rate >= 0.05}


def year_start(day: date, start_month: int = 4) -> date:
    """The first day of the financial year containing ``day`` (as foi.periods.financial_year_of; the
    simulator does not import the FOI stage)."""
    return date(day.year if day.month >= start_month else day.year - 1, start_month, 1)


def history_start(today: date, start_month: int = 4) -> date:
    """The first day of the financial year ``HISTORY_YEARS`` years before the one containing ``today``."""
    current = year_start(today, start_month)
    return current.replace(year=current.year - HISTORY_YEARS)


def history_dates(until: datetime, start_month: int = 4) -> list[datetime]:
    """The first of each month at SNAPSHOT_HOUR UTC, from ``history_start`` to before ``until``'s day."""
    day, out = history_start(until.astimezone(UTC).date(), start_month), []
    cutoff = until.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    while (when := datetime(day.year, day.month, 1, SNAPSHOT_HOUR, tzinfo=UTC)) < cutoff:
        out.append(when)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out


def seat_rollout(anchor: datetime, start_month: int = 4) -> tuple[tuple[float, datetime], ...]:
    """(share of today's seat holders, date they had a seat by): a pilot of a few seats from a fortnight
    after general availability to the end of that financial year, a wider rollout over the next two
    years, then a steady trickle up to a week before ``anchor``. Empty when ``anchor`` is too early."""
    pilot = COPILOT_GA + timedelta(days=14)
    first = year_start(COPILOT_GA.date(), start_month)
    fy_end = datetime(first.year + 1, start_month, 1, tzinfo=UTC) - timedelta(days=1)
    last = anchor - timedelta(days=7)
    points = [(0.0, pilot), (0.08, fy_end), (0.3, fy_end.replace(year=fy_end.year + 1)),
              (0.8, fy_end.replace(year=fy_end.year + 2))]
    kept = [p for p in points if p[1] < last]
    return (*kept, (1.0, last)) if len(kept) >= 2 else ()


@dataclass(frozen=True)
class FormerSeat:
    index: int  # a user without a Copilot seat today
    start: datetime
    end: datetime  # the seat was removed at this time


def former_holders(tenant: Tenant) -> list[FormerSeat]:
    """Generated back-office members without a seat today who held one for three to fifteen months,
    given up at least five weeks before the anchor (so today's idle-seat checks never see them)."""
    points = tenant.config.seat_rollout
    latest = tenant.config.anchor - timedelta(days=35)
    out = []
    for u in tenant.iter_users():
        if not (tenant.generated(u.index) and u.user_type == "Member" and u.department in _BACK_OFFICE
                and u.assignments and u.copilot_assigned_at() is None):
            continue
        d = draws(tenant.seed, u.index)
        if not points or unit(d[13]) >= FORMER_RATE:
            continue
        start = max(rollout_date(points, unit(d[10])), u.created_at + timedelta(days=1))
        end = min(start + timedelta(days=90 + unit(d[9]) * 360), latest)
        if start < end:
            out.append(FormerSeat(u.index, start, end))
    return out


class SeatHistory:
    """Shows ``tenant`` as it stood at a past time (``show(when)``) or as it is (``show(None)``).

    Only users whose licences change over time are touched, and only when their state changes,
    so a users delta query after each step lists just the people whose seats changed.
    """

    def __init__(self, tenant: Tenant, planted: list[FormerSeat] | None = None) -> None:
        self.tenant = tenant
        self.current: dict[int, tuple[SimAssignment, ...]] = {}
        for u in tenant.iter_users():
            if any(cat.SKU_BY_ID[a.sku_id].is_copilot for a in u.assignments):
                self.current[u.index] = u.assignments
        self.former = {f.index: f for f in [*former_holders(tenant), *(planted or [])]}
        for index in self.former:
            user = tenant.user(index)
            assert user is not None
            self.current[index] = user.assignments
        self.shown: dict[int, tuple[SimAssignment, ...]] = dict(self.current)

    def assignments_at(self, index: int, when: datetime) -> tuple[SimAssignment, ...]:
        held = tuple(a for a in self.current[index] if not cat.SKU_BY_ID[a.sku_id].is_copilot
                     or a.assigned_at is None or a.assigned_at <= when)
        former = self.former.get(index)
        if former is not None and former.start <= when < former.end:
            held += (SimAssignment(cat.COPILOT.sku_id, cat.GROUP_COPILOT, assigned_at=former.start),)
        return held

    def show(self, when: datetime | None) -> None:
        copilot = frozenset(s.sku_id for s in cat.SKUS if s.is_copilot)
        self.tenant.hidden_skus = copilot if when is not None and when < COPILOT_GA else frozenset()
        for index, now in self.current.items():
            wanted = now if when is None else self.assignments_at(index, when)
            if self.shown[index] != wanted:
                self.tenant.override_user(index, assignments=wanted)
                self.shown[index] = wanted
