"""An independent attacker for FOI disclosure control: every table consistent with what is published.

``intervals()`` is the product's own audit, and ``protect()`` relies on it, so
judging ``protect()`` with it proves little. Here a brute-force attacker reads
only the published cells and the published rules, enumerates every table of
counts that would publish the same thing, and reports the values each withheld
cell can take. The property: a withheld count of one or more people is either
ambiguous (at least two values remain) or reported by ``protect()`` as exposed
(the answer then combines rows or refuses to answer).

The published rules an attacker knows (docs/foi.md): "<T" is a count from 1 to
T-1, or a 0 in a row beside such a count; "[c]" (secondary) is a count of at
least T; a rounded total r is a count of at least T within [r-T, r+T-1]; each
total is the sum of its column.
"""

from __future__ import annotations

import itertools

from hypothesis import example, given, settings
from hypothesis import strategies as st

from m365audit.foi.suppression import PRIMARY, ROUNDED, SECONDARY, SHOWN, Table, protect, rounded


def two_columns(first: list[int], second: list[int]) -> Table:
    """The department table's shape: two columns sharing rows, each with its total."""
    n = min(len(first), len(second))
    t = Table()
    t.add("total_a", sum(first[:n]), is_total=True)
    t.add("total_b", sum(second[:n]), is_total=True)
    for i in range(n):
        t.add(f"a{i}", first[i])
        t.add(f"b{i}", second[i])
        t.rows.append([f"a{i}", f"b{i}"])
    t.relations += [(["total_a"], [f"a{i}" for i in range(n)]), (["total_b"], [f"b{i}" for i in range(n)])]
    return t


def _possible(status: str, shown: int | None, threshold: int, cap: int) -> range:
    """The values a published cell may hide, from the published rules alone."""
    if status == PRIMARY:
        return range(0, threshold)
    if status == SECONDARY:
        return range(threshold, cap + 1)
    if status == ROUNDED:
        assert shown is not None
        return range(max(threshold, shown - threshold), shown + threshold)
    assert shown is not None
    return range(shown, shown + 1)


def _column_options(table: Table, total: str, parts: list[str], threshold: int, cap: int) -> list[tuple[int, ...]]:
    """Every assignment of the column's parts whose sum is a possible value of its total."""
    published = {k: (c.status, rounded(c.value, threshold) if c.status == ROUNDED else c.value)
                 for k, c in table.cells.items() if c.value is not None}
    totals = set(_possible(*published[total], threshold, cap))
    domains = [_possible(*published[k], threshold, cap) for k in parts]
    return [values for values in itertools.product(*domains) if sum(values) in totals]


def _zero_rule_holds(table: Table, values: dict[str, int]) -> bool:
    """A withheld 0 sits in a row beside a withheld count of at least 1."""
    for row in table.rows:
        withheld = [k for k in row if table.cells[k].status == PRIMARY]
        if withheld and not any(values[k] > 0 for k in withheld):
            return False
    return True


def attack(table: Table, threshold: int, cap: int) -> dict[str, set[int]]:
    """The values each cell takes over every table consistent with the published one."""
    n = len(table.rows)
    a_parts, b_parts = [f"a{i}" for i in range(n)], [f"b{i}" for i in range(n)]
    seen: dict[str, set[int]] = {k: set() for k in table.cells}
    for a in _column_options(table, "total_a", a_parts, threshold, cap):
        for b in _column_options(table, "total_b", b_parts, threshold, cap):
            values = dict(zip(a_parts, a, strict=True)) | dict(zip(b_parts, b, strict=True))
            values["total_a"], values["total_b"] = sum(a), sum(b)
            if _zero_rule_holds(table, values):
                for k, v in values.items():
                    seen[k].add(v)
    return seen


small = st.lists(st.integers(0, 7), min_size=1, max_size=3)


@settings(max_examples=150, deadline=None)
@given(first=small, second=small, method=st.sampled_from(["next_smallest", "round_totals"]),
       threshold=st.integers(3, 5))
@example(first=[0, 0], second=[1, 1], method="next_smallest", threshold=3)
def test_brute_force_attacker_pins_no_withheld_count_that_is_not_reported(first, second, method,
                                                                           threshold) -> None:
    table = two_columns(first, second)
    truth = {k: c.value for k, c in table.cells.items()}
    cap = sum(first) + sum(second) + 1
    outcome = protect(table, threshold, method, cap)
    seen = attack(table, threshold, cap)
    for key, cell in table.cells.items():
        assert truth[key] in seen[key], (key, table.cells)  # the attacker's model admits the real table
        if cell.status == PRIMARY and truth[key]:
            assert len(seen[key]) >= 2 or key in outcome.exposed, (key, seen[key], table.cells)
        if cell.status == SHOWN:
            assert cell.value == 0 or cell.value >= threshold


def test_the_counterexample_is_exposed_and_reported() -> None:
    """0 and 0 beside 1 and 1 (threshold 3): the published total 0 makes both zeros known, so each
    "<3" beside them must be at least 1, and their "<3" total makes both exactly 1. Nothing left to
    withhold can hide that: protect() reports them, and the answer combines the rows."""
    table = two_columns([0, 0], [1, 1])
    outcome = protect(table, 3, "next_smallest", 3)
    seen = attack(table, 3, 3)
    assert seen["b0"] == seen["b1"] == {1}
    assert set(outcome.exposed) == {"b0", "b1", "total_b"}
    assert {k: c.status for k, c in table.cells.items()} == {
        "total_a": SHOWN, "total_b": PRIMARY, "a0": PRIMARY, "b0": PRIMARY, "a1": PRIMARY, "b1": PRIMARY}
