"""The compliant baseline every golden check test starts from, and how a case changes it.

Licence data goes through the real collector (msgraph-sdk over a socket)
against a clean simulated tenant; Copilot activity is inserted into the fact
tables (tests/checks/activity.py). A case changes one thing (the tenant, the
activity or the policy) and names the exact subjects each check must report;
every other check must pass.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import duckdb

from m365audit.checks.catalogue import check_ids
from m365audit.checks.model import CheckRun
from m365audit.checks.runner import run_checks
from m365audit.policy import Policy, parse_policy
from m365audit.simulator import CLEAN, SimulatorServer, Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from m365audit.simulator.tenant import SimAssignment
from m365audit.store.db import open_db
from tests.checks.activity import Interaction, Resource, add_interaction, add_label_catalogue, add_usage_row
from tests.conftest import ANCHOR, collect_from

CHECK_DATE = ANCHOR.date()
SEAT_HOLDERS = (0, 1, 2, 3)  # seats through "Copilot Licensed Staff"
PILOT = 4  # seat through the nested "Copilot Pilot - Finance" group
USERS = 20
SITE = TenantConfig().site_url  # https://example.sharepoint.com/sites/<name>
APPROVED_APP = "ChatGPT Enterprise"
APPROVED_AGENT = "HR Policy Helper"
APPROVED_AGENT_ID = "CopilotStudio.Declarative.T_4f1d0c6a"


def e3() -> SimAssignment:
    return SimAssignment(cat.E3.sku_id, cat.GROUP_ALL_STAFF, assigned_at=ANCHOR - timedelta(days=700))


def seat(group: str | None = cat.GROUP_COPILOT, days_ago: int = 100, **kw: object) -> SimAssignment:
    return SimAssignment(cat.COPILOT.sku_id, group, assigned_at=ANCHOR - timedelta(days=days_ago), **kw)  # type: ignore[arg-type]


def baseline_tenant() -> Tenant:
    """20 staff with E3; users 0-4 hold Copilot seats through the licensing groups and are trained."""
    tenant = Tenant(TenantConfig(users=USERS, seed=11, anchor=ANCHOR, rates=CLEAN))
    for i in range(USERS):
        tenant.override_user(i, assignments=(e3(),), trained=False, activity=0.0)
    for i in SEAT_HOLDERS:
        tenant.override_user(i, assignments=(e3(), seat()), trained=True, activity=0.5)
    tenant.override_user(PILOT, assignments=(e3(), seat(cat.GROUP_COPILOT_PILOT)), trained=True, activity=0.5)
    return tenant


def upn(tenant: Tenant, index: int) -> str:
    user = tenant.user(index)
    assert user is not None
    return user.user_principal_name


def spare_seats(tenant: Tenant) -> int:
    return tenant.purchased_units(cat.COPILOT) - tenant.consumed_units()[cat.COPILOT.sku_id]


def baseline_policy(tenant: Tenant) -> Policy:
    return parse_policy({
        "policy": {"name": "Golden Borough Council AI Policy", "reviewed_on": CHECK_DATE - timedelta(days=200),
                   "review_every_months": 12},
        "licences": {"copilot_groups": [cat.GROUP_COPILOT, cat.GROUP_COPILOT_PILOT], "inactive_after_days": 30,
                     "unassigned_seat_tolerance": spare_seats(tenant)},
        "usage": {"training_group": cat.GROUP_TRAINED, "approved_ai_apps": [APPROVED_APP],
                  "prohibited_sites": [SITE("Safeguarding")]},
        "labels": {"restricted": ["Highly Confidential"], "max_unlabelled_share": 0.5},
        "agents": {"approved": [APPROVED_AGENT], "allow_copilot_studio": False, "allow_third_party": False},
    }, check_ids(), source="golden")


def collect_tenant(tenant: Tenant, db: Path, **options: object) -> None:
    options.setdefault("member_groups", [cat.GROUP_TRAINED])
    with SimulatorServer(tenant) as server:
        collect_from(server, db, now=ANCHOR - timedelta(hours=6), **options)


def add_baseline_activity(con: duckdb.DuckDBPyConnection, tenant: Tenant) -> None:
    """Every seat holder used Copilot in Word two days ago on a labelled Finance file; user 0 also used
    the approved third-party app and a web search (no label, not counted)."""
    two_days_ago = ANCHOR - timedelta(days=2)
    for user in tenant.iter_users():
        if not user.holds_copilot_seat():
            continue
        i = user.index
        doc = f"{SITE('Finance')}/Shared Documents/budget-{i}.docx"
        resources = [Resource(f"budget-{i}.docx", doc, label="General")]
        if i == 0:
            resources.append(Resource("council tax bands", "https://www.gov.uk/council-tax-bands",
                                      resource_type="WebSearch"))
        add_interaction(con, Interaction(f"base-{i}", user.user_principal_name, two_days_ago,
                                         resources=tuple(resources), contexts=(doc,)))
        add_usage_row(con, user.user_principal_name, two_days_ago.date(), refreshed=CHECK_DATE)
    add_interaction(con, Interaction("base-app", upn(tenant, 0), two_days_ago, record_type="AIAppInteraction",
                                     app_host="ChatGPT", app_identity=APPROVED_APP))
    add_interaction(con, Interaction("base-agent", upn(tenant, 1), two_days_ago, app_host="BizChat",
                                     app_identity="Copilot.MicrosoftCopilot.BizChat", agent_id=APPROVED_AGENT_ID,
                                     agent_name=APPROVED_AGENT))
    add_label_catalogue(con)


@dataclass(frozen=True)
class Case:
    """One change to the compliant baseline and the exact subjects it must produce."""

    check_id: str
    name: str
    expected: Callable[[Tenant], set[str]]  # subjects check_id must report; every other check passes
    tenant: Callable[[Tenant], None] | None = None
    activity: Callable[[duckdb.DuckDBPyConnection, Tenant], None] | None = None
    policy: Callable[[Policy, Tenant], Policy] | None = None
    # other checks the same change must make fail, with their exact subjects (an agent reading a
    # restricted file is also Copilot reading it)
    also: Callable[[Tenant], dict[str, set[str]]] | None = None

    @property
    def id(self) -> str:
        return f"{self.check_id}--{self.name}"


def build_case(case: Case, template: Path, db: Path) -> tuple[Tenant, Policy]:
    tenant = baseline_tenant()
    if case.tenant:
        case.tenant(tenant)
        collect_tenant(tenant, db)
        with open_db(db) as con:
            add_baseline_activity(con, tenant)
    else:
        shutil.copy(template, db)
    if case.activity:
        with open_db(db) as con:
            case.activity(con, tenant)
    policy = baseline_policy(baseline_tenant())
    return tenant, case.policy(policy, tenant) if case.policy else policy


def run_all(db: Path, policy: Policy) -> CheckRun:
    with open_db(db, read_only=True) as con:
        return run_checks(con, policy, ANCHOR)


def outcome(run: CheckRun) -> dict[str, tuple[str, set[str]]]:
    return {r.check.id: (r.status, {f.subject or "" for f in r.findings}) for r in run.results}


def with_policy(**changes: object) -> Callable[[Policy, Tenant], Policy]:
    return lambda policy, tenant: replace(policy, **changes)  # type: ignore[arg-type]
