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
   or, when every part is withheld, the total. When nothing is left to
   withhold (a total of "<5" split over named rows that each show "<5"), the
   cell is reported as exposed and the caller combines rows (answer.py merges
   such departments into one unnamed row).

The audit models what the published rules tell an attacker: a lone "<5" in
a row is 1 to 4; where a row has several, any of them may be 0 but not all;
a "[c]" is at least the threshold (it was chosen from published counts); a
rounded total lies within half a rounding base. It also assumes the attacker
knows every relation between cells, including consumedUnits equalling the
number of licensed users when it does.
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
    exposed: tuple[str, ...] = ()  # non-zero withheld counts that withholding more could not protect


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
    given_up: list[str] = []
    while (pinned := _first_pinned(table, threshold, cap, set(given_up))) is not None:
        if not _withhold_next(table, pinned):
            # Every other cell of its relations is withheld or zero already; the caller may combine rows.
            given_up.append(pinned)
    counts = {s: sum(c.status == s for c in table.cells.values()) for s in (PRIMARY, SECONDARY, ROUNDED)}
    exposed = tuple(k for k in given_up if table.cells[k].value)
    return Outcome(method, counts[PRIMARY], counts[SECONDARY], counts[ROUNDED], exposed)


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
    shared = _sharing_rows(table)
    bounds = {k: _known(c, threshold, cap, k in shared) for k, c in table.cells.items() if c.value is not None}
    relations = [[(k, 1) for k in left] + [(k, -1) for k in right] for left, right in table.relations
                 if all(k in bounds for k in left + right)]
    for _ in range(100):  # propagation reaches its fixed point in a few rounds on FOI-sized tables
        changed = False
        for terms in relations:
            for i, (key, sign) in enumerate(terms):
                lo = sum(bounds[k][0] if s > 0 else -bounds[k][1] for j, (k, s) in enumerate(terms) if j != i)
                hi = sum(bounds[k][1] if s > 0 else -bounds[k][0] for j, (k, s) in enumerate(terms) if j != i)
                changed |= _narrow(bounds, key, (-hi, -lo) if sign > 0 else (lo, hi))
        changed |= _some_withheld_count_is_not_zero(table, bounds)
        if not changed:
            break
    return bounds


def _narrow(bounds: dict[str, tuple[int, int]], key: str, new: tuple[int, int]) -> bool:
    old = bounds[key]
    narrowed = (max(old[0], new[0]), min(old[1], new[1]))
    bounds[key] = narrowed
    return narrowed != old


def _sharing_rows(table: Table) -> set[str]:
    """Primary cells in a row with another primary cell: any of them may be a withheld zero."""
    shared: set[str] = set()
    for row in table.rows:
        withheld = [k for k in row if table.cells[k].status == PRIMARY]
        if len(withheld) > 1:
            shared.update(withheld)
    return shared


def _some_withheld_count_is_not_zero(table: Table, bounds: dict[str, tuple[int, int]]) -> bool:
    """A zero is withheld only beside a count of 1 or more: when all but one withheld cell of a row
    must be zero, the last is at least 1."""
    changed = False
    for row in table.rows:
        withheld = [k for k in row if table.cells[k].status == PRIMARY and k in bounds]
        open_ = [k for k in withheld if bounds[k][1] > 0]
        if len(withheld) > 1 and len(open_) == 1:
            changed |= _narrow(bounds, open_[0], (1, bounds[open_[0]][1]))
    return changed


def _known(cell: Cell, threshold: int, cap: int, may_be_zero: bool) -> tuple[int, int]:
    assert cell.value is not None
    if cell.status == PRIMARY:
        return (0 if may_be_zero or cell.value == 0 else 1, threshold - 1)
    if cell.status == SECONDARY:
        return (threshold, cap)
    if cell.status == ROUNDED:
        r = rounded(cell.value, threshold)
        return (max(threshold, r - threshold), r + threshold - 1)
    return (cell.value, cell.value)


def _first_pinned(table: Table, threshold: int, cap: int, skip: set[str]) -> str | None:
    bounds = intervals(table, threshold, cap)
    for key, cell in table.cells.items():
        if cell.status == PRIMARY and key in bounds and key not in skip and bounds[key][0] >= bounds[key][1]:
            return key
    return None


def _withhold_next(table: Table, pinned: str) -> bool:
    """Withhold the smallest published non-zero cell sharing a relation with ``pinned``; when its
    relations have none left, look one relation further out (through the withheld cells of those
    relations, e.g. a withheld total that another published total equals)."""
    reached, frontier, seen = {pinned}, {pinned}, set()
    while frontier:
        nearby = [i for i, (left, right) in enumerate(table.relations)
                  if i not in seen and frontier & set(left + right)]
        candidates: list[tuple[int, int, str]] = []
        frontier = set()
        for i in nearby:
            seen.add(i)
            members = table.relations[i][0] + table.relations[i][1]
            for position, k in enumerate(members):
                cell = table.cells[k]
                if cell.status in (SHOWN, ROUNDED) and (cell.value or 0) > 0:
                    candidates.append((not_none(cell.value), position, k))
                elif cell.status in (PRIMARY, SECONDARY) and k not in reached:
                    reached.add(k)
                    frontier.add(k)
        if candidates:
            table.cells[min(candidates)[2]].status = SECONDARY
            return True
    return False


def not_none(value: int | None) -> int:
    assert value is not None
    return value
