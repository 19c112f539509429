"""The demo tenant's planted policy violations: a realistic, fully enumerated set.

`m365audit demo` builds its tenant with ``demo_tenant``: the generated
population is made clean of licence-side violations (``DEMO_RATES``: no guest
or disabled seat holders, no direct or failed assignments, everyone with a
seat trained) but for idle seats (one holder in five never uses Copilot:
``idle_seat_holders`` lists them), and then the users in ``PLANTS`` are overridden, each telling
one story. Some plants break a clause; others are near misses that a correct
check must leave alone (a leaver whose licence was removed, a new starter who
has not used the seat yet). ``planted_findings`` says exactly which
(check_id, subject) pairs `m365audit check --policy examples/policies/<any>.toml`
must report.

Activity is planted the same way (``Plant.activity``): the demo's generated
activity is clean by construction (``DEMO_ACTIVITY``: no random jailbreak,
injection, Safeguarding, Highly Confidential or third-party AI records; only
staff in the training group use Copilot Chat without a seat; every seat holder
who uses Copilot at all does so at least once in four weeks, so within the
shortest idle limit (30 days) of a check on the anchor day; nine in ten files Copilot reads
are labelled, inside every example policy's limit), and the plants' users then
each carry one event on one day, in their first Copilot record of that day
(``behaviour.ActivityPlant``). ``planted_findings(..., activity_collected=True)``
adds the findings activity plants and idle seats cause.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from m365audit.policy import Policy
from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator import catalogue as cat
from m365audit.simulator.activity_records import planted_url
from m365audit.simulator.behaviour import CLEAN_ACTIVITY, ActivityPlant
from m365audit.simulator.history import FormerSeat, seat_rollout
from m365audit.simulator.tenant import Rates, SimAssignment, SimUser, Tenant, TenantConfig

# The generated population: realistic mess that breaks no clause but one (guests and plans switched off
# exist, but no guest or direct seats, no failed assignments, every seat holder trained), and, as in a real
# organisation, about one seat holder in five never uses Copilot: idle seats the idle-seat check reports
# (``idle_seat_holders``), so utilisation is not near 100%.
DEMO_RATES = Rates(guest=0.015, disabled_account=0.0, guest_copilot=0.0, copilot_direct=0.0,
                   copilot_teams_disabled=0.05, copilot_all_disabled=0.01, assignment_error=0.0,
                   never_used=0.2, trained=1.0, staff_trained=0.4)
# Its activity: none of what the checks look for, except the plants.
DEMO_ACTIVITY = replace(CLEAN_ACTIVITY, labelled=0.9, chat_needs_training=True, use_every_weeks=4)


@dataclass(frozen=True)
class Plant:
    index: int  # the user this plant overrides
    story: str
    checks: tuple[str, ...]  # checks that must report the user (none for a near miss)
    activity_checks: tuple[str, ...]  # further checks that report the user once activity is collected
    fields: Callable[[SimUser, TenantConfig], dict[str, Any]]
    activity: tuple[str, ...] = ()  # planted activity (behaviour.PLANT_KINDS), on the day days_ago
    days_ago: int = 3
    app: str = ""  # the third-party AI app of an "ai_app" plant (AppHost)
    # (days before the anchor it began, days before it ended): a Copilot seat the user held only in the
    # past, which `demo`'s monthly history shows (history.SeatHistory); 0 = removed on the anchor day,
    # after the last monthly snapshot, so `demo --out`'s check of that snapshot reports it and today's
    # check lists it as fixed.
    former_seat: tuple[int, int] | None = None

    @property
    def near_miss(self) -> bool:
        return not (self.checks or self.activity_checks or _OTHER_SUBJECTS.intersection(self.activity))

    def activity_plants(self) -> tuple[ActivityPlant, ...]:
        return tuple(ActivityPlant(self.index, kind, self.days_ago, self.app) for kind in self.activity)


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
JAILBREAK = "usage_no_jailbreak_attempts"
INJECTION = "usage_no_prompt_injection"
PROHIBITED = "usage_copilot_not_on_prohibited_sites"
RESTRICTED = "labels_copilot_no_restricted_content"
APPS = "usage_ai_apps_approved"
AGENTS = "agents_approved"
AGENT_RESTRICTED = "agents_no_restricted_content"
AGENT_PROHIBITED = "agents_not_on_prohibited_sites"
# Plants whose finding names the resource, app or agent rather than the user.
_OTHER_SUBJECTS = {"xpia", "ai_app", "agent_unapproved", "agent_restricted", "agent_prohibited_site"}

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
    Plant(7, "near miss: a guest without licences (the Copilot seat the guest was given two months ago was "
          "removed today, after the last monthly check reported it: fixed)", (), (),
          lambda u, c: _guest(u, c, trained=False, activity=0.0), former_seat=(60, 0)),
    Plant(8, "near miss: a new starter whose seat is three days old and not used yet", (), (),
          lambda u, c: _member(u, c, _seat(c, 3), activity=0.0)),
    Plant(9, "near miss: a Finance pilot seat (nested group) with Copilot in Teams switched off", (), (),
          lambda u, c: _member(u, c, _seat(c, 150, cat.GROUP_COPILOT_PILOT, disabled_plans=(cat.COPILOT_TEAMS,)))),
    # Activity plants: seat holders (or Copilot Chat users) otherwise in good standing.
    Plant(10, "a prompt flagged as a jailbreak attempt", (), (JAILBREAK,),
          lambda u, c: _member(u, c, _seat(c, 240)), activity=("jailbreak",), days_ago=4),
    Plant(11, "a supplier letter on the Finance site hiding a prompt injection, read by Copilot", (), (),
          lambda u, c: _member(u, c, _seat(c, 180)), activity=("xpia",), days_ago=6),
    Plant(12, "Copilot asked to summarise child protection notes on the Safeguarding site", (), (PROHIBITED,),
          lambda u, c: _member(u, c, _seat(c, 210), department="Children's Services"),
          activity=("prohibited_site",), days_ago=9),
    Plant(13, "Copilot read a Highly Confidential restructure paper", (), (RESTRICTED,),
          lambda u, c: _member(u, c, _seat(c, 160), department="Human Resources"),
          activity=("restricted_label",), days_ago=2),
    Plant(14, "a Copilot user who also pastes work into DeepSeek, an unapproved AI app", (), (),
          lambda u, c: _member(u, c, _seat(c, 130)), activity=("ai_app",), days_ago=5, app="DeepSeek"),
    Plant(15, "a member of staff without a seat using Copilot Chat before doing the AI training", (), (TRAINED,),
          lambda u, c: _member(u, c, trained=False), activity=("chat",), days_ago=7),
    Plant(16, "near miss: Copilot read slides on SafeguardingTraining, a site that only starts like the "
          "prohibited one", (), (),
          lambda u, c: _member(u, c, _seat(c, 220)), activity=("lookalike_site",), days_ago=3),
    Plant(17, "near miss: a seat last used 26 days ago, just inside the shortest idle limit (30 days)", (), (),
          lambda u, c: _member(u, c, _seat(c, 300)), activity=("stops",), days_ago=26),
    Plant(18, "near miss: a trained member of staff without a seat using Copilot Chat", (), (),
          lambda u, c: _member(u, c), activity=("chat",), days_ago=8),
    # Agents (ac.PLANTED_AGENTS). Every example policy approves the agents the generated activity uses.
    Plant(19, "a housing officer trying out a declarative agent a colleague built, which nobody approved", (), (),
          lambda u, c: _member(u, c, _seat(c, 140), department="Housing"), activity=("agent_unapproved",),
          days_ago=4),
    Plant(20, "the approved HR Policy Helper agent answering from a Highly Confidential restructure paper", (),
          (RESTRICTED,), lambda u, c: _member(u, c, _seat(c, 170), department="Human Resources"),
          activity=("agent_restricted",), days_ago=3),
    Plant(21, "the approved Family Support Assistant agent reading child protection notes on the Safeguarding "
          "site", (), (PROHIBITED,), lambda u, c: _member(u, c, _seat(c, 190), department="Children's Services"),
          activity=("agent_prohibited_site",), days_ago=5),
)

def demo_tenant(users: int, days: int, seed: int, anchor: datetime | None = None, extra_days: int = 0) -> Tenant:
    """The tenant `m365audit demo` collects: generated population plus the plants.

    ``extra_days``: the same tenant that many nights later (TenantConfig.extra_days). Today's seat
    holders got their seats over the rollout of history.seat_rollout (a pilot after Microsoft made
    Copilot available, then a wider rollout), which `demo` collects month by month.
    """
    plants = tuple(a for p in PLANTS for a in p.activity_plants())
    config = TenantConfig(users=users, days=days, seed=seed, rates=DEMO_RATES, activity=DEMO_ACTIVITY,
                          activity_plants=plants, extra_days=extra_days)
    config = replace(config, anchor=anchor) if anchor else config
    tenant = Tenant(replace(config, seat_rollout=seat_rollout(config.anchor)))
    plant(tenant)
    return tenant


def former_seats(tenant: Tenant) -> list[FormerSeat]:
    """The plants' past Copilot seats (Plant.former_seat), for history.SeatHistory."""
    anchor = tenant.config.anchor
    return [FormerSeat(p.index, anchor - timedelta(days=p.former_seat[0]), anchor - timedelta(days=p.former_seat[1]))
            for p in PLANTS if p.former_seat]


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
    for p in PLANTS if activity_collected else ():
        expected.update(_other_findings(tenant, p, policy))
    if activity_collected:
        expected.update((USED, upn) for upn in idle_seat_holders(tenant, policy, check_date))
    consumed = tenant.consumed_units()
    for sku in cat.SKUS:
        if sku.is_copilot and tenant.purchased_units(sku) - consumed[sku.sku_id] > policy.unassigned_seat_tolerance:
            expected.add((UNASSIGNED, sku.part_number))  # the organisation bought ~10% spare seats, plus 5
    if policy.reviewed_on and _add_months(policy.reviewed_on, policy.review_every_months) < check_date:
        expected.add((REVIEWED, policy.name))
    return expected


def idle_seat_holders(tenant: Tenant, policy: Policy, check_date: date) -> list[str]:
    """Generated seat holders who never use Copilot (DEMO_RATES.never_used), with a seat older than the
    policy's idle limit on ``check_date`` (a newer seat is not judged yet): the idle-seat check's subjects."""
    limit = check_date - timedelta(days=policy.inactive_after_days)
    out = []
    for u in tenant.iter_users():
        since = u.copilot_assigned_at()
        if (tenant.generated(u.index) and u.activity == 0 and u.holds_copilot_seat()
                and (since is None or since.date() < limit)):
            out.append(u.user_principal_name)
    return out


def _other_findings(tenant: Tenant, p: Plant, policy: Policy) -> set[tuple[str, str]]:
    """Findings of an activity plant whose subject is a resource or an app (as the checks name them)."""
    found: set[tuple[str, str]] = set()
    if "xpia" in p.activity:
        site, name, _ = ac.PLANTED_DOCUMENTS["xpia"]
        found.add((INJECTION, planted_url(tenant.config.site_url(site), name)))
    if "ai_app" in p.activity:
        host, identity = next(app for app in ac.THIRD_PARTY_APPS if app[0] == p.app)
        if not {host.lower(), identity.lower()} & {a.lower() for a in policy.approved_ai_apps}:
            found.add((APPS, identity))
    approved = {a.casefold() for a in policy.approved_agents}
    for kind in p.activity:
        if kind in ac.PLANTED_AGENTS:
            agent_id, name, _ = ac.PLANTED_AGENTS[kind]
            if not {agent_id.casefold(), name.casefold()} & approved:
                found.add((AGENTS, name))
    if "agent_restricted" in p.activity:
        found.add((AGENT_RESTRICTED, ac.PLANTED_AGENTS["agent_restricted"][1]))
    if "agent_prohibited_site" in p.activity:
        found.add((AGENT_PROHIBITED, ac.PLANTED_AGENTS["agent_prohibited_site"][1]))
    return found


def _add_months(day: date, months: int) -> date:
    """Calendar months later, clamped to the month's end (as SQL date + INTERVAL n MONTH)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
