"""Golden cases for the licence checks: one change to the compliant baseline per way to fail."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from m365audit.simulator import Tenant
from m365audit.simulator import catalogue as cat
from m365audit.simulator.tenant import SimAssignment
from tests.checks.golden import ANCHOR, PILOT, Case, e3, seat, spare_seats, upn, with_policy


def _set_last_activity(days_ago: int | None, *, audit: bool = True, usage: bool = True, index: int = 3):
    """Move user ``index``'s last Copilot activity (None: remove it) in the audit records and/or usage report."""
    def change(con: duckdb.DuckDBPyConnection, tenant: Tenant) -> None:
        who = upn(tenant, index).lower()
        when = None if days_ago is None else ANCHOR - timedelta(days=days_ago)
        if audit and when is None:
            con.execute("DELETE FROM copilot_interaction_facts WHERE user_principal_name = ?", [who])
        elif audit:
            con.execute("UPDATE copilot_interaction_facts SET created_at = ? WHERE user_principal_name = ?",
                        [when, who])
        if usage:
            con.execute("UPDATE usage_report_rows SET last_activity_date = ? WHERE lower(user_principal_name) = ?",
                        [when.date() if when else None, who])
    return change


def _new_seat_unused(tenant: Tenant) -> None:
    tenant.override_user(12, assignments=(e3(), seat(days_ago=5)), trained=True)


def _remove_activity_of_12(con: duckdb.DuckDBPyConnection, tenant: Tenant) -> None:
    _set_last_activity(None, index=12)(con, tenant)


LICENCE_CASES = (
    Case("licence_copilot_only_active_accounts", "seat_holder_disabled",
         lambda t: {upn(t, 1)},
         tenant=lambda t: (t.override_user(1, account_enabled=False),
                           t.override_user(10, account_enabled=False))),  # 10 holds no seat: not reported
    Case("licence_copilot_only_members", "guest_holds_seat",
         lambda t: {upn(t, 2)},
         tenant=lambda t: t.override_user(2, user_type="Guest")),
    Case("licence_copilot_seats_used", "idle_31_days",
         lambda t: {upn(t, 3)}, activity=_set_last_activity(31)),
    Case("licence_copilot_seats_used", "never_used",
         lambda t: {upn(t, 3)}, activity=_set_last_activity(None)),
    Case("licence_copilot_seats_used", "near_miss_idle_exactly_30_days",
         lambda t: set(), activity=_set_last_activity(30)),
    Case("licence_copilot_seats_used", "near_miss_audit_old_but_usage_report_recent",
         lambda t: set(), activity=_set_last_activity(60, usage=False)),
    Case("licence_copilot_seats_used", "near_miss_usage_report_old_but_audit_recent",
         lambda t: set(), activity=_set_last_activity(60, audit=False)),
    Case("licence_copilot_seats_used", "near_miss_new_seat_not_used_yet",
         lambda t: set(), tenant=_new_seat_unused, activity=_remove_activity_of_12),
    Case("licence_copilot_assigned_by_group", "assigned_directly",
         lambda t: {upn(t, 1)},
         tenant=lambda t: t.override_user(1, assignments=(e3(), seat(None)))),
    Case("licence_copilot_assigned_by_group", "group_not_named_in_policy",
         lambda t: {upn(t, PILOT)},
         policy=with_policy(copilot_groups=(cat.GROUP_COPILOT,))),
    Case("licence_copilot_assigned_by_group", "near_miss_group_named_by_id_and_in_other_case",
         lambda t: set(),
         policy=lambda p, t: with_policy(copilot_groups=(t.group_id(cat.GROUP_COPILOT).upper(),
                                                         "copilot pilot - FINANCE"))(p, t)),
    Case("licence_assignment_no_errors", "copilot_group_assignment_failed",
         lambda t: {upn(t, 13)},
         tenant=lambda t: t.override_user(13, assignments=(e3(), seat(state="Error", error="CountViolation")))),
    Case("licence_assignment_no_errors", "e3_active_with_error",
         lambda t: {upn(t, 0)},
         tenant=lambda t: t.override_user(0, assignments=(
             SimAssignment(cat.E3.sku_id, cat.GROUP_ALL_STAFF, state="ActiveWithError",
                           error="DependencyViolation", assigned_at=ANCHOR - timedelta(days=700)), seat()))),
    Case("licence_copilot_no_unassigned_seats", "more_spare_seats_than_tolerated",
         lambda t: {"Microsoft_365_Copilot"},
         policy=lambda p, t: with_policy(unassigned_seat_tolerance=spare_seats(t) - 1)(p, t)),
)
