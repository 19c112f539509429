"""Disclosure control: primary, zero-beside, next-smallest and rounded-total suppression, and its audit."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from m365audit.foi.suppression import PRIMARY, ROUNDED, SECONDARY, SHOWN, Table, display, intervals, protect
from tests.foi.test_suppression_attack import two_columns


def _column(total: int, parts: list[int]) -> Table:
    t = Table()
    t.add("total", total, is_total=True)
    keys = [t.add(f"p{i}", v) for i, v in enumerate(parts)]
    t.relations.append((["total"], keys))
    return t


def _statuses(t: Table) -> dict[str, str]:
    return {k: c.status for k, c in t.cells.items()}


def test_one_small_cell_and_its_total_needs_the_next_smallest() -> None:
    t = _column(40, [3, 12, 25])
    outcome = protect(t, 5, "next_smallest", cap=1000)
    assert _statuses(t) == {"total": SHOWN, "p0": PRIMARY, "p1": SECONDARY, "p2": SHOWN}
    assert [display(t.cells[k], 5) for k in ("total", "p0", "p1", "p2")] == [40, "<5", "[c]", 25]
    assert (outcome.primary, outcome.secondary) == (1, 1)


def test_next_smallest_equal_to_the_threshold_is_not_enough() -> None:
    # 1 + 5 = 6 and a withheld 5 must be at least 5, so the 1 would be exact: withhold the 20 as well.
    t = _column(26, [1, 5, 20])
    protect(t, 5, "next_smallest", cap=1000)
    assert _statuses(t) == {"total": SHOWN, "p0": PRIMARY, "p1": SECONDARY, "p2": SECONDARY}
    lo, hi = intervals(t, 5, 1000)["p0"]
    assert (lo, hi) == (1, 4)


def test_two_small_cells_that_add_up_to_two_are_protected() -> None:
    t = _column(22, [1, 1, 20])
    protect(t, 5, "next_smallest", cap=1000)
    assert _statuses(t) == {"total": SHOWN, "p0": PRIMARY, "p1": PRIMARY, "p2": SECONDARY}


def test_several_small_cells_with_room_need_nothing_more() -> None:
    t = _column(27, [3, 4, 20])
    protect(t, 5, "next_smallest", cap=1000)
    assert _statuses(t) == {"total": SHOWN, "p0": PRIMARY, "p1": PRIMARY, "p2": SHOWN}


def test_when_every_part_is_withheld_the_total_goes() -> None:
    t = _column(8, [4, 4])
    protect(t, 5, "next_smallest", cap=1000)
    assert _statuses(t) == {"total": SECONDARY, "p0": PRIMARY, "p1": PRIMARY}


def test_zero_beside_a_withheld_count_is_withheld() -> None:
    t = Table()
    t.add("licensed", 2)
    t.add("active", 0)
    t.add("other_licensed", 9)
    t.add("other_active", 0)
    t.rows += [["licensed", "active"], ["other_licensed", "other_active"]]
    protect(t, 5, "next_smallest", cap=100)
    assert [display(c, 5) for c in t.cells.values()] == ["<5", "<5", 9, 0]


def test_round_totals() -> None:
    t = _column(47, [3, 12, 32])
    outcome = protect(t, 5, "round_totals", cap=1000)
    assert _statuses(t) == {"total": ROUNDED, "p0": PRIMARY, "p1": SHOWN, "p2": SHOWN}
    assert display(t.cells["total"], 5) == 50
    assert (outcome.secondary, outcome.rounded) == (0, 1)


def test_round_totals_falls_back_to_next_smallest_when_rounding_is_not_enough() -> None:
    # 105 rounds to 110, so the total is 105..114 and the parts published add up to 101: the 4 is exact.
    t = _column(105, [4, 40, 61])
    protect(t, 5, "round_totals", cap=1000)
    assert _statuses(t) == {"total": ROUNDED, "p0": PRIMARY, "p1": SECONDARY, "p2": SHOWN}


def test_not_held_cells_take_no_part() -> None:
    t = _column(10, [3, 7])
    t.cells["total"].value = None
    protect(t, 5, "next_smallest", cap=100)
    assert display(t.cells["total"], 5) is None
    assert _statuses(t) == {"total": SHOWN, "p0": PRIMARY, "p1": SHOWN}


counts = st.lists(st.integers(0, 30), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(first=counts, second=counts, method=st.sampled_from(["next_smallest", "round_totals"]),
       threshold=st.integers(3, 6))
@example(first=[0, 0], second=[1, 1], method="next_smallest", threshold=3)
def test_no_withheld_count_can_be_worked_out(first, second, method, threshold) -> None:
    """Two columns sharing rows (the department table): after protection every withheld count
    of one or more people still has at least two possible values by the product's own audit, or
    protect() reports it as exposed (nothing left to withhold could hide it; the answer then combines
    rows); the true value is always among the possible ones. (With a threshold of 2, "<2" of a
    count known to be non-zero can only be 1, so thresholds start at 3.) An independent brute-force
    attacker checks the same property in test_suppression_attack.py."""
    t = two_columns(first, second)
    cap = sum(first) + sum(second) + 1
    outcome = protect(t, threshold, method, cap)
    bounds = intervals(t, threshold, cap)
    for key, cell in t.cells.items():
        lo, hi = bounds[key]
        assert lo <= cell.value <= hi, key
        if cell.status == PRIMARY and cell.value > 0:
            assert lo < hi or key in outcome.exposed, (key, t.cells)
        if cell.status == SHOWN:
            assert cell.value == 0 or cell.value >= threshold


departments = st.lists(st.tuples(st.integers(0, 25), st.integers(0, 25)), min_size=1, max_size=10)


@settings(max_examples=300, deadline=None)
@given(rows=departments, seat_share=st.floats(0, 1), extra_assigned=st.integers(0, 2),
       method=st.sampled_from(["next_smallest", "round_totals"]), threshold=st.integers(3, 10))
def test_the_answer_tables_leak_no_withheld_count(rows, seat_share, extra_assigned, method, threshold) -> None:
    """The real table of an answer (systems, licences, departments and their relations)."""
    from m365audit.foi.answer import _table, protected_counts
    from m365audit.foi.counts import DepartmentRow, LicenceRow, RawCounts
    from m365audit.policy import Policy

    active = sum(a for _, a in rows)
    licensed = sum(n for n, _ in rows)
    seat_active = min(int(active * seat_share), licensed)  # active seat holders are seat holders
    raw = RawCounts(
        copilot_licensed=licensed, copilot_active=seat_active, chat_entitled=licensed + 50,
        chat_active=active - seat_active,
        licences=[LicenceRow("id", "Microsoft_365_Copilot", licensed + 9, licensed + extra_assigned, True)],
        departments=[DepartmentRow(f"D{i}", n, a) for i, (n, a) in enumerate(rows)], users=licensed + active + 60)
    raw = protected_counts(raw, Policy(suppress_below=threshold, secondary_suppression=method))
    table, _ = _table(raw)
    outcome = protect(table, threshold, method, raw.users)
    bounds = intervals(table, threshold, raw.users)
    for key, cell in table.cells.items():
        lo, hi = bounds[key]
        assert lo <= cell.value <= hi, key
        if cell.status == PRIMARY and cell.value > 0 and lo == hi:
            # Only below the usual threshold of 5, and then reported (build_answer refuses to answer).
            assert threshold < 5 and key in outcome.exposed, (key, table.cells)
    assert not outcome.exposed or threshold < 5


def test_exposure_that_withholding_cannot_fix_is_reported() -> None:
    """Threshold 3: 1 active licensed user and 1 active Copilot Chat user in a department with 2 active.
    The two "<3" totals are each at least 1 and add up to "<3", so both are 1 whatever is withheld."""
    from m365audit.foi.answer import _table, protected_counts
    from m365audit.foi.counts import DepartmentRow, LicenceRow, RawCounts
    from m365audit.policy import Policy

    raw = RawCounts(copilot_licensed=3, copilot_active=1, chat_entitled=53, chat_active=1,
                    licences=[LicenceRow("id", "Microsoft_365_Copilot", 12, 3, True)],
                    departments=[DepartmentRow("Finance", 3, 2)], users=60)
    policy = Policy(suppress_below=3)
    raw = protected_counts(raw, policy)
    assert [d.department for d in raw.departments] == ["(other departments, combined to protect small numbers)"]
    table, _ = _table(raw)
    assert protect(table, 3, "next_smallest", 60).exposed == ("copilot.active", "chat.active",
                                                               "department.0.active")


def test_named_departments_that_would_each_be_exactly_one_are_combined() -> None:
    """4 licensed users in total ("<5"), one in each of four departments that each show "<5": naming
    all four says each has exactly one. Two are combined into an unnamed row; then none is certain."""
    from m365audit.foi.answer import COMBINED, _table, protected_counts
    from m365audit.foi.counts import DepartmentRow, LicenceRow, RawCounts
    from m365audit.policy import Policy

    raw = RawCounts(copilot_licensed=4, copilot_active=0, chat_entitled=80, chat_active=20,
                    licences=[LicenceRow("id", "Microsoft_365_Copilot", 10, 4, True)],
                    departments=[DepartmentRow(name, 1, 5) for name in ("Audit", "Legal", "Planning", "Waste")],
                    users=100)
    raw = protected_counts(raw, Policy())
    assert raw.departments == [DepartmentRow("Planning", 1, 5), DepartmentRow("Waste", 1, 5),
                               DepartmentRow(COMBINED, 2, 10)]
    table, _ = _table(raw)
    assert protect(table, 5, "next_smallest", 100).exposed == ()
