"""The demo tenant's planted policy violations: a realistic, fully enumerated set.

`m365audit demo` builds its tenant with ``demo_tenant``: the generated
population is made clean of licence-side violations (``DEMO_RATES``: no guest
or disabled seat holders, no direct or failed assignments, everyone with a
seat trained), and then the users in ``PLANTS`` are overridden, each telling
one story. Some plants break a clause; others are near misses that a correct
check must leave alone (a leaver whose licence was removed, a new starter who
has not used the seat yet). ``planted_findings`` says exactly which
(check_id, subject) pairs `m365audit check --policy examples/policies/<any>.toml`
must report.

Activity-side plants (jailbreaks, prompt injection, prohibited sites,
restricted labels, unapproved AI apps) belong with the audit simulation:
when it lands, add them to ``ACTIVITY_PLANTS`` and generate the matching
records; ``planted_findings(..., activity_collected=True)`` then expects them,
and the idle seats below. For the demo to stay fully enumerated, the
generated activity must otherwise break no clause of the example policies:
every seat holder with ``activity > 0`` active within 30 days (audit or usage
report), Copilot Chat users without a seat in the training group, no random
jailbreak or injection flags, no reads on the Safeguarding site or of Highly
Confidential content, no third-party AI apps, and at most a fifth of the
items Copilot reads unlabelled (the NHS example's limit).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from m365audit.policy import Policy
from m365audit.simulator import catalogue as cat
from m365audit.simulator.tenant import Rates, SimAssignment, SimUser, Tenant, TenantConfig

# The generated population: realistic mess that breaks no clause (guests and plans switched off exist,
# but no guest or direct seats, no failed assignments, every seat holder trained and using Copilot).
DEMO_RATES = Rates(guest=0.015, disabled_account=0.0, guest_copilot=0.0, copilot_direct=0.0,
                   copilot_teams_disabled=0.05, copilot_all_disabled=0.01, assignment_error=0.0,
                   never_used=0.0, trained=1.0)


@dataclass(frozen=True)
class Plant:
    index: int  # the user this plant overrides
    story: str
    checks: tuple[str, ...]  # checks that must report the user (none for a near miss)
    activity_checks: tuple[str, ...]  # further checks that report the user once activity is collected
    fields: Callable[[SimUser, TenantConfig], dict[str, Any]]


def _seat(config: TenantConfig, days_ago: int, group: str | None = cat.GROUP_COPILOT, **kw: Any) -> SimAssignment:
    return SimAssignment(cat.COPILOT.sku_id, group, assigned_at=config.anchor - timedelta(days=days_ago), **kw)


def _member(user: SimUser, config: TenantConfig, *seats: SimAssignment, **fields: Any) -> dict[str, Any]:
    """A member of staff of long standing with an E3 licence (a plant may be a generated guest: undo that)."""
    local = f"{user.given_name}.{user.surname}".lower().replace("'", "")
    created = min(user.created_at, config.anchor - timedelta(days=400))
    e3 = SimAssignment(cat.E3.sku_id, cat.GROUP_ALL_STAFF, assigned_at=created + timedelta(days=1))
    upn = f"{local}{user.index}@{config.domain}"
    return {"user_type": "Member", "account_enabled": True, "user_principal_name": upn, "mail": upn,
            "department": user.department or "Customer Services", "company_name": config.org_name,
            "job_title": user.job_title or "Officer", "office_location": user.office_location or "Town Hall",
            "created_at": created, "trained": True, "activity": 0.6, "assignments": (e3, *seats), **fields}


def _guest(user: SimUser, config: TenantConfig, *seats: SimAssignment, **fields: Any) -> dict[str, Any]:
    local = f"{user.given_name}.{user.surname}".lower().replace("'", "")
    return {"user_type": "Guest", "account_enabled": True, "department": None, "company_name": "",
            "job_title": None, "office_location": None, "mail": f"{local}@partner-nhs.net",
            "user_principal_name": f"{local}{user.index}_partner-nhs_net#EXT#@{config.domain}",
            "trained": True, "activity": 0.5, "assignments": tuple(seats), **fields}


ACTIVE = "licence_copilot_only_active_accounts"
MEMBERS = "licence_copilot_only_members"
BY_GROUP = "licence_copilot_assigned_by_group"
ERRORS = "licence_assignment_no_errors"
TRAINED = "usage_copilot_users_trained"
USED = "licence_copilot_seats_used"
UNASSIGNED = "licence_copilot_no_unassigned_seats"
REVIEWED = "policy_reviewed_within_cycle"

PLANTS: tuple[Plant, ...] = (
    Plant(0, "a leaver: account blocked, Copilot seat never reclaimed, not used since", (ACTIVE,), (USED,),
          lambda u, c: _member(u, c, _seat(c, 300), account_enabled=False, activity=0.0)),
    Plant(1, "a partner's guest account added to the Copilot licensing group", (MEMBERS,), (),
          lambda u, c: _guest(u, c, _seat(c, 60))),
    Plant(2, "a seat assigned directly by an administrator, outside the licensing groups", (BY_GROUP,), (),
          lambda u, c: _member(u, c, _seat(c, 120, None))),
    Plant(3, "a group assignment that failed: the tenant ran out of seats (CountViolation)", (ERRORS,), (),
          lambda u, c: _member(u, c, _seat(c, 20, state="Error", error="CountViolation"), activity=0.0)),
    Plant(4, "a seat holder who skipped the AI training", (TRAINED,), (),
          lambda u, c: _member(u, c, _seat(c, 90), trained=False, activity=0.7)),
    Plant(5, "a seat held for months and never used", (), (USED,),
          lambda u, c: _member(u, c, _seat(c, 200), activity=0.0)),
    Plant(6, "near miss: a leaver whose licences were removed", (), (),
          lambda u, c: _member(u, c, account_enabled=False, trained=False, activity=0.0)),
    Plant(7, "near miss: a guest without licences", (), (),
          lambda u, c: _guest(u, c, trained=False, activity=0.0)),
    Plant(8, "near miss: a new starter whose seat is three days old and not used yet", (), (),
          lambda u, c: _member(u, c, _seat(c, 3), activity=0.0)),
    Plant(9, "near miss: a Finance pilot seat (nested group) with Copilot in Teams switched off", (), (),
          lambda u, c: _member(u, c, _seat(c, 150, cat.GROUP_COPILOT_PILOT, disabled_plans=(cat.COPILOT_TEAMS,)))),
)

# Findings planted in the demo's Copilot activity, once the audit simulation generates it:
# (check_id, user index) for checks whose subject is a user, (check_id, "text") for an app name
# (usage_ai_apps_approved), a resource (usage_no_prompt_injection) or "tenant"
# (labels_copilot_resources_labelled). Users 10 and up are free for activity plants.
ACTIVITY_PLANTS: tuple[tuple[str, int | str], ...] = ()


def demo_tenant(users: int, days: int, seed: int, anchor: datetime | None = None) -> Tenant:
    """The tenant `m365audit demo` collects: generated population plus the plants."""
    config = TenantConfig(users=users, days=days, seed=seed, rates=DEMO_RATES)
    tenant = Tenant(replace(config, anchor=anchor) if anchor else config)
    plant(tenant)
    return tenant


def plant(tenant: Tenant) -> None:
    if tenant.config.users <= max(p.index for p in PLANTS):
        raise ValueError(f"the demo tenant needs more than {max(p.index for p in PLANTS)} users")
    for p in PLANTS:
        user = tenant.user(p.index)
        assert user is not None
        tenant.override_user(p.index, **p.fields(user, tenant.config))


def planted_findings(tenant: Tenant, policy: Policy, check_date: date, *,
                     activity_collected: bool = False) -> set[tuple[str, str]]:
    """The (check_id, subject) pairs the checks must report on the demo tenant under ``policy``.

    Assumes the policy names the demo's groups (both Copilot licensing groups
    and the training group), as every file in examples/policies does.
    """
    expected: set[tuple[str, str]] = set()
    for p in PLANTS:
        user = tenant.user(p.index)
        assert user is not None
        for check_id in p.checks + (p.activity_checks if activity_collected else ()):
            expected.add((check_id, user.user_principal_name))
    for check_id, subject in ACTIVITY_PLANTS if activity_collected else ():
        expected.add((check_id, _subject(tenant, subject)))
    consumed = tenant.consumed_units()
    for sku in cat.SKUS:
        if sku.is_copilot and tenant.purchased_units(sku) - consumed[sku.sku_id] > policy.unassigned_seat_tolerance:
            expected.add((UNASSIGNED, sku.part_number))  # the organisation bought ~10% spare seats, plus 5
    if policy.reviewed_on and _add_months(policy.reviewed_on, policy.review_every_months) < check_date:
        expected.add((REVIEWED, policy.name))
    return expected


def _subject(tenant: Tenant, subject: int | str) -> str:
    if isinstance(subject, str):
        return subject
    user = tenant.user(subject)
    assert user is not None
    # Activity checks report the sign-in name as the audit log records it: lower case.
    return user.user_principal_name.lower()


def _add_months(day: date, months: int) -> date:
    """Calendar months later, clamped to the month's end (as SQL date + INTERVAL n MONTH)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
