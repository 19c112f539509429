"""A tenant some nights later (``extra_days``): the shared days and the directory are exactly as before."""

from __future__ import annotations

from datetime import timedelta

import pytest

from m365audit.simulator import Tenant
from m365audit.simulator.activity_expected import flagged_records
from m365audit.simulator.planted import demo_tenant
from tests.conftest import ANCHOR

USERS, DAYS, SEED = 200, 10, 3
TYPES = ("CopilotInteraction", "AIAppInteraction")


def _tenants() -> tuple[Tenant, Tenant]:
    return demo_tenant(USERS, DAYS, SEED, ANCHOR), _later(1)


def _later(days: int) -> Tenant:
    return demo_tenant(USERS, DAYS, SEED, ANCHOR, extra_days=days)


def test_the_shared_days_hold_identical_records_and_the_new_day_is_new() -> None:
    before, after = _tenants()
    start, end = before.activity.window
    assert after.activity.window == (start, end + timedelta(days=1))
    shared = list(before.activity.records(start, end, TYPES))
    assert len(shared) > 1000
    assert list(after.activity.records(start, end, TYPES)) == shared
    new = list(after.activity.records(end, end + timedelta(days=1), TYPES))
    assert len(new) == after.activity.count(end, end + timedelta(days=1), TYPES) > 0
    assert before.activity.count(end, end + timedelta(days=1), TYPES) == 0
    assert not {r["Id"] for r in new} & {r["Id"] for r in shared}
    assert {r["CreationTime"][:10] for r in new} == {end.date().isoformat()}


def test_the_directory_and_the_planted_events_do_not_move() -> None:
    before, after = _tenants()
    assert list(before.iter_users()) == list(after.iter_users())
    start, end = before.activity.window
    assert flagged_records(after.activity, start, end) == flagged_records(before.activity, start, end)


def test_extra_days_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="extra_days"):
        _later(-1)
