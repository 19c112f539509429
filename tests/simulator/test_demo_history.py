"""`m365audit demo` builds three years of monthly licence history with the real collector, and the FOI answer
of the demo database gives an expenditure figure for each of the last three financial years (issue 14, item 6).

The truth is the simulated tenant itself: ``SeatHistory`` shows it as it stood at each snapshot time, and the
tenant says what subscribedSkus answered then (as tests/collect compares with ``expected_licence_summary``).
"""

from __future__ import annotations

import calendar
import json
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import duckdb
import pytest

from m365audit.simulator import catalogue as cat
from m365audit.simulator.history import SeatHistory
from m365audit.simulator.planted import demo_tenant, former_seats
from tests.conftest import run_cli
from tests.simulator.conftest import DAYS, SEED, USERS, DemoRun

LIST_PRICE = [(date(2023, 11, 1), Fraction("24.70"))]  # m365audit/foi/list_prices.py, used without --policy
COUNCIL = [*LIST_PRICE, (date(2025, 4, 1), Fraction("25.94"))]  # examples/policies/borough-council.toml


def _fy_start(day: date) -> date:
    return date(day.year - (day.month < 4), 4, 1)


def _monthly(today: date) -> list[datetime]:
    """The first of each month at 02:00 UTC from 1 April three financial years back, before today."""
    first = _fy_start(today).replace(year=_fy_start(today).year - 3)
    out = []
    while first < today:
        out.append(datetime(first.year, first.month, 1, 2, tzinfo=UTC))
        first = (first + timedelta(days=32)).replace(day=1)
    return out


@pytest.fixture(scope="module")
def truth(demo_run: DemoRun) -> list[tuple[date, int, int]]:
    """(day, Copilot seats purchased, assigned) at each snapshot, from the simulated tenant."""
    tenant = demo_tenant(USERS, DAYS, SEED)
    history = SeatHistory(tenant, former_seats(tenant))
    out = []
    for when in [*_monthly(demo_run.today), None]:
        history.show(when)
        consumed = tenant.consumed_units()
        copilot = [s for s in tenant.subscribed_skus() if s.is_copilot]
        out.append(((when or datetime.now(UTC)).date(), sum(tenant.purchased_units(s) for s in copilot),
                    sum(consumed[s.sku_id] for s in copilot)))
    return out


def _spend(truth: list[tuple[date, int, int]], start: date, end: date, prices: list[tuple[date, Fraction]]) -> float:
    """Seats purchased each day (the latest snapshot on or before it) x the day's price / days in its month."""
    total, day = Fraction(0), start
    while day <= end:
        seats = [purchased for taken, purchased, _ in truth if taken <= day]
        if seats and seats[-1]:
            price = [p for since, p in prices if since <= day][-1]
            total += price * seats[-1] / calendar.monthrange(day.year, day.month)[1]
        day += timedelta(days=1)
    return float(Decimal(math.floor(total * 100 + Fraction(1, 2))).scaleb(-2))


def test_a_snapshot_on_the_first_of_each_month_back_three_financial_years_then_today(demo_run: DemoRun) -> None:
    with duckdb.connect(str(demo_run.db), read_only=True) as con:
        taken = [r[0].astimezone(UTC) for r in con.execute("SELECT taken_at FROM snapshots ORDER BY taken_at").fetchall()]
        runs = con.execute("SELECT count(*) FROM runs WHERE status = 'succeeded'").fetchone()
    monthly = _monthly(demo_run.today)
    assert monthly[0] == datetime(_fy_start(demo_run.today).year - 3, 4, 1, 2, tzinfo=UTC)
    assert taken[:-1] == monthly and taken[-1].date() == demo_run.today
    assert len(taken) == len(monthly) + 1 == runs[0]  # type: ignore[index]
    if demo_run.today == date(2026, 12, 6):  # the day this was written: 1 April 2023 to 1 December 2026, and today
        assert len(monthly) == 45


def test_copilot_appears_at_general_availability_and_seats_grow(demo_run: DemoRun, truth) -> None:
    with duckdb.connect(str(demo_run.db), read_only=True) as con:
        rows = con.execute("SELECT s.taken_at, (SELECT coalesce(sum(purchased), 0) FROM skus_at(s.taken_at) "
                           "WHERE is_copilot), (SELECT coalesce(sum(assigned), 0) FROM skus_at(s.taken_at) "
                           "WHERE is_copilot), (SELECT count(*) FROM skus_at(s.taken_at) WHERE sku_id = ?) "
                           "FROM snapshots s ORDER BY s.taken_at", [cat.COPILOT.sku_id]).fetchall()
    assert [(r[0].astimezone(UTC).date(), r[1], r[2]) for r in rows] == truth
    listed = {r[0].astimezone(UTC).date(): r[3] for r in rows}
    assert {day for day, n in listed.items() if n} == {day for day in listed if day >= date(2023, 11, 1)}
    held = [t[2] for t in truth]
    assert held[-1] > held[24] > held[12] >= held[7] == 0  # none before November 2023, then more each year
    assert truth[7][1] > 0  # bought at general availability (1 November 2023) for the pilot
    # Seats change hands: some months lose holders the month before gained.
    with duckdb.connect(str(demo_run.db), read_only=True) as con:
        lost = con.execute("SELECT count(DISTINCT user_id) FROM licence_assignment_versions v JOIN "
                           "reference_copilot_skus USING (sku_id) WHERE v.valid_to IS NOT NULL").fetchone()
    assert lost[0] > 0  # type: ignore[index]


def test_the_demo_prints_the_seats_of_each_financial_year(demo_run: DemoRun, truth) -> None:
    assert "Licence history: Copilot seats at each financial year's last snapshot" in demo_run.stdout
    first = _fy_start(demo_run.today).year - 3
    for year in range(first, first + 4):
        last = [t for t in truth if _fy_start(t[0]).year == year][-1]
        label = f"{year}-{(year + 1) % 100:02d}"
        cells = [c.strip() for c in next(x for x in demo_run.stdout.splitlines() if label in x).split("│")]
        assert cells[-3:-1] == [f"{last[1]:,}", f"{last[2]:,}"], cells


def test_licences_at_each_31_march_are_the_tenants_seats_then(demo_run: DemoRun, truth) -> None:
    first = _fy_start(demo_run.today).year - 3
    for year in range(first + 1, first + 4):
        march = date(year, 3, 31)
        result = run_cli("licences", "--db", str(demo_run.db), "--as-of", march.isoformat(), "--format", "json")
        assert result.code == 0, result.stderr
        copilot = json.loads(result.stdout)["copilot"]
        then = [t for t in truth if t[0] <= march][-1]
        assert (copilot["purchased"], copilot["assigned"]) == then[1:], march


@pytest.mark.parametrize("policy", [None, "borough-council"])
def test_foi_gives_expenditure_for_each_of_the_last_three_financial_years(demo_run: DemoRun, truth, policy) -> None:
    from m365audit.resources import example_policy

    extra = ["--policy", str(example_policy(policy))] if policy else []
    prices = COUNCIL if policy else LIST_PRICE
    march = date(demo_run.today.year - (demo_run.today < date(demo_run.today.year, 3, 31)), 3, 31)
    for as_of, end in (([], demo_run.today), (["--as-of", march.isoformat()], march)):
        result = run_cli("foi", "--db", str(demo_run.db), "--format", "json", *as_of, *extra)
        assert result.code == 0, result.stderr
        answer = json.loads(result.stdout)
        first = _fy_start(end).year - 2
        years = [(f"{y}-{(y + 1) % 100:02d}", date(y, 4, 1), min(date(y + 1, 3, 31), end)) for y in range(first, first + 3)]
        assert [(e["financial_year"], e["start"], e["end"], e["held"], e["amount"]) for e in answer["expenditure"]] == [
            (label, start.isoformat(), stop.isoformat(), True, _spend(truth, start, stop, prices))
            for label, start, stop in years]
        assert all(isinstance(e["amount"], float) and e["amount"] > 0 for e in answer["expenditure"])


def test_no_history_collects_today_only(tmp_path) -> None:
    db = tmp_path / "today.duckdb"
    result = run_cli("demo", "--users", "50", "--days", "1", "--no-history", "--db", str(db))
    assert result.code == 0, result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        taken = [r[0].astimezone(UTC).date() for r in con.execute("SELECT taken_at FROM snapshots").fetchall()]
    assert taken == [datetime.now(UTC).date()]
    rows = [x for x in result.stdout.splitlines() if x.startswith("│ 20")]
    assert len(rows) == 1 and rows[0].split("│")[2].strip() == "1", rows
    answer = json.loads(run_cli("foi", "--db", str(db), "--format", "json").stdout)
    assert [e["held"] for e in answer["expenditure"]][:2] == [False, False]  # the two years before today's


def test_demo_out_checks_last_month_too_so_the_report_shows_new_and_fixed_findings(demo_run: DemoRun) -> None:
    """Plant 7's guest held a seat in the Copilot group until today: last month's check (on the last monthly
    snapshot) reported it, today's does not, so the report lists it as fixed; activity findings are new."""
    import csv

    from m365audit.simulator.planted import JAILBREAK, MEMBERS, TRAINED

    tenant = demo_tenant(USERS, DAYS, SEED)
    upn = {i: tenant.user(i).user_principal_name for i in (1, 7, 10)}  # type: ignore[union-attr]
    with (demo_run.out / "csv" / "compliance_changes.csv").open(encoding="utf-8-sig") as handle:
        changes = {(r["change"], r["check_id"], r["subject"]) for r in csv.DictReader(handle)}
    assert {c for c in changes if c[0] == "fixed"} == {("fixed", MEMBERS, upn[7]), ("fixed", TRAINED, upn[7])}
    assert ("new", JAILBREAK, upn[10]) in changes  # the audit log was not collected last month
    assert not {c for c in changes if c[2] == upn[1]}  # the guest with a seat today: found last month too
    with duckdb.connect(str(demo_run.db), read_only=True) as con:
        runs = con.execute("SELECT checked_at FROM check_runs ORDER BY seq").fetchall()
    assert [r[0].astimezone(UTC).date() for r in runs] == [_monthly(demo_run.today)[-1].date(), demo_run.today]
