"""The simulated tenant: a deterministic organisation generated on demand.

User ``i`` is a pure function of (seed, i, config), so any page of a tenant
of 1,500,000 users is produced without holding the tenant in memory, and the
same seed always gives the same tenant. Tests ask this model for the truth
(``expected_licence_summary``) and compare what the collector stored.

Changes made after start (``override_user``, ``delete_user``) are kept in a
small overlay and a change log, so delta queries see them.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from m365audit.simulator import catalogue as cat
from m365audit.simulator.behaviour import ActivityRates, ApiBehaviour

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
    activity: ActivityRates = field(default_factory=ActivityRates)
    api: ApiBehaviour = field(default_factory=ApiBehaviour)

    @property
    def sharepoint_host(self) -> str:
        """e.g. examplegovuk.sharepoint.com: derived from the domain like a tenant's initial name."""
        return self.domain.split(".")[0].replace("-", "") + ".sharepoint.com"

    def site_url(self, site: str) -> str:
        return f"https://{self.sharepoint_host}/sites/{site}"


def _today() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class SimAssignment:
    sku_id: str
    group: str | None  # display name of the licensing group; None = direct
    state: str = "Active"
    error: str = "None"
    disabled_plans: tuple[str, ...] = ()
    assigned_at: datetime | None = None


@dataclass(frozen=True)
class SimUser:
    index: int
    id: str
    user_principal_name: str
    display_name: str
    given_name: str
    surname: str
    mail: str
    department: str | None
    company_name: str
    job_title: str | None
    office_location: str | None
    account_enabled: bool
    user_type: str
    created_at: datetime
    assignments: tuple[SimAssignment, ...]
    trained: bool
    activity: float  # 0 = never uses Copilot; higher = more prompts per working day

    def active_skus(self) -> dict[str, tuple[str, ...]]:
        """assignedLicenses: SKUs with a working assignment, and their effective disabled plans.

        With several sources for one SKU, a plan is off only when every source disables it.
        """
        merged: dict[str, set[str]] = {}
        for a in self.assignments:
            if a.state not in ("Active", "ActiveWithError"):
                continue
            if a.sku_id in merged:
                merged[a.sku_id] &= set(a.disabled_plans)
            else:
                merged[a.sku_id] = set(a.disabled_plans)
        return {sku: tuple(sorted(plans)) for sku, plans in merged.items()}

    def holds_copilot_seat(self) -> bool:
        return any(
            a.state in ("Active", "ActiveWithError")
            and cat.SKU_BY_ID[a.sku_id].is_copilot
            and any(p not in a.disabled_plans for p in cat.COPILOT_SEAT_PLANS)
            for a in self.assignments
        )

    def copilot_assigned_at(self) -> datetime | None:
        dates = [a.assigned_at for a in self.assignments
                 if cat.SKU_BY_ID[a.sku_id].is_copilot and a.assigned_at is not None]
        return min(dates) if dates else None


def stable_uuid(seed: int, *parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"m365audit-sim:{seed}:" + ":".join(map(str, parts))))


class Tenant:
    """A simulated organisation. Thread-safe for concurrent HTTP handlers."""

    def __init__(self, config: TenantConfig | None = None) -> None:
        self.config = config or TenantConfig()
        if self.config.users < 1:
            raise ValueError("a tenant needs at least one user")
        self._dept_cum: list[tuple[float, cat.Department]] = []
        total = sum(d.weight for d in cat.DEPARTMENTS)
        acc = 0.0
        for d in cat.DEPARTMENTS:
            acc += d.weight / total
            self._dept_cum.append((acc, d))
        self._lock = threading.Lock()
        self._overrides: dict[int, dict[str, Any]] = {}
        self._deleted: set[int] = set()
        self._extra_users = 0  # users added after start get indexes users, users+1, ...
        self.change_log: list[tuple[int, int]] = []  # (generation, user index)
        self.generation = 0
        self._cache: dict[str, Any] = {}

    # ----- identity -------------------------------------------------------
    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def user_count(self) -> int:
        return self.config.users + self._extra_users

    def group_id(self, name: str) -> str:
        return stable_uuid(self.seed, "group", name)

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

    def iter_users(self, start: int = 0) -> Iterator[SimUser]:
        for i in range(start, self.user_count):
            u = self.user(i)
            if u is not None:
                yield u

    def _generate(self, i: int) -> SimUser:
        cfg = self.config
        rates = cfg.rates
        r = random.Random(cfg.seed * 1_000_003 + i)
        first = r.choice(cat.FIRST_NAMES)
        last = r.choice(cat.SURNAMES)
        guest = r.random() < rates.guest
        enabled = r.random() >= rates.disabled_account
        created = cfg.anchor - timedelta(days=30 + r.random() * 3600)
        local = f"{first}.{last}".lower().replace("'", "")
        if guest:
            partner = r.choice(("partner-nhs.net", "contractor.co.uk", "university.ac.uk"))
            upn = f"{local}{i}_{partner.replace('.', '_')}#EXT#@{cfg.domain}"
            mail = f"{local}@{partner}"
            department = None
            job = None
            company = ""
        else:
            upn = f"{local}{i}@{cfg.domain}"
            mail = upn
            department = self._pick_department(r.random()).name
            job = r.choice(cat.JOB_TITLES)
            company = cfg.org_name
        assignments: list[SimAssignment] = []
        if not guest:
            x = r.random()
            since = created + timedelta(days=1)
            if x < 0.70:
                assignments.append(SimAssignment(cat.E3.sku_id, cat.GROUP_ALL_STAFF, assigned_at=since))
            elif x < 0.88:
                assignments.append(SimAssignment(cat.E5.sku_id, cat.GROUP_E5, assigned_at=since))
            elif x < 0.97:
                assignments.append(SimAssignment(cat.F3.sku_id, cat.GROUP_FRONTLINE, assigned_at=since))
        dept = self._pick_department_by_name(department)
        wants_copilot = (r.random() < rates.guest_copilot) if guest else (
            dept is not None and r.random() < dept.copilot_rate)
        # Draw every number whether or not it is used, so one rate never shifts another.
        direct_draw, teams_draw, all_draw, err_draw, use_draw, train_draw = (
            r.random() for _ in range(6))
        age_days = 1 + r.random() * 540
        activity = r.random()
        trained = False
        if wants_copilot:
            assigned_at = max(created, cfg.anchor - timedelta(days=age_days))
            disabled: tuple[str, ...] = ()
            if all_draw < rates.copilot_all_disabled:
                disabled = cat.COPILOT_SEAT_PLANS
            elif teams_draw < rates.copilot_teams_disabled:
                disabled = (cat.COPILOT_TEAMS,)
            group = None if (guest or direct_draw < rates.copilot_direct) else cat.GROUP_COPILOT
            if group and department == "Finance":
                group = cat.GROUP_COPILOT_PILOT  # nested inside the Copilot group
            if group and err_draw < rates.assignment_error:
                assignments.append(SimAssignment(
                    cat.COPILOT.sku_id, group, state="Error", error="CountViolation",
                    disabled_plans=disabled, assigned_at=assigned_at))
            else:
                assignments.append(SimAssignment(
                    cat.COPILOT.sku_id, group, disabled_plans=disabled, assigned_at=assigned_at))
            trained = train_draw < rates.trained
            if use_draw < rates.never_used:
                activity = 0.0
        return SimUser(
            index=i,
            id=stable_uuid(cfg.seed, "user", i),
            user_principal_name=upn,
            display_name=f"{first} {last}",
            given_name=first,
            surname=last,
            mail=mail,
            department=department,
            company_name=company,
            job_title=job,
            office_location=None if guest else r.choice(("Town Hall", "Civic Centre", "Depot", "Remote")),
            account_enabled=enabled,
            user_type="Guest" if guest else "Member",
            created_at=created,
            assignments=tuple(assignments),
            trained=trained,
            activity=activity,
        )

    def _pick_department(self, x: float) -> cat.Department:
        for edge, dept in self._dept_cum:
            if x < edge:
                return dept
        return self._dept_cum[-1][1]

    @staticmethod
    def _pick_department_by_name(name: str | None) -> cat.Department | None:
        for d in cat.DEPARTMENTS:
            if d.name == name:
                return d
        return None

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

    # ----- aggregates (computed once, cached until the tenant changes) ------
    @property
    def activity(self) -> ActivityModel:
        """Copilot activity of this tenant (audit records, usage), rebuilt after changes."""
        from m365audit.simulator.activity import ActivityModel

        model = self._cache.get("activity")
        if model is None:
            model = self._cache["activity"] = ActivityModel(self)
        return model

    def group_members(self, name: str) -> list[int]:
        """Indexes of users who are direct members of group ``name``."""
        key = f"members:{name}"
        cached = self._cache.get(key)
        if cached is None:
            cached = [u.index for u in self.iter_users() if name in self._groups_of(u)]
            self._cache[key] = cached
        return list(cached)

    @staticmethod
    def _groups_of(u: SimUser) -> set[str]:
        names = {a.group for a in u.assignments if a.group}
        if u.trained:
            names.add(cat.GROUP_TRAINED)
        return names

    def consumed_units(self) -> Counter[str]:
        cached = self._cache.get("consumed")
        if cached is None:
            cached = Counter()
            for u in self.iter_users():
                for sku in u.active_skus():
                    cached[sku] += 1
            self._cache["consumed"] = cached
        return Counter(cached)

    def purchased_units(self, sku: cat.SkuDef) -> int:
        consumed = self.consumed_units()[sku.sku_id]
        return int(consumed * (1 + sku.slack)) + 5

    def expected_licence_summary(self) -> dict[str, Any]:
        """The truth the collector must reproduce, in the `licences --format json` shape."""
        consumed = self.consumed_units()
        skus = []
        for sku in cat.SKUS:
            purchased = self.purchased_units(sku)
            skus.append({
                "sku_id": sku.sku_id, "sku_part_number": sku.part_number,
                "purchased": purchased, "assigned": consumed[sku.sku_id],
                "available": purchased - consumed[sku.sku_id], "is_copilot": sku.is_copilot,
            })
        by_dept: Counter[str | None] = Counter()
        licensed = 0
        for u in self.iter_users():
            if u.holds_copilot_seat():
                licensed += 1
                by_dept[u.department] += 1
        copilot = [s for s in skus if s["is_copilot"]]
        return {
            "skus": sorted(skus, key=lambda s: s["sku_part_number"]),
            "copilot": {
                "purchased": sum(s["purchased"] for s in copilot),
                "assigned": sum(s["assigned"] for s in copilot),
                "licensed_users": licensed,
                "by_department": sorted(
                    ({"department": d, "licensed_users": n} for d, n in by_dept.items()),
                    key=lambda row: (-row["licensed_users"], row["department"] or "")),
            },
        }
