"""The user resource as Graph serialises it: property names, defaults and values."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from m365audit.simulator import catalogue as cat
from m365audit.simulator.tenant import SimUser, Tenant

USER_PROPERTIES = [
    "id", "userPrincipalName", "displayName", "givenName", "surname", "mail", "department",
    "companyName", "jobTitle", "officeLocation", "accountEnabled", "userType", "createdDateTime",
    "businessPhones", "mobilePhone", "preferredLanguage", "assignedLicenses", "assignedPlans",
    "licenseAssignmentStates", "usageLocation",
]
USER_KNOWN = {p.lower(): p for p in USER_PROPERTIES}
USER_DEFAULT = ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"]


def user_json(tenant: Tenant, u: SimUser, fields: list[str]) -> dict[str, Any]:
    """The user's selected properties; timestamps are aware datetimes: encode with ``GRAPH_DATES``."""
    return {f: _USER_VALUES[f](tenant, u) for f in fields}


def _assigned_plans(_t: Tenant, u: SimUser) -> list[dict[str, Any]]:
    plans = []
    for a in u.assignments:
        if a.state not in ("Active", "ActiveWithError"):
            continue
        at = a.assigned_at
        plans += [{"assignedDateTime": at, "capabilityStatus": status, "service": service, "servicePlanId": plan_id}
                  for plan_id, service, status in _plan_states(a.sku_id, a.disabled_plans)]
    return plans


@functools.lru_cache(maxsize=256)
def _plan_states(sku_id: str, disabled: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    """(plan id, service, capabilityStatus) of a SKU's plans with some disabled: a few combinations only."""
    return tuple((plan_id, service, "Deleted" if plan_id in disabled else "Enabled")
                 for plan_id, _, service in cat.SKU_BY_ID[sku_id].plans)


def _assigned_licenses(u: SimUser) -> list[dict[str, Any]]:
    """``active_skus()`` as Graph lists it; the common case (one source per SKU) without building sets."""
    working = [a for a in u.assignments if a.state in ("Active", "ActiveWithError")]
    if len({a.sku_id for a in working}) < len(working):  # several sources for one SKU: merge their plans
        return [{"disabledPlans": list(plans), "skuId": sku} for sku, plans in u.active_skus().items()]
    return [{"disabledPlans": sorted(a.disabled_plans), "skuId": a.sku_id} for a in working]


def _assignment_states(tenant: Tenant, u: SimUser) -> list[dict[str, Any]]:
    return [{
        "assignedByGroup": tenant.group_id(a.group) if a.group else None,
        "disabledPlans": list(a.disabled_plans),
        "error": a.error,
        "lastUpdatedDateTime": a.assigned_at,
        "skuId": a.sku_id,
        "state": a.state,
    } for a in u.assignments]


# One function per property: a dictionary lookup per field instead of a chain of ifs.
_USER_VALUES: dict[str, Callable[[Tenant, SimUser], Any]] = {
    "id": lambda _t, u: u.id,
    "userPrincipalName": lambda _t, u: u.user_principal_name,
    "displayName": lambda _t, u: u.display_name,
    "givenName": lambda _t, u: u.given_name,
    "surname": lambda _t, u: u.surname,
    "mail": lambda _t, u: u.mail,
    "department": lambda _t, u: u.department,
    "companyName": lambda _t, u: u.company_name or None,
    "jobTitle": lambda _t, u: u.job_title,
    "officeLocation": lambda _t, u: u.office_location,
    "accountEnabled": lambda _t, u: u.account_enabled,
    "userType": lambda _t, u: u.user_type,
    "createdDateTime": lambda _t, u: u.created_at,
    "businessPhones": lambda _t, u: [],
    "mobilePhone": lambda _t, u: None,
    "preferredLanguage": lambda _t, u: "en-GB",
    "usageLocation": lambda _t, u: "GB",
    "assignedLicenses": lambda _t, u: _assigned_licenses(u),
    "assignedPlans": _assigned_plans,
    "licenseAssignmentStates": _assignment_states,
}
