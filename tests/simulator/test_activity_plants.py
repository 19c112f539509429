"""The demo's activity is clean by construction, and each activity plant appears exactly where planted."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator.activity_expected import flagged_records
from m365audit.simulator.behaviour import ActivityPlant
from m365audit.simulator.planted import PLANTS, demo_tenant
from m365audit.simulator.tenant import Tenant, TenantConfig

USERS, DAYS, SEED = 150, 30, 1


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    return demo_tenant(USERS, DAYS, SEED)


def _users_of(tenant: Tenant, record_ids: list[str]) -> Counter[str]:
    ids = set(record_ids)
    return Counter(r["UserId"] for r in tenant.activity.records(*tenant.activity.window) if r["Id"] in ids)


def _upn(tenant: Tenant, index: int) -> str:
    user = tenant.user(index)
    assert user is not None
    return user.user_principal_name


def test_only_the_planted_users_carry_flags(tenant: Tenant) -> None:
    flags = flagged_records(tenant.activity, *tenant.activity.window)
    assert _users_of(tenant, flags["jailbreak"]) == {_upn(tenant, 10): 1}
    assert _users_of(tenant, flags["xpia"]) == {_upn(tenant, 11): 1}
    # Copilot (plant 12), and the Family Support Assistant agent (plant 21), on the Safeguarding site;
    # Copilot (plant 13), and the HR Policy Helper agent (plant 20), reading a Highly Confidential paper
    assert _users_of(tenant, flags["safeguarding_site"]) == {_upn(tenant, 12): 1, _upn(tenant, 21): 1}
    assert _users_of(tenant, flags["highly_confidential"]) == {_upn(tenant, 13): 1, _upn(tenant, 20): 1}
    assert set(_users_of(tenant, flags["third_party"])) == {_upn(tenant, 14)}
    assert flags["restricted_document"] == []


def test_the_planted_app_is_the_only_third_party_app(tenant: Tenant) -> None:
    apps = {r["AppIdentity"] for r in tenant.activity.records(*tenant.activity.window, record_types=[ac.THIRD_PARTY])}
    assert apps == {"DeepSeek.Chat.Web"}


def test_the_lookalike_site_is_read_but_is_not_the_prohibited_site(tenant: Tenant) -> None:
    site = tenant.config.site_url(ac.LOOKALIKE_SITE) + "/"
    readers = {r["UserId"] for r in tenant.activity.records(*tenant.activity.window)
               for res in r["CopilotEventData"]["AccessedResources"] if res["SiteUrl"].startswith(site)}
    assert readers == {_upn(tenant, 16)}


def test_the_near_miss_seat_stops_on_its_day(tenant: Tenant) -> None:
    days = {r["CreationTime"][:10] for r in tenant.activity.records(*tenant.activity.window)
            if r["UserId"] == _upn(tenant, 17)}
    last = (tenant.config.anchor.date().toordinal() - 26)
    assert max(days) == tenant.config.anchor.date().fromordinal(last).isoformat()


def test_copilot_chat_users_without_a_seat_are_trained_unless_planted(tenant: Tenant) -> None:
    users = {u.user_principal_name.lower(): u for u in tenant.iter_users()}
    chat_only = {r["UserId"].lower() for r in tenant.activity.records(*tenant.activity.window)
                 if ac.program_of(r) is None and not users[r["UserId"].lower()].holds_copilot_seat()}
    assert len(chat_only) > 5
    assert {upn for upn in chat_only if not users[upn].trained} == {_upn(tenant, 15)}


def test_plants_need_a_known_kind() -> None:
    with pytest.raises(ValueError, match="unknown activity plant kind"):
        ActivityPlant(3, "jailbreaks")


def test_a_plant_changes_only_its_own_users_records() -> None:
    cfg = TenantConfig(users=80, seed=5, days=10)
    plain = Tenant(cfg)
    index = next(u.index for u in plain.iter_users() if u.holds_copilot_seat() and u.activity > 0.3)
    planted = Tenant(replace(cfg, activity_plants=(ActivityPlant(index, "jailbreak", days_ago=2),)))
    upn = _upn(plain, index)
    window = plain.activity.window

    def others(t: Tenant) -> list[dict[str, object]]:
        return [r for r in t.activity.records(*window) if r["UserId"] != upn]

    assert others(planted) == others(plain) and others(plain)
    day = (cfg.anchor - timedelta(days=2)).date().isoformat()
    first = next(r for r in planted.activity.records(*window) if r["UserId"] == upn and r["CreationTime"][:10] == day)
    assert first["CopilotEventData"]["Messages"][0]["JailbreakDetected"] is True


def test_every_activity_plant_has_a_user_of_its_own() -> None:
    planted = [p.index for p in PLANTS if p.activity]
    assert len(planted) == len(set(planted)) == 12
