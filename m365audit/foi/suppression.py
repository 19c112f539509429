"""Disclosure control for FOI tables: primary and secondary suppression, rounding, and an audit.

Cells are counts of people. The rules, in order:

1. Primary: a count from 1 to threshold-1 is withheld and shown as "<5".
2. Zeros beside a withheld count: a 0 in the same row as a withheld count is
   withheld too, because "2 licensed, 0 active" says something about those 2.
3. ``round_totals``: totals (cells flagged ``is_total``) of at least the
   threshold are shown rounded to the nearest multiple of twice the threshold.
4. Audit: the published table is attacked by interval arithmetic over every
   additive relation between cells (a column and its total). While a withheld
   count can be worked out exactly, the smallest published non-zero cell of
   that relation is withheld as well (secondary suppression, shown as "[c]"),
   or, when every part is withheld, the total.

The audit assumes an attacker who knows which withheld cells are primary
(1 to threshold-1, or 0 when withheld beside another) and that secondary cells
are at least the threshold; that is more than the published text says, so the
check errs on the side of withholding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SHOWN, PRIMARY, SECONDARY, ROUNDED = "shown", "primary", "secondary", "rounded"
SECONDARY_MARK = "[c]"


@dataclass
class Cell:
    value: int | None  # None: not held or not applicable (never withheld, never part of a relation)
    is_total: bool = False
    status: str = SHOWN


@dataclass
class Table:
    """Cells by key, rows (for the zero rule) and relations sum(left) == sum(right)."""

    cells: dict[str, Cell] = field(default_factory=dict)
    rows: list[list[str]] = field(default_factory=list)
    relations: list[tuple[list[str], list[str]]] = field(default_factory=list)

    def add(self, key: str, value: int | None, *, is_total: bool = False) -> str:
        self.cells[key] = Cell(value, is_total)
        return key


@dataclass(frozen=True)
class Outcome:
    method: str  # next_smallest or round_totals
    primary: int
    secondary: int
    rounded: int


def protect(table: Table, threshold: int, method: str, cap: int) -> Outcome:
    """Apply the rules above to ``table`` in place. ``cap`` bounds every count (e.g. all users)."""
    for cell in table.cells.values():
        if cell.value is not None and 0 < cell.value < threshold:
            cell.status = PRIMARY
    for row in table.rows:
        if any(table.cells[k].status == PRIMARY for k in row):
            for k in row:
                if table.cells[k].value == 0:
                    table.cells[k].status = PRIMARY
    if method == "round_totals":
        for cell in table.cells.values():
            if cell.is_total and cell.status == SHOWN and cell.value is not None and cell.value >= threshold:
                cell.status = ROUNDED
    while (pinned := _first_pinned(table, threshold, cap)) is not None:
        if not _withhold_next(table, pinned):
            break  # nothing left to withhold in any relation of this cell
    counts = {s: sum(c.status == s for c in table.cells.values()) for s in (PRIMARY, SECONDARY, ROUNDED)}
    return Outcome(method, counts[PRIMARY], counts[SECONDARY], counts[ROUNDED])


def rounded(value: int, threshold: int) -> int:
    base = 2 * threshold
    return base * ((value + threshold) // base)


def display(cell: Cell, threshold: int) -> int | str | None:
    """What every output format shows: a number, "<N", "[c]" or None (not held / not applicable)."""
    if cell.value is None:
        return None
    if cell.status == PRIMARY:
        return f"<{threshold}"
    if cell.status == SECONDARY:
        return SECONDARY_MARK
    if cell.status == ROUNDED:
        return rounded(cell.value, threshold)
    return cell.value


def intervals(table: Table, threshold: int, cap: int) -> dict[str, tuple[int, int]]:
    """What an attacker can narrow each cell to from the published table and its relations."""
    bounds = {k: _known(c, threshold, cap) for k, c in table.cells.items() if c.value is not None}
    relations = [(left, right) for left, right in table.relations
                 if all(k in bounds for k in left + right)]
    for _ in range(100):  # propagation reaches its fixed point in a few rounds on FOI-sized tables
        changed = False
        for left, right in relations:
            terms = [(k, 1) for k in left] + [(k, -1) for k in right]
            for i, (key, sign) in enumerate(terms):
                lo = sum(bounds[k][0] if s > 0 else -bounds[k][1] for j, (k, s) in enumerate(terms) if j != i)
                hi = sum(bounds[k][1] if s > 0 else -bounds[k][0] for j, (k, s) in enumerate(terms) if j != i)
                new = (-hi, -lo) if sign > 0 else (lo, hi)
                old = bounds[key]
                narrowed = (max(old[0], new[0]), min(old[1], new[1]))
                if narrowed != old:
                    bounds[key] = narrowed
                    changed = True
        if not changed:
            break
    return bounds


def _known(cell: Cell, threshold: int, cap: int) -> tuple[int, int]:
    assert cell.value is not None
    if cell.status == PRIMARY:
        return (0 if cell.value == 0 else 1, threshold - 1)
    if cell.status == SECONDARY:
        return (threshold, cap)
    if cell.status == ROUNDED:
        r = rounded(cell.value, threshold)
        return (max(threshold, r - threshold), r + threshold - 1)
    return (cell.value, cell.value)


def _first_pinned(table: Table, threshold: int, cap: int) -> str | None:
    bounds = intervals(table, threshold, cap)
    for key, cell in table.cells.items():
        if cell.status == PRIMARY and key in bounds and bounds[key][0] >= bounds[key][1]:
            return key
    return None


def _withhold_next(table: Table, pinned: str) -> bool:
    """Withhold the smallest published non-zero cell sharing a relation with ``pinned``."""
    for left, right in table.relations:
        members = left + right
        if pinned not in members:
            continue
        candidates = [k for k in members
                      if table.cells[k].status in (SHOWN, ROUNDED) and (table.cells[k].value or 0) > 0]
        if candidates:
            smallest = min(candidates, key=lambda k: (not_none(table.cells[k].value), members.index(k)))
            table.cells[smallest].status = SECONDARY
            return True
    return False


def not_none(value: int | None) -> int:
    assert value is not None
    return value
