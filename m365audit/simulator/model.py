"""The simulated tenant's records: users, licence assignments, and a user's licence profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from m365audit.simulator import catalogue as cat
from m365audit.simulator.population import build_frozen, fast_uuid5


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
    organisation: str = ""  # the organisation the account belongs to (guests: the one that invited them)

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


def rollout_date(points: tuple[tuple[float, datetime], ...], share: float) -> datetime:
    """The date by which ``share`` of today's seat holders had their seat: piecewise linear in ``points``
    ((share of today's holders, date) pairs, both increasing). A uniform draw gives each holder's date."""
    for (s0, d0), (s1, d1) in zip(points, points[1:], strict=False):
        if share <= s1:
            return d0 + (d1 - d0) * ((share - s0) / (s1 - s0) if s1 > s0 else 0.0)
    return points[-1][1]


def stable_uuid(seed: int, *parts: object) -> str:
    return fast_uuid5(f"m365audit-sim:{seed}:" + ":".join(map(str, parts)))


def assignment(sku_id: str, group: str | None, assigned_at: datetime, disabled: tuple[str, ...] = (),
                state: str = "Active", error: str = "None") -> SimAssignment:
    return build_frozen(SimAssignment, {"sku_id": sku_id, "group": group, "state": state, "error": error,
                                        "disabled_plans": disabled, "assigned_at": assigned_at})


class Profile(NamedTuple):
    """What decides a generated user's licences, groups and units (see ``Tenant.profile``)."""

    draws: tuple[int, ...]
    organisation: cat.Organisation
    guest: bool
    department: cat.Department | None
    base: tuple[str, str] | None  # (SKU id, licensing group) of the base licence
    copilot: tuple[str | None, tuple[str, ...], str, str] | None  # (group, disabled plans, state, error)
    trained: bool
