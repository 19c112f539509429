"""The simulated activity: deterministic, consistent with licences, clean when asked."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator import catalogue as cat
from m365audit.simulator.activity_expected import expected_activity, flagged_records
from m365audit.simulator.behaviour import CLEAN_ACTIVITY
from tests.conftest import ANCHOR


def _tenant(**config) -> Tenant:
    config.setdefault("users", 600)
    config.setdefault("seed", 5)
    return Tenant(TenantConfig(anchor=ANCHOR, **config))


def test_same_seed_same_records_and_pages_agree_with_iteration() -> None:
    one, two = _tenant(), _tenant()
    start, end = one.activity.window
    first = list(one.activity.records(start, end))
    assert first == list(two.activity.records(start, end))
    selection = one.activity.select(start, end)
    assert selection.total == len(first) > 1000
    assert selection.page(123, 500) == first[123:623]
    assert len({r["Id"] for r in first}) == len(first)
    assert list(_tenant(seed=6).activity.records(start, end))[:5] != first[:5]


def test_partial_windows_count_exactly() -> None:
    model = _tenant().activity
    start, end = model.window
    every = list(model.records(start, end))
    a = start + timedelta(days=4, hours=9, minutes=13, seconds=7, microseconds=250_000)
    b = a + timedelta(hours=31)
    inside = [r for r in every if a <= _t(r) < b]
    assert model.count(a, b) == len(inside) == len(list(model.records(a, b)))
    assert model.count(start - timedelta(days=40), start) == 0


def _t(record):
    from datetime import UTC, datetime

    return datetime.fromisoformat(record["CreationTime"]).replace(tzinfo=UTC)


def test_activity_follows_licences() -> None:
    tenant = _tenant(users=1500)
    model = tenant.activity
    start, end = model.window
    users = {u.user_principal_name: u for u in tenant.iter_users()}
    apps_by_user: dict[str, set[str]] = {}
    programs = 0
    for record in model.records(start, end, [ac.COPILOT]):
        if ac.program_of(record) is not None:  # programs and other Copilot products: test_programs below
            programs += 1
            continue
        apps_by_user.setdefault(record["UserId"], set()).add(record["CopilotEventData"]["AppHost"])
        user = users[record["UserId"]]
        host = record["CopilotEventData"]["AppHost"]
        seat_from = user.copilot_assigned_at()
        assert host != "appchat" or record["CopilotEventData"]["Contexts"][0]["Type"] in ac.APP_OF_CONTEXT
        if host != "BizChat":
            # Copilot apps only for seat holders, from the day after the seat was assigned.
            assert user.holds_copilot_seat(), record
            assert record["CreationTime"][:10] > seat_from.date().isoformat()
        assert user.account_enabled and user.user_type == "Member" or user.holds_copilot_seat()
    unlicensed = [u for u in apps_by_user if not users[u].holds_copilot_seat()]
    assert unlicensed, "some unlicensed staff use Copilot Chat"
    assert all(apps_by_user[u] == {"BizChat"} for u in unlicensed)
    assert programs
    never = [u for u in users.values() if u.holds_copilot_seat() and u.activity == 0.0]
    assert never and not any(u.user_principal_name in apps_by_user for u in never)
    # Skewed: the busiest tenth of users write far more than their share.
    per_user = sorted(Counter(r["UserId"] for r in model.records(start, end)).values(), reverse=True)
    assert sum(per_user[: len(per_user) // 10]) > 0.25 * sum(per_user)


def test_records_follow_the_documented_schema_and_catalogue() -> None:
    model = _tenant().activity
    start, end = model.window
    labels = {label.label_id for label in cat.LABELS if label.is_active}
    site_root = model.tenant.config.site_url("")
    totals = expected_activity(model, start, end)
    assert set(totals["by_app_host"]) >= {"Word", "Excel", "PowerPoint", "Outlook", "Teams", "BizChat", "Loop",
                                          "OneNote", "Bing", "ChatGPT"}
    assert totals["by_record_type"]["AIAppInteraction"] > 0
    assert totals["highly_confidential_resources"] > 0 and totals["agent_interactions"] > 0
    assert totals["jailbreaks"] > 0 and totals["xpia"] > 0 and totals["safeguarding_resources"] > 0
    for record in model.records(start, start + timedelta(days=3)):
        assert set(record) >= {"CreationTime", "Id", "Operation", "OrganizationId", "RecordType", "UserKey",
                               "UserType", "Version", "Workload", "UserId", "ClientIP", "CopilotEventData"}
        assert record["RecordType"] == ac.RECORD_TYPES[record["Operation"]]
        for resource in record["CopilotEventData"]["AccessedResources"]:
            assert resource["SiteUrl"].startswith(site_root)
            assert resource.get("SensitivityLabelId", next(iter(labels))) in labels


def test_clean_activity_has_no_flags_but_keeps_usage() -> None:
    model = _tenant(activity=CLEAN_ACTIVITY).activity
    start, end = model.window
    flags = flagged_records(model, start, end)
    assert {k: v for k, v in flags.items() if k != "agent"} == {
        "jailbreak": [], "xpia": [], "highly_confidential": [], "safeguarding_site": [],
        "restricted_document": [], "third_party": []}
    assert flags["agent"] and model.count(start, end) > 1000


def test_default_rates_flag_some_records() -> None:
    model = _tenant(users=1500).activity
    flags = flagged_records(model, *model.window)
    assert all(flags[name] for name in flags), {k: len(v) for k, v in flags.items()}
