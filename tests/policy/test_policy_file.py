"""The policy file is parsed strictly: every problem names the file, line and key."""

from __future__ import annotations

from datetime import date

import pytest

from m365audit.checks.catalogue import check_ids
from m365audit.errors import UsageError
from m365audit.policy import load_policy

GOOD = """\
[policy]
name = "Example Borough Council AI Policy"
reviewed_on = 2026-03-24
review_every_months = 12

[licences]
copilot_groups = ["Copilot Licensed Staff"]
inactive_after_days = 30

[usage]
training_group = "AI Trained Staff"
prohibited_sites = ["https://example.sharepoint.com/sites/Safeguarding"]

[labels]
restricted = ["Highly Confidential"]
max_unlabelled_share = 0.5

[costs]
currency = "GBP"
[[costs.prices]]
sku = "Microsoft_365_Copilot"
monthly_price = 24.75
from = 2024-04-01
[[costs.prices]]
sku = "Microsoft_365_Copilot"
monthly_price = 26.0
from = 2025-10-01

[foi]
suppress_below = 5

[[exceptions]]
check = "licence_copilot_only_members"
subject = "partner@example.org"
reason = "Joint project with the NHS trust"
until = 2026-12-31
"""


def write(tmp_path, text: str):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_policy(tmp_path) -> None:
    policy = load_policy(write(tmp_path, GOOD), check_ids())
    assert policy.name == "Example Borough Council AI Policy"
    assert policy.reviewed_on == date(2026, 3, 24)
    assert policy.copilot_groups == ("Copilot Licensed Staff",)
    assert policy.restricted_labels == ("Highly Confidential",)
    assert policy.unassigned_seat_tolerance == 0  # default
    assert policy.price_on("Microsoft_365_Copilot", None, date(2025, 9, 30)).monthly_price == 24.75
    assert policy.price_on("microsoft_365_copilot", None, date(2025, 10, 1)).monthly_price == 26.0
    assert policy.price_on("Microsoft_365_Copilot", None, date(2024, 3, 31)) is None
    exc = policy.exceptions[0]
    assert exc.applies(date(2026, 12, 31)) and not exc.applies(date(2027, 1, 1))


@pytest.mark.parametrize(("change", "message"), [
    (("max_unlabelled_share = 0.5", "max_unlabelled_share = 1.5"), "line 16: labels.max_unlabelled_share must be between 0 and 1"),
    (("inactive_after_days = 30", "inactive_after_days = -3"), "line 8: licences.inactive_after_days must be between 1 and 3650"),
    (("inactive_after_days = 30", "inactive_after_days = \"30\""), "line 8: licences.inactive_after_days must be a whole number"),
    (("inactive_after_days = 30", "inactive_days = 30"), "line 8: licences.inactive_days is not a known key"),
    (("[foi]", "[foia]"), "line 29: foia is not a known section"),
    (("reviewed_on = 2026-03-24", "reviewed_on = \"last spring\""), "line 3: policy.reviewed_on must be a date"),
    (("reason = \"Joint project with the NHS trust\"\n", ""), "line 32: exceptions.reason is required"),
    (("monthly_price = 26.0", "monthly_price = -1"), "line 26: costs.prices.monthly_price must be a number from 0 to 100000, not -1"),
    (("name = \"Example", "name = Example"), "not valid TOML"),
])
def test_bad_policy_names_file_line_and_key(tmp_path, change, message) -> None:
    path = write(tmp_path, GOOD.replace(*change, 1))
    with pytest.raises(UsageError) as info:
        load_policy(path, check_ids())
    assert str(path) in info.value.message
    assert message in info.value.message


def test_missing_policy_file(tmp_path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_policy(tmp_path / "nope.toml", check_ids())


def test_every_problem_is_reported_at_once_in_file_order(tmp_path) -> None:
    """Parsed once: every problem in one sentence, in the order of the file, each with its line and key."""
    text = (GOOD.replace("inactive_after_days = 30", "inactive_after_days = 0")
            .replace("max_unlabelled_share = 0.5", "max_unlabelled_share = 0.5\ncolour = 1")
            .replace('check = "licence_copilot_only_members"', 'check = "licence_copilot_only_member"'))
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as info:
        load_policy(path, check_ids())
    assert info.value.message == (
        f"The policy file has 3 problems: {path}, line 8: licences.inactive_after_days must be between 1 and "
        f"3650, not 0; {path}, line 17: labels.colour is not a known key (known: max_unlabelled_share, "
        f"restricted); {path}, line 34: exceptions.check 'licence_copilot_only_member' is not a known check "
        "(did you mean licence_copilot_only_members?).")


def test_the_known_checks_come_from_the_caller(tmp_path) -> None:
    """The policy does not import the checks: an exception is judged against the ids it is given."""
    path = write(tmp_path, GOOD)
    with pytest.raises(UsageError, match="exceptions.check 'licence_copilot_only_members' is not a known check"):
        load_policy(path, ["some_other_check"])
    assert load_policy(path, ["licence_copilot_only_members"]).exceptions[0].check == "licence_copilot_only_members"
