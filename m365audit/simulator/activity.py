"""The simulated tenant's Copilot activity: who uses which app, when, and what it touched.

Activity is a pure function of (seed, day, user, record type). For each day
a plan holds only each active user's record count, drawn from one hash per
user, so a query over millions of records is indexed without building them;
records are built page by page when asked for (``Selection.page``).

Licences shape the activity: seat holders use the Copilot apps from the day
after their seat was assigned, at skewed rates (``weight``); other members
with the free Copilot Chat entitlement appear only in Copilot Chat (BizChat);
a seat holder drawn as a never-user (``activity`` 0) never appears.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator.activity_records import DAY_SECONDS, Person, RecordBuilder
from m365audit.simulator.behaviour import CLEAN_ACTIVITY, ActivityPlant, ActivityRates

if TYPE_CHECKING:
    from m365audit.simulator.tenant import SimUser, Tenant

__all__ = ["CLEAN_ACTIVITY", "ActivityModel", "ActivityRates", "Selection"]

_M64 = (1 << 64) - 1
_PLAN_CACHE_DAYS = 64


@dataclass(frozen=True)
class DayPlan:
    """Who has records of one type on one day: positions into ``people`` and counts."""

    day: int  # date ordinal
    positions: list[int]
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class Segment:
    """Part of a query's result: one day and record type, possibly a window of the day."""

    day: int
    record_type: str
    positions: list[int]
    counts: list[int]  # records inside the window, per person
    cumulative: list[int]  # cumulative[i] = records before person i in this segment
    window: tuple[int, int] | None  # seconds into the day [lo, hi); None = whole day

    @property
    def total(self) -> int:
        return self.cumulative[-1] if self.cumulative else 0


class Selection:
    """The records a query matches, in a fixed order, built on demand."""

    def __init__(self, model: ActivityModel, segments: list[Segment]) -> None:
        self.model = model
        self.segments = [s for s in segments if s.total]
        self.starts = []
        acc = 0
        for s in self.segments:
            self.starts.append(acc)
            acc += s.total
        self.total = acc

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """AuditData dicts of records ``offset .. offset+limit`` (clipped to the total)."""
        return [record for _, record in self.page_with_users(offset, limit)]

    def page_with_users(self, offset: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Like ``page``, each record with the index of the user it is about."""
        out: list[tuple[int, dict[str, Any]]] = []
        end = min(self.total, offset + limit)
        while offset < end:
            k = bisect_right(self.starts, offset) - 1
            seg = self.segments[k]
            local = offset - self.starts[k]
            i = bisect_right(seg.cumulative, local) - 1
            records = self.model.person_records(seg, i)
            skip = local - seg.cumulative[i]
            take = records[skip:skip + (end - offset)]
            index = self.model.people[seg.positions[i]].index
            out.extend((index, record) for record in take)
            offset += len(take)
        return out

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for seg in self.segments:
            for i in range(len(seg.positions)):
                yield from self.model.person_records(seg, i)


class ActivityModel:
    """Audit records and usage of one simulated tenant."""

    def __init__(self, tenant: Tenant) -> None:
        cfg = tenant.config
        self.tenant = tenant
        self.seed = cfg.seed
        self.rates: ActivityRates = cfg.activity
        self.first_day = (cfg.anchor - timedelta(days=cfg.days)).date().toordinal()
        # Planted days count back from the anchor day, so extra_days only adds days at the end.
        self.anchor_day = cfg.anchor.date().toordinal()
        # exclusive: activity stops before the anchor day, or extra_days after it
        self.end_day = self.anchor_day + cfg.extra_days
        self.builder = RecordBuilder(cfg.seed, cfg.tenant_id, cfg.site_url, self.rates)
        self._people: list[Person] | None = None
        self._plants: dict[int, list[ActivityPlant]] = {}
        for planted in cfg.activity_plants:
            self._plants.setdefault(planted.index, []).append(planted)
        self._plans: OrderedDict[tuple[int, str], DayPlan] = OrderedDict()
        self._lock = threading.Lock()

    # ----- population ----------------------------------------------------------
    @property
    def people(self) -> list[Person]:
        with self._lock:
            if self._people is None:
                people: list[Person] = []
                first_in: dict[str, SimUser] = {}
                for u in self.tenant.iter_users():
                    if u.user_type == "Member" and u.account_enabled and u.department:
                        first_in.setdefault(u.department, u)
                    if (p := self._person(u)) is not None:
                        people.append(p)
                self._people = people + self._programs(first_in)
            return self._people

    def _programs(self, first_in: dict[str, SimUser]) -> list[Person]:
        """The PROGRAMS actors, after the people: programs with their own ids, and people of
        a department using another Copilot product (when the tenant has that department)."""
        out: list[Person] = []
        if self.rates.programs_per_day <= 0:
            return out
        for k, spec in enumerate(ac.PROGRAMS):
            index = -1_000_000 - k  # apart from every directory user's draws (hash(-1) == hash(-2))
            if spec.department is None:
                assert spec.object_id is not None
                out.append(Person(index, spec.object_id, spec.object_id, spec.name, None, False, False, 1.0, 0,
                                  ac.INTRANET, program=k))
            elif (u := first_in.get(spec.department)) is not None:
                out.append(Person(index, u.user_principal_name, u.id, u.display_name, None, False, False, 1.0, 0,
                                  ac.INTRANET, program=k, owner=u.index))
        return out

    def _person(self, u: SimUser) -> Person | None:
        rates = self.rates
        plants = self._plants.get(u.index, ())
        kinds = tuple(p.kind for p in plants)
        seat = u.holds_copilot_seat()
        entitled = u.user_type == "Member" and bool(u.assignments)  # base SKUs carry Copilot Chat
        chat = entitled and ("chat" in kinds or (self._unit(0, u.index, 1) < rates.chat_users
                                                 and (u.trained or not rates.chat_needs_training)))
        if not (seat or chat):
            return None
        weight = 2.5 * u.activity ** 1.5 if u.account_enabled else 0.0
        seat_from = None
        if seat:
            assigned = u.copilot_assigned_at() or self.tenant.config.anchor
            seat_from = assigned.date().toordinal() + 1
        third = weight > 0 and ("ai_app" in kinds or self._unit(0, u.index, 2) < rates.third_party_users)
        favourite = int(self._unit(0, u.index, 3) * len(ac.SEAT_APPS))
        home = ac.HOME_SITE.get(u.department or "", ac.INTRANET)
        days = {p.kind: self.anchor_day - p.days_ago for p in plants}
        apps = [i for i, (host, _) in enumerate(ac.THIRD_PARTY_APPS) for p in plants if p.app == host]
        return Person(u.index, u.user_principal_name, u.id, u.display_name, seat_from, chat, third,
                      weight, favourite, home, days, days.get("stops"), apps[0] if apps else None)

    def _unit(self, day: int, index: int, salt: int) -> float:
        return (hash((self.seed, day, index, salt, 1_000_003)) & _M64) / 18446744073709551616.0

    def licensed_on(self, person: Person, day: int) -> bool:
        return person.seat_from is not None and person.seat_from <= day

    # ----- daily plans ----------------------------------------------------------
    def plan(self, day: int, record_type: str) -> DayPlan:
        key = (day, record_type)
        with self._lock:
            cached = self._plans.get(key)
            if cached is not None:
                self._plans.move_to_end(key)
                return cached
        plan = self._make_plan(day, record_type)
        with self._lock:
            self._plans[key] = plan
            while len(self._plans) > _PLAN_CACHE_DAYS * len(ac.GENERATED_TYPES):
                self._plans.popitem(last=False)
        return plan

    def _make_plan(self, day: int, record_type: str) -> DayPlan:
        positions: list[int] = []
        counts: list[int] = []
        if not (self.first_day <= day < self.end_day) or record_type not in ac.GENERATED_TYPES:
            return DayPlan(day, positions, counts)
        rates = self.rates
        factor = rates.weekend_factor if date.fromordinal(day).weekday() >= 5 else 1.0
        code = ac.RECORD_TYPES[record_type]
        monday = date.fromordinal(day).weekday() == 0
        for pos, p in enumerate(self.people):
            if p.weight <= 0 or (p.last_day is not None and day > p.last_day):
                continue
            # A planted event, a last day of use or (use_every_weeks) a seat holder's Monday has a record.
            floor = day in p.plant_days.values()
            if p.program is not None:
                if record_type != ac.COPILOT:
                    continue
                mean = rates.programs_per_day
            elif record_type == ac.COPILOT:
                if p.seat_from is not None and p.seat_from <= day:
                    mean = rates.prompts_per_day * p.weight
                    weeks = rates.use_every_weeks
                    floor = floor or (monday and weeks > 0 and (day // 7 + p.index) % weeks == 0)
                elif p.chat:
                    mean = rates.chat_prompts_per_day * p.weight
                else:
                    continue
            elif p.third_party:
                mean = rates.third_party_per_day
                floor = p.plant_days.get("ai_app") == day
            else:
                continue
            n = int(self._unit(day, p.index, code) * (2 * mean * factor + 1))
            n = max(n, 1) if floor else n
            if n:
                positions.append(pos)
                counts.append(n)
        return DayPlan(day, positions, counts)

    # ----- queries -----------------------------------------------------------------
    def select(self, start: datetime, end: datetime, record_types: Collection[str] | None = None,
               upns: Collection[str] | None = None,
               user_indexes: Callable[[int], bool] | None = None) -> Selection:
        """The records with start <= CreationTime < end, of the given types and users."""
        types = [t for t in ac.GENERATED_TYPES if record_types is None or t in record_types]
        wanted = {u.lower() for u in upns} if upns else None
        segments: list[Segment] = []
        lo_ts, hi_ts = _epoch(start), _epoch(end)
        for day in range(max(self.first_day, _day(start)), min(self.end_day, _day(end) + 1)):
            day_start = (day - _EPOCH_ORDINAL) * DAY_SECONDS
            lo, hi = max(0, lo_ts - day_start), min(DAY_SECONDS, hi_ts - day_start)
            if lo >= hi:
                continue
            window = None if (lo, hi) == (0, DAY_SECONDS) else (lo, hi)
            for record_type in types:
                segments.append(self._segment(day, record_type, window, wanted, user_indexes))
        return Selection(self, segments)

    def _segment(self, day: int, record_type: str, window: tuple[int, int] | None,
                 wanted: set[str] | None, user_indexes: Callable[[int], bool] | None) -> Segment:
        plan = self.plan(day, record_type)
        people = self.people
        positions: list[int] = []
        counts: list[int] = []
        cumulative = [0]
        for pos, n in zip(plan.positions, plan.counts, strict=True):
            p = people[pos]
            if wanted is not None and (p.upn.lower() not in wanted or (p.program is not None and p.owner is None)):
                continue
            owner = p.index if p.program is None else p.owner
            if user_indexes is not None and (owner is None or not user_indexes(owner)):
                continue
            if window is not None:
                times = self.builder.times(self.builder.rng(day, p, record_type), n)
                n = bisect_left(times, window[1]) - bisect_left(times, window[0])
                if not n:
                    continue
            positions.append(pos)
            counts.append(n)
            cumulative.append(cumulative[-1] + n)
        return Segment(day, record_type, positions, counts, cumulative, window)

    def person_records(self, seg: Segment, i: int) -> list[dict[str, Any]]:
        """Person ``i`` of a segment: their records of that day inside the window."""
        person = self.people[seg.positions[i]]
        plan = self.plan(seg.day, seg.record_type)
        n = plan.counts[bisect_left(plan.positions, seg.positions[i])]
        records = self.builder.user_day(seg.day, person, seg.record_type, n,
                                        self.licensed_on(person, seg.day))
        if seg.window is None:
            return records
        lo = _iso_at(seg.day, seg.window[0])
        hi = _iso_at(seg.day, seg.window[1])
        return [r for r in records if lo <= r["CreationTime"] < hi]

    def records(self, start: datetime, end: datetime,
                record_types: Collection[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every AuditData record in [start, end), for tests and checks to compare with."""
        return iter(self.select(start, end, record_types))

    def count(self, start: datetime, end: datetime, record_types: Collection[str] | None = None) -> int:
        return self.select(start, end, record_types).total

    @property
    def window(self) -> tuple[datetime, datetime]:
        """The whole span with activity: [first day, anchor day + extra_days)."""
        return (datetime.fromordinal(self.first_day).replace(tzinfo=UTC),
                datetime.fromordinal(self.end_day).replace(tzinfo=UTC))


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _epoch(ts: datetime) -> int:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    seconds = ts.timestamp()
    return int(seconds) if seconds == int(seconds) else int(seconds) + 1  # records carry whole seconds


def _day(ts: datetime) -> int:
    return ts.astimezone(UTC).date().toordinal()


def _iso_at(day: int, seconds: int) -> str:
    if seconds >= DAY_SECONDS:
        return datetime.fromordinal(day + 1).strftime("%Y-%m-%dT%H:%M:%S")
    return (datetime.fromordinal(day) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")

