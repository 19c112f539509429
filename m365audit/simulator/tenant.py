"""The simulated tenant: a deterministic organisation generated on demand.

User ``i`` is a pure function of (seed, i, config), so any page of a tenant
of 1,500,000 users is produced without holding the tenant in memory, and the
same seed always gives the same tenant. Tests ask this model for the truth
(``expected_licence_summary``) and compare what the collector stored.

Changes made after start (``override_user``, ``delete_user``) are kept in a
small overlay and a change log, so delta queries see them.
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from m365audit.simulator import catalogue as cat
from m365audit.simulator.aggregates import (
    AdminUnit,
    Aggregates,
    admin_units,
    compute_aggregates,
    expected_licence_summary,
)
from m365audit.simulator.model import Profile, SimAssignment, SimUser, assignment, rollout_date, stable_uuid
from m365audit.simulator.population import build_frozen, draws, unit

__all__ = ["CLEAN", "Profile", "Rates", "SimAssignment", "SimUser", "Tenant", "TenantConfig", "stable_uuid"]
from m365audit.simulator.behaviour import ActivityPlant, ActivityRates, ApiBehaviour

if TYPE_CHECKING:
    from m365audit.simulator.activity import ActivityModel


@dataclass(frozen=True)
class Rates:
    """How often the messy parts of a real tenant occur. Zero them for a clean tenant."""

    guest: float = 0.015
    disabled_account: float = 0.04
    guest_copilot: float = 0.05  # share of guests given a Copilot seat
    copilot_direct: float = 0.06  # Copilot seats assigned directly instead of by group
    copilot_teams_disabled: float = 0.05  # seat with the Teams Copilot plan switched off
    copilot_all_disabled: float = 0.01  # SKU assigned but every seat plan disabled
    assignment_error: float = 0.02  # group assignment failed (CountViolation and friends)
    never_used: float = 0.12  # seat holders who never use Copilot
    trained: float = 0.9  # seat holders in the training group
    staff_trained: float = 0.0  # other members of staff in the training group


CLEAN = Rates(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)


@dataclass(frozen=True)
class TenantConfig:
    users: int = 2000
    seed: int = 1
    days: int = 30
    org_name: str = "Example Borough Council"
    domain: str = "example.gov.uk"
    tenant_id: str = "5f1c2b7e-0d1a-4c53-9a55-3b2f6f1b0c11"
    anchor: datetime = field(default_factory=lambda: _today())
    rates: Rates = field(default_factory=Rates)
    # Other organisations sharing the tenant (e.g. cat.NORTHSHIRE_TRUST), for scoped audits.
    organisations: tuple[cat.Organisation, ...] = ()
    activity: ActivityRates = field(default_factory=ActivityRates)
    activity_plants: tuple[ActivityPlant, ...] = ()  # users whose activity tells a planted story
    api: ApiBehaviour = field(default_factory=ApiBehaviour)
    # Days of activity after the anchor day: the same tenant that many nights later. The
    # directory, planted days and every earlier record stay exactly as at the anchor, so a
    # database collected from the tenant at extra_days=0 gains only the new days (bench nightly run).
    extra_days: int = 0
    # When today's Copilot seat holders got their seats: (share of holders, date) points, as
    # history.seat_rollout makes them (empty: spread evenly over the 540 days before the anchor).
    seat_rollout: tuple[tuple[float, datetime], ...] = ()

    @property
    def sharepoint_host(self) -> str:
        """e.g. examplegovuk.sharepoint.com: derived from the domain like a tenant's initial name."""
        return self.domain.split(".")[0].replace("-", "") + ".sharepoint.com"

    def site_url(self, site: str) -> str:
        return f"https://{self.sharepoint_host}/sites/{site}"


def _cumulative(departments: tuple[cat.Department, ...]) -> tuple[list[float], tuple[cat.Department, ...]]:
    total = sum(d.weight for d in departments)
    edges, acc = [], 0.0
    for d in departments:
        acc += d.weight / total
        edges.append(acc)
    return edges, departments


def _today() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


# Base licence by a uniform draw: 70% E3, 18% E5, 9% F3, 3% none (all assigned by group).
_BASE_LICENCES = ((0.70, cat.E3, cat.GROUP_ALL_STAFF), (0.88, cat.E5, cat.GROUP_E5),
                  (0.97, cat.F3, cat.GROUP_FRONTLINE))


class Tenant:
    """A simulated organisation. Thread-safe for concurrent HTTP handlers."""

    def __init__(self, config: TenantConfig | None = None) -> None:
        self.config = config or TenantConfig()
        if self.config.users < 1:
            raise ValueError("a tenant needs at least one user")
        if self.config.extra_days < 0:
            raise ValueError("extra_days cannot be negative")
        shared = sum(o.share for o in self.config.organisations)
        if shared >= 1:
            raise ValueError("organisations sharing the tenant must leave it some users of its own")
        self._own_organisation = cat.Organisation(self.config.org_name, self.config.domain, 1 - shared)
        self._org_cum: list[tuple[float, cat.Organisation]] = []
        acc = 0.0
        for org in self.config.organisations:
            acc += org.share
            self._org_cum.append((acc, org))
        self._dept_cum = {org.name: _cumulative(org.departments) for org in self.organisations()}
        self._lock = threading.Lock()
        self._aggregate_lock = threading.Lock()
        self._overrides: dict[int, dict[str, Any]] = {}
        self._deleted: set[int] = set()
        self._extra_users = 0  # users added after start get indexes users, users+1, ...
        self.change_log: list[tuple[int, int]] = []  # (generation, user index)
        self.generation = 0
        self._cache: dict[str, Any] = {}
        self._group_ids: dict[str, str] = {}
        # SKUs the organisation does not subscribe to yet (history.SeatHistory: before a product existed).
        self.hidden_skus: frozenset[str] = frozenset()

    # ----- identity -------------------------------------------------------
    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def user_count(self) -> int:
        return self.config.users + self._extra_users

    def group_id(self, name: str) -> str:
        cached = self._group_ids.get(name)  # asked for once per licence assignment on a page
        if cached is None:
            cached = self._group_ids[name] = stable_uuid(self.seed, "group", name)
        return cached

    def group_names(self) -> list[str]:
        return [cat.GROUP_ALL_STAFF, cat.GROUP_E5, cat.GROUP_FRONTLINE, cat.GROUP_COPILOT,
                cat.GROUP_COPILOT_PILOT, cat.GROUP_TRAINED]

    # ----- users ----------------------------------------------------------
    def user(self, index: int) -> SimUser | None:
        """User ``index`` as it is now, or None when deleted or out of range."""
        if index < 0 or index >= self.user_count or index in self._deleted:
            return None
        base = self._generate(index)
        overrides = self._overrides.get(index)
        return replace(base, **overrides) if overrides else base

    def user_id(self, index: int) -> str | None:
        """User ``index``'s object id without generating the user (member lists of a million)."""
        if index < 0 or index >= self.user_count or index in self._deleted:
            return None
        overrides = self._overrides.get(index)
        if overrides and "id" in overrides:
            return str(overrides["id"])
        return stable_uuid(self.seed, "user", index)

    def iter_users(self, start: int = 0) -> Iterator[SimUser]:
        for i in range(start, self.user_count):
            u = self.user(i)
            if u is not None:
                yield u

    def profile(self, i: int) -> Profile:
        """The licence-relevant facts of generated user ``i`` (no names, ids or dates): cheap, for aggregates."""
        rates = self.config.rates
        d = draws(self.config.seed, i)
        org = self._organisation(unit(d[15]))
        guest = unit(d[1]) < rates.guest
        dept = None if guest else self._pick_department(org, unit(d[4]))
        base = None
        if not guest:
            base = next(((sku.sku_id, group) for edge, sku, group in _BASE_LICENCES if unit(d[5]) < edge), None)
        wants = unit(d[6]) < (rates.guest_copilot if guest else dept.copilot_rate if dept else 0.0)
        copilot = self._copilot_terms(d, guest, dept) if wants else None
        trained = unit(d[12]) < (rates.trained if wants else 0.0 if guest else rates.staff_trained)
        return Profile(d, org, guest, dept, base, copilot, trained)

    def generated(self, i: int) -> bool:
        """Whether user ``i`` is exactly as generated (not changed, added with fields or deleted)."""
        return i not in self._overrides and i not in self._deleted

    def _generate(self, i: int) -> SimUser:
        cfg = self.config
        p = self.profile(i)
        d, org, guest, dept = p.draws, p.organisation, p.guest, p.department
        first = cat.FIRST_NAMES[d[0] % len(cat.FIRST_NAMES)]
        last = cat.SURNAMES[d[0] // 32 % len(cat.SURNAMES)]
        created = cfg.anchor - timedelta(seconds=30 * 86400 + int(unit(d[3]) * 3600 * 86400))
        local = f"{first}.{last}".lower().replace("'", "")
        if guest:
            partner = cat.GUEST_PARTNERS[d[0] // 1024 % len(cat.GUEST_PARTNERS)]
            upn = f"{local}{i}_{partner.replace('.', '_')}#EXT#@{cfg.domain}"
            mail = f"{local}@{partner}"
        else:
            upn = mail = f"{local}{i}@{org.domain}"
        assignments = [assignment(p.base[0], p.base[1], created + timedelta(days=1))] if p.base else []
        activity = unit(d[14])
        if p.copilot is not None:
            since = (rollout_date(cfg.seat_rollout, unit(d[13])) if cfg.seat_rollout
                     else cfg.anchor - timedelta(days=1 + unit(d[13]) * 540))
            assigned_at = max(created, since)
            assignments.append(assignment(cat.COPILOT.sku_id, p.copilot[0], assigned_at, *p.copilot[1:]))
            if unit(d[11]) < cfg.rates.never_used:
                activity = 0.0
        return build_frozen(SimUser, {
            "index": i, "id": stable_uuid(cfg.seed, "user", i), "user_principal_name": upn,
            "display_name": f"{first} {last}", "given_name": first, "surname": last, "mail": mail,
            "department": dept.name if dept else None, "company_name": "" if guest else org.name,
            "job_title": None if guest else cat.JOB_TITLES[d[0] // 4096 % len(cat.JOB_TITLES)],
            "office_location": None if guest else cat.OFFICES[d[0] // 65536 % len(cat.OFFICES)],
            "account_enabled": unit(d[2]) >= cfg.rates.disabled_account,
            "user_type": "Guest" if guest else "Member", "created_at": created,
            "assignments": tuple(assignments), "trained": p.trained, "activity": activity,
            "organisation": org.name,
        })

    def _copilot_terms(self, d: tuple[int, ...], guest: bool,
                       dept: cat.Department | None) -> tuple[str | None, tuple[str, ...], str, str]:
        """(group, disabled plans, state, error) of the Copilot seat of a user who wants one.

        The messy cases come at their rates; every draw is taken whether or not
        it is used, so one rate never shifts another.
        """
        rates = self.config.rates
        disabled: tuple[str, ...] = ()
        if unit(d[9]) < rates.copilot_all_disabled:
            disabled = cat.COPILOT_SEAT_PLANS
        elif unit(d[8]) < rates.copilot_teams_disabled:
            disabled = (cat.COPILOT_TEAMS,)
        group = None if (guest or unit(d[7]) < rates.copilot_direct) else cat.GROUP_COPILOT
        if group and dept is not None and dept.name == "Finance":
            group = cat.GROUP_COPILOT_PILOT  # nested inside the Copilot group
        if group and unit(d[10]) < rates.assignment_error:
            return group, disabled, "Error", "CountViolation"
        return group, disabled, "Active", "None"

    def organisations(self) -> list[cat.Organisation]:
        """The tenant's own organisation first, then those sharing the tenant."""
        return [self._own_organisation, *self.config.organisations]

    def _organisation(self, x: float) -> cat.Organisation:
        for edge, org in self._org_cum:
            if x < edge:
                return org
        return self._own_organisation

    def _pick_department(self, org: cat.Organisation, x: float) -> cat.Department:
        edges, depts = self._dept_cum[org.name]
        return depts[min(bisect.bisect_right(edges, x), len(depts) - 1)]

    # ----- changes (for delta queries and planted cases) -------------------
    def override_user(self, index: int, **fields: Any) -> None:
        """Change fields of user ``index`` (e.g. display_name, account_enabled, assignments)."""
        with self._lock:
            self._overrides.setdefault(index, {}).update(fields)
            self._bump(index)

    def add_user(self, **fields: Any) -> int:
        with self._lock:
            index = self.user_count
            self._extra_users += 1
            if fields:
                self._overrides[index] = dict(fields)
            self._bump(index)
            return index

    def delete_user(self, index: int) -> None:
        with self._lock:
            self._deleted.add(index)
            self._bump(index)

    def _bump(self, index: int) -> None:
        self.generation += 1
        self.change_log.append((self.generation, index))
        self._cache.clear()

    def changed_since(self, generation: int) -> list[int]:
        with self._lock:
            return sorted({i for g, i in self.change_log if g > generation})

    def is_deleted(self, index: int) -> bool:
        return index in self._deleted

    # ----- aggregates (computed in one pass, cached until the tenant changes) --
    def aggregates(self) -> Aggregates:
        with self._aggregate_lock:
            generation = self.generation
            cached = self._cache.get("aggregates")
            if cached is None or cached[0] != generation:
                cached = (generation, compute_aggregates(self))
                self._cache["aggregates"] = cached
            aggregates: Aggregates = cached[1]
            return aggregates

    @property
    def activity(self) -> ActivityModel:
        """Copilot activity of this tenant (audit records, usage), rebuilt after changes."""
        from m365audit.simulator.activity import ActivityModel

        with self._aggregate_lock:
            cached = self._cache.get("activity")
            if cached is None or cached[0] != self.generation:
                cached = self._cache["activity"] = (self.generation, ActivityModel(self))
            model: ActivityModel = cached[1]
            return model

    def group_members(self, name: str) -> list[int]:
        """Indexes of users who are direct members of group ``name``."""
        return list(self.member_indexes(name))

    def member_indexes(self, name: str) -> Sequence[int]:
        """Like ``group_members`` but the cached sequence itself (no copy): do not modify it."""
        return self.aggregates().group_members.get(name, array("l"))

    def unit_id(self, name: str) -> str:
        return stable_uuid(self.seed, "administrativeUnit", name)

    def administrative_units(self) -> list[AdminUnit]:
        return admin_units(self)

    def unit_member_indexes(self, unit_id: str) -> Sequence[int]:
        """Indexes of the users in administrative unit ``unit_id`` (cached; do not modify)."""
        return self.aggregates().unit_members.get(unit_id, array("l"))

    def consumed_units(self) -> Counter[str]:
        return Counter(self.aggregates().consumed)

    def subscribed_skus(self) -> list[cat.SkuDef]:
        """The SKUs subscribedSkus lists."""
        return [sku for sku in cat.SKUS if sku.sku_id not in self.hidden_skus]

    def purchased_units(self, sku: cat.SkuDef) -> int:
        consumed = self.consumed_units()[sku.sku_id]
        return int(consumed * (1 + sku.slack)) + 5

    def expected_licence_summary(self, user_filter: Callable[[SimUser], bool] | None = None) -> dict[str, Any]:
        """The truth the collector must reproduce, in the `licences --format json` shape.

        ``user_filter`` limits the Copilot user counts to some users (a scoped
        collection); SKU counts are the tenant's, as subscribedSkus reports them.
        """
        return expected_licence_summary(self, user_filter)
