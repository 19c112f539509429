"""FOI answers over a licence history spanning several financial years, built by the real collector.

Timeline (snapshots taken by collecting the simulated tenant at these times):
  S1 2024-10-15 09:00  3 Copilot seats (Finance)              -> 8 purchased
  S2 2025-03-31 23:30  10 seats                                -> 16 purchased (counts for 31 March)
  S3 2025-04-01 06:00  12 seats                                -> 18 purchased (counts from 1 April)
  S4 2026-11-02 06:00  20 seats: Finance 12, Digital and IT 6, Human Resources 2 -> 27 purchased
Prices: Microsoft_365_Copilot 24.75 a month from 2024-01-01, then (by SKU id) 30.00 from 2025-10-15.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from m365audit.checks.catalogue import check_ids
from m365audit.foi import FoiOptions, build_answer
from m365audit.policy import load_policy
from m365audit.simulator import CLEAN, SimulatorServer, Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from m365audit.simulator.tenant import SimAssignment
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, collect_from

S1 = datetime(2024, 10, 15, 9, tzinfo=UTC)
S2 = datetime(2025, 3, 31, 23, 30, tzinfo=UTC)
S3 = datetime(2025, 4, 1, 6, tzinfo=UTC)
S4 = datetime(2026, 11, 2, 6, tzinfo=UTC)
SINCE = {0: datetime(2024, 9, 1, 10, tzinfo=UTC), 1: datetime(2024, 9, 16, tzinfo=UTC),
         2: datetime(2024, 10, 14, 12, tzinfo=UTC)}
FINANCE, DIGITAL, HR, HOUSING, PLANNING = range(0, 12), range(12, 18), range(18, 20), range(20, 26), (26,)
HR_CHAT = range(27, 31)  # Human Resources staff without a Copilot licence who use Copilot Chat
POLICY = """
[costs]
currency = "GBP"
[[costs.prices]]
sku = "Microsoft_365_Copilot"
monthly_price = 24.75
from = 2024-01-01
[[costs.prices]]
sku = "639dec6b-bb19-468b-871c-c5c441c4b0cb"
monthly_price = 30.00
from = 2025-10-15
"""


def _e3() -> SimAssignment:
    return SimAssignment(cat.E3.sku_id, cat.GROUP_ALL_STAFF, assigned_at=datetime(2020, 1, 1, tzinfo=UTC))


def _seat(index: int) -> tuple[SimAssignment, ...]:
    since = SINCE.get(index, S1 + timedelta(days=30))
    return (_e3(), SimAssignment(cat.COPILOT.sku_id, cat.GROUP_COPILOT, assigned_at=since))


def _give_seats(tenant: Tenant, indexes: list[int]) -> None:
    for i in indexes:
        tenant.override_user(i, assignments=_seat(i))


def _build(db, tenant: Tenant) -> list[int]:
    """Collect the four snapshots; return the Copilot units purchased at each."""
    purchased = []
    with SimulatorServer(tenant) as server:
        for when, seats in ((S1, [0, 1, 2]), (S2, list(range(10))), (S3, list(range(12))),
                            (S4, [*FINANCE, *DIGITAL, *HR])):
            _give_seats(tenant, seats)
            collect_from(server, db, now=when)
            purchased.append(tenant.purchased_units(cat.COPILOT))
    return purchased


def _interactions(db, tenant: Tenant) -> None:
    """Copilot use in the 28 days to 2 November 2026 (6 October to 2 November inclusive)."""
    rows = []
    inside = datetime(2026, 10, 20, 12, tzinfo=UTC)
    for i in [*range(0, 7), 18, *HR_CHAT, *HOUSING, *PLANNING]:
        rows.append((f"r{i}", inside, tenant.user(i).user_principal_name, tenant.user(i).id, "CopilotInteraction"))
    for i in range(12, 17):  # no user id: matched by user principal name, whatever its case
        rows.append((f"u{i}", inside, tenant.user(i).user_principal_name.upper(), None, "CopilotInteraction"))
    rows += [
        ("first", datetime(2026, 10, 6, tzinfo=UTC), tenant.user(6).user_principal_name, tenant.user(6).id,
         "CopilotInteraction"),                                          # first instant of the window: counts
        ("last", datetime(2026, 11, 2, 23, 59, 59, tzinfo=UTC), tenant.user(5).user_principal_name,
         tenant.user(5).id, "CopilotInteraction"),                       # last second of the as-of day: counts
        ("before", datetime(2026, 10, 5, 23, 59, 59, tzinfo=UTC), tenant.user(7).user_principal_name,
         tenant.user(7).id, "CopilotInteraction"),                       # a second too early
        ("after", datetime(2026, 11, 3, tzinfo=UTC), tenant.user(8).user_principal_name, tenant.user(8).id,
         "CopilotInteraction"),                                          # after the as-of day
        ("other-ai", inside, tenant.user(9).user_principal_name, tenant.user(9).id,
         "ConnectedAIAppInteraction"),                                   # not Copilot
    ]
    with open_db(db) as con:
        con.executemany("INSERT INTO copilot_interaction_facts (record_id, created_at, user_principal_name, "
                        "user_id, record_type, app, actor_type) VALUES (?, ?, ?, ?, ?, 'Copilot Chat (work)', "
                        "'person')", rows)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    tenant = Tenant(TenantConfig(users=60, seed=11, anchor=ANCHOR, rates=CLEAN))
    for i in range(58):
        tenant.override_user(i, assignments=(_e3(),))
    tenant.override_user(58, assignments=(SimAssignment(cat.F3.sku_id, cat.GROUP_FRONTLINE),))
    # No licence at all: Copilot Chat needs none, so user 59 may use it like everyone else.
    tenant.override_user(59, assignments=())
    for indexes, name in ((FINANCE, "Finance"), (DIGITAL, "Digital and IT"), ((*HR, *HR_CHAT), "Human Resources"),
                          (HOUSING, "Housing"), (PLANNING, "Planning")):
        for i in indexes:
            tenant.override_user(i, department=name)
    folder = tmp_path_factory.mktemp("foi")
    db = folder / "history.duckdb"
    purchased = _build(db, tenant)
    _interactions(db, tenant)
    policy_file = folder / "policy.toml"
    policy_file.write_text(POLICY, encoding="utf-8")
    return db, load_policy(policy_file, check_ids()), purchased


def _answer(history, **options) -> dict:
    db, policy, _ = history
    policy_changes = options.pop("policy", {})
    if policy_changes:
        from dataclasses import replace
        policy = replace(policy, **policy_changes)
    with open_db(db, read_only=True) as con:
        return build_answer(con, policy, FoiOptions(**options))


def test_purchased_units_behind_the_expected_amounts(history) -> None:
    assert history[2] == [8, 16, 18, 27]


def test_latest_answer_counts_and_suppression(history) -> None:
    answer = _answer(history)
    assert answer["as_of"] == "2026-11-02"
    assert [(s["name"], s["entitled_users"], s["licensed_users"], s["active_users"]) for s in answer["systems"]] == [
        ("Microsoft 365 Copilot", 20, 20, 13),
        ("Microsoft 365 Copilot Chat", 60, None, 11),
    ]
    assert answer["licences"] == [{"product": "Microsoft Copilot for Microsoft 365",
                                   "sku_part_number": "Microsoft_365_Copilot", "purchased": 27, "assigned": 20}]
    # Human Resources has 2 licensed users (withheld) and 5 active (1 licensed, 4 on Copilot Chat).
    # Planning has 1 active Copilot Chat user: withheld, and so is the 0 licensed beside it. The active
    # column adds up to 13 + 11 = 24, so Planning's would be 24 - (5 + 7 + 6 + 5) = 1: the next smallest
    # active count (Digital and IT's 5) is withheld too.
    assert answer["departments"] == [
        {"department": "Digital and IT", "licensed_users": 6, "active_users": "[c]"},
        {"department": "Finance", "licensed_users": 12, "active_users": 7},
        {"department": "Housing", "licensed_users": 0, "active_users": 6},
        {"department": "Human Resources", "licensed_users": "<5", "active_users": 5},
        {"department": "Planning", "licensed_users": "<5", "active_users": "<5"},
    ]
    assert answer["suppression"] == {"threshold": 5, "secondary_method": "next_smallest"}
    assert "3 counts were withheld as fewer than 5 and 1 to prevent subtraction" in answer["method"]


def test_expenditure_by_financial_year_with_price_change(history) -> None:
    answer = _answer(history, years=4)
    rows = [(e["financial_year"], e["start"], e["end"], e["amount"], e["held"]) for e in answer["expenditure"]]
    # 2024-25: 8 seats from 15 October to 30 March, 16 seats on 31 March, at 24.75.
    fy24 = Fraction("24.75") * (8 * (Fraction(17, 31) + 4 + Fraction(30, 31)) + Fraction(16, 31))
    # 2025-26: 18 seats all year; 24.75 to 14 October 2025, 30.00 from 15 October.
    fy25 = 6 * 18 * Fraction("24.75") + 18 * (14 * Fraction("24.75") + 17 * 30) / 31 + 5 * 18 * 30
    # 2026-27 to 2 November: 18 seats to 1 November, 27 on 2 November, at 30.00.
    fy26 = 7 * 18 * 30 + 18 + 27
    assert [round(float(x), 2) for x in (fy24, fy25, fy26)] == [1104.97, 5870.32, 3825.0]
    assert rows == [
        ("2023-24", "2023-04-01", "2024-03-31", None, False),
        ("2024-25", "2024-04-01", "2024-10-14", None, False),
        ("2024-25", "2024-10-15", "2025-03-31", 1104.97, True),
        ("2025-26", "2025-04-01", "2026-03-31", 5870.32, True),
        ("2026-27", "2026-04-01", "2026-11-02", 3825.0, True),
    ]
    not_held = [e["basis"] for e in answer["expenditure"] if not e["held"]]
    assert all(b.startswith("Information not held") for b in not_held)
    assert all("not from invoices" in e["basis"] for e in answer["expenditure"] if e["held"])
    assert {e["currency"] for e in answer["expenditure"]} == {"GBP"}


def test_31_march_and_1_april_belong_to_different_years(history) -> None:
    march = _answer(history, as_of=date(2025, 3, 31), years=1)
    april = _answer(history, as_of=date(2025, 4, 1), years=1)
    assert march["systems"][0]["licensed_users"] == 10  # S2, taken 23:30 on 31 March
    assert april["systems"][0]["licensed_users"] == 12  # S3, 1 April
    assert [(e["financial_year"], e["start"], e["end"], e["held"]) for e in march["expenditure"]] == [
        ("2024-25", "2024-04-01", "2024-10-14", False), ("2024-25", "2024-10-15", "2025-03-31", True)]
    assert march["expenditure"][1]["amount"] == 1104.97
    # 1 April alone: 18 seats for one day of a 30-day month at 24.75.
    assert april["expenditure"] == [{
        "financial_year": "2025-26", "start": "2025-04-01", "end": "2025-04-01",
        "amount": float(Decimal("18") * Decimal("24.75") / 30), "currency": "GBP",
        "basis": april["expenditure"][0]["basis"], "held": True}]
    assert april["expenditure"][0]["amount"] == 14.85


def test_every_small_cell_is_suppressed_early_on(history) -> None:
    answer = _answer(history, as_of=date(2024, 12, 31), years=1)
    assert [(s["entitled_users"], s["licensed_users"], s["active_users"]) for s in answer["systems"]] == [
        ("<5", "<5", None), (60, None, None)]  # no audit records reach back to 2024: not held
    assert answer["licences"] == [{"product": "Microsoft Copilot for Microsoft 365",
                                   "sku_part_number": "Microsoft_365_Copilot", "purchased": 8, "assigned": "<5"}]
    assert answer["departments"] == [{"department": "Finance", "licensed_users": "<5", "active_users": None}]
    assert "active users is given as not held" in answer["method"]
    assert "(the latest record on or before 31 December 2024)" in answer["method"]
    assert "The licence snapshot used was taken 77 days before 31 December 2024" in answer["officer_note"][0]
    # 8 seats from 15 October to 31 December 2024 at 24.75.
    assert answer["expenditure"][1]["amount"] == round(float(Fraction("24.75") * 8 * (2 + Fraction(17, 31))), 2)


def test_round_totals(history) -> None:
    answer = _answer(history, policy={"secondary_suppression": "round_totals"})
    # 13 and 11 active round to 10, 60 who may use Copilot Chat stay 60; the department counts need no secondary cell.
    assert [(s["entitled_users"], s["licensed_users"], s["active_users"]) for s in answer["systems"]] == [
        (20, 20, 10), (60, None, 10)]
    assert answer["licences"][0]["assigned"] == 20
    assert [(d["licensed_users"], d["active_users"]) for d in answer["departments"]] == [
        (6, 5), (12, 7), (0, 6), ("<5", 5), ("<5", "<5")]
    assert answer["suppression"]["secondary_method"] == "round_totals"
    assert "rounded to the nearest 10" in answer["method"]


def test_threshold_from_the_policy(history) -> None:
    answer = _answer(history, policy={"suppress_below": 10})
    assert [s["active_users"] for s in answer["systems"]] == [13, 11]
    # Every department count but Finance's 12 licensed is under 10; Housing's 0 sits beside its 6.
    assert [(d["licensed_users"], d["active_users"]) for d in answer["departments"]] == [
        ("<10", "<10"), (12, "<10"), ("<10", "<10"), ("<10", "<10"), ("<10", "<10")]
    assert "9 counts were withheld as fewer than 10 and 0 to prevent subtraction" in answer["method"]


def test_lower_bound_before_the_first_snapshot(history) -> None:
    answer = _answer(history, years=2, as_of=date(2025, 3, 31), lower_bound=True)
    first = answer["expenditure"][1]
    assert (first["start"], first["end"], first["held"]) == ("2024-04-01", "2024-10-14", False)
    # Seats held at S1, from their assignment dates: 1 September, 16 September, 14 October 2024.
    expected = Fraction("24.75") * (1 + Fraction(14, 31) + Fraction(15, 30) + Fraction(14, 31) + Fraction(1, 31))
    assert first["amount"] == round(float(expected), 2) == 60.28
    assert first["basis"].startswith("Information not held; the amount is a reconstructed lower bound")
    assert answer["expenditure"][0]["amount"] == 0.0  # 2023-24: nobody held Copilot yet
    assert "lower bound" in answer["method"]


def test_the_public_answer_is_ready_to_send_and_the_officer_gets_a_note(history) -> None:
    from m365audit.foi.render import markdown, officer_note_text

    answer = _answer(history)
    public = markdown(answer)
    assert "| Microsoft Copilot for Microsoft 365 | 27 | 20 |" in public  # Microsoft's product name, not the SKU
    assert ("27 Microsoft Copilot for Microsoft 365 licences were paid for and 20 were given to staff; the other 7 "
            "were available to give to someone.") in public
    assert "Active users of Copilot or Copilot Chat (last 28 days)" in public
    assert "Active users in a department are the people in it who used Microsoft 365 Copilot" in public
    for jargon in ("m365audit", "policy file", "Microsoft Graph", "subscribedSkus", "suppress_below",
                   "Bing_Chat_Enterprise", "costs.prices", "snapshot", "service principal", "Microsoft_365_Copilot"):
        assert jargon not in public, jargon
    note = officer_note_text(answer)
    assert note.startswith("# Note for the FOI officer (do not send to the requester)")
    assert "m365audit" in note and "suppress_below = 5" in note and "policy file" in note


def test_the_word_answer_is_a4_and_names_the_organisation(history, tmp_path) -> None:
    import io

    from docx import Document
    from docx.shared import Cm

    from m365audit.foi.render import render

    answer = _answer(history)
    answer["organisation"] = "Example Borough Council"
    document = Document(io.BytesIO(render(answer, "docx")))
    section = document.sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.01) and abs(section.page_height - Cm(29.7)) < Cm(0.01)
    assert document.paragraphs[0].text == "Example Borough Council"
    assert document.core_properties.author == "Example Borough Council"
    assert "Example Borough Council" in document.paragraphs[1].text
