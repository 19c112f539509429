"""Tenant-wide counts and memberships, computed in one pass over the users.

``subscribedSkus`` needs every SKU's consumed units and the group and
administrative-unit member lists need every member's index; computing each
by its own scan of a million generated users cost a scan per question. One
pass fills them all; the tenant caches the result until it changes. Member
lists are ``array('l')`` (8 bytes a member) rather than lists of ints.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from m365audit.simulator import catalogue as cat

if TYPE_CHECKING:
    from m365audit.simulator.model import Profile, SimUser
    from m365audit.simulator.tenant import Tenant


@dataclass(frozen=True)
class AdminUnit:
    """An administrative unit: everyone in one organisation, or in one of its departments."""

    id: str
    display_name: str
    description: str
    organisation: str
    department: str | None = None
    member_groups: tuple[str, ...] = ()  # groups that are members too (AUs can hold groups)

    def includes(self, u: SimUser) -> bool:
        return u.organisation == self.organisation and (
            self.department is None or u.department == self.department)


# Departments of the tenant's own organisation that have an administrative unit.
UNIT_DEPARTMENTS = ("Finance", "Children's Services")


def admin_units(tenant: Tenant) -> list[AdminUnit]:
    """One unit per organisation, plus department units of the tenant's own organisation."""
    own, *others = tenant.organisations()
    units = [AdminUnit(tenant.unit_id(own.name), own.name, f"Everyone in {own.name}", own.name,
                       member_groups=(cat.GROUP_COPILOT,))]
    units += [AdminUnit(tenant.unit_id(o.name), o.name, f"Everyone in {o.name}", o.name) for o in others]
    units += [AdminUnit(tenant.unit_id(f"{own.name}/{d}"), f"{own.name} - {d}", f"{d} staff of {own.name}",
                        own.name, d) for d in UNIT_DEPARTMENTS]
    return units


@dataclass
class Aggregates:
    consumed: Counter[str] = field(default_factory=Counter)
    group_members: dict[str, array[int]] = field(default_factory=dict)
    unit_members: dict[str, array[int]] = field(default_factory=dict)
    licensed_users: int = 0
    licensed_by_department: Counter[str | None] = field(default_factory=Counter)


def _count_profile(result: Aggregates, i: int, p: Profile) -> tuple[str, str | None]:
    """``_count_user`` for a generated user, from its profile (the equivalence is tested)."""
    department = p.department.name if p.department else None
    if p.base is not None:  # base licences are always working group assignments
        result.consumed[p.base[0]] += 1
        result.group_members[p.base[1]].append(i)
    if p.copilot is not None:
        group, disabled, state, _ = p.copilot
        if group:
            result.group_members[group].append(i)
        if state == "Active":
            result.consumed[cat.COPILOT.sku_id] += 1
            if any(plan not in disabled for plan in cat.COPILOT_SEAT_PLANS):
                result.licensed_users += 1
                result.licensed_by_department[department] += 1
    if p.trained:
        result.group_members[cat.GROUP_TRAINED].append(i)
    return p.organisation.name, department


def _count_user(result: Aggregates, u: SimUser) -> tuple[str, str | None]:
    """Consumed SKUs, group memberships and the Copilot seat of one user, in one look at its assignments.

    Equivalent to ``active_skus()`` and ``holds_copilot_seat()``; a user is a
    direct member of every group that assigns them a licence (working or not)
    and of the training group when trained. consumedUnits counts a SKU once per
    user with a working assignment of it.
    """
    working: set[str] = set()
    groups: set[str] = {cat.GROUP_TRAINED} if u.trained else set()
    seat = False
    for a in u.assignments:
        if a.group:
            groups.add(a.group)
        if a.state in ("Active", "ActiveWithError"):
            working.add(a.sku_id)
            if not seat and cat.SKU_BY_ID[a.sku_id].is_copilot:
                seat = any(p not in a.disabled_plans for p in cat.COPILOT_SEAT_PLANS)
    for sku in working:
        result.consumed[sku] += 1
    for name in groups:
        result.group_members.setdefault(name, array("l")).append(u.index)
    if seat:
        result.licensed_users += 1
        result.licensed_by_department[u.department] += 1
    return u.organisation, u.department


def compute_aggregates(tenant: Tenant) -> Aggregates:
    """Every aggregate the endpoints and the expected summary need, in one pass."""
    result = Aggregates()
    result.group_members = {name: array("l") for name in tenant.group_names()}
    units = admin_units(tenant)
    result.unit_members = {unit.id: array("l") for unit in units}
    by_org: dict[str, list[AdminUnit]] = {}
    for unit in units:
        by_org.setdefault(unit.organisation, []).append(unit)
    for i in range(tenant.user_count):
        if tenant.generated(i):  # most users: read their profile, a fifth of the cost of the whole user
            organisation, department = _count_profile(result, i, tenant.profile(i))
        else:
            u = tenant.user(i)
            if u is None:
                continue
            organisation, department = _count_user(result, u)
        for unit in by_org.get(organisation, ()):
            if unit.department is None or unit.department == department:
                result.unit_members[unit.id].append(i)
    return result


def expected_licence_summary(tenant: Tenant, user_filter: Callable[[SimUser], bool] | None = None) -> dict[str, Any]:
    """What `licences --format json` must say after collecting ``tenant`` (see Tenant)."""
    consumed = tenant.consumed_units()
    skus = []
    for sku in cat.SKUS:
        purchased = tenant.purchased_units(sku)
        skus.append({
            "sku_id": sku.sku_id, "sku_part_number": sku.part_number,
            "purchased": purchased, "assigned": consumed[sku.sku_id],
            "available": purchased - consumed[sku.sku_id], "is_copilot": sku.is_copilot,
        })
    if user_filter is None:
        licensed, by_dept = tenant.aggregates().licensed_users, tenant.aggregates().licensed_by_department
    else:
        holders = [u for u in tenant.iter_users() if user_filter(u) and u.holds_copilot_seat()]
        licensed, by_dept = len(holders), Counter(u.department for u in holders)
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
