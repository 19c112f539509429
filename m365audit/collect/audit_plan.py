"""Which audit queries a collection needs: saved queries to resume, windows to query, the budget.

A window is covered by a saved query with the same record types and filters that
is still live or succeeded (the run resumes it), or that landed recently enough to
trust: either after the window's late-arrival overlap had passed, or less than
``requery_after`` ago (a rerun after a stop or a kill). What is left is cut into
slices: as wide as ``slice`` (one query for a long quiet window), narrower only where
landed queries show more records per hour than ``records_per_query`` allows. A query
that reports isRecordCountLimitExceeded is split in two (audit_query.py).

The budget is the tenant's, shared with other tools and organisations: at most
``daily_queries`` submissions in any rolling 24 hours and ``running_queries`` at once,
both counted from the saved queries (store/audit_queries.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from m365audit.collect.audit_settings import AuditSettings
from m365audit.store.audit_queries import SavedQuery, Usage


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{ts.microsecond:06d}Z" if ts.microsecond else "Z")


@dataclass(frozen=True, order=True)
class Slice:
    start: datetime
    end: datetime

    def label(self) -> str:
        return f"{iso(self.start)} to {iso(self.end)}"

    def halves(self) -> tuple[Slice, Slice]:
        middle = self.start + (self.end - self.start) / 2
        return Slice(self.start, middle), Slice(middle, self.end)

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Slice) -> bool:
        return self.start < other.end and other.start < self.end


def subtract(window: Slice, covered: list[Slice]) -> list[Slice]:
    """The parts of ``window`` that no slice of ``covered`` covers."""
    gaps, start = [], window.start
    for piece in sorted(covered):
        if piece.end <= start or piece.start >= window.end:
            continue
        if piece.start > start:
            gaps.append(Slice(start, piece.start))
        start = max(start, piece.end)
    if start < window.end:
        gaps.append(Slice(start, window.end))
    return gaps


def merge(pieces: list[Slice]) -> list[Slice]:
    out: list[Slice] = []
    for piece in sorted(pieces):
        if out and piece.start <= out[-1].end:
            out[-1] = Slice(out[-1].start, max(out[-1].end, piece.end))
        else:
            out.append(piece)
    return out


def cut(gap: Slice, width: timedelta) -> list[Slice]:
    """``gap`` in equal slices no wider than ``width``."""
    count = max(1, -(-gap.length // width))  # ceiling division of timedeltas
    step = gap.length / count
    edges = [gap.start + step * i for i in range(count)] + [gap.end]
    return [Slice(a, b) for a, b in zip(edges, edges[1:], strict=False)]


def trusted(query: SavedQuery, now: datetime, settings: AuditSettings) -> bool:
    """A landed query whose window needs no new query: settled, or landed moments ago."""
    return query.status == "landed" and (query.created_at >= query.end + settings.overlap
                                         or query.created_at >= now - settings.requery_after)


def slice_width(settings: AuditSettings, saved: list[SavedQuery]) -> timedelta:
    """As wide as allowed, narrower where landed queries saw many records an hour."""
    landed = [q for q in saved if q.status == "landed" and q.records_fetched > 0]
    hours = sum((q.end - q.start).total_seconds() for q in landed) / 3600
    if not landed or hours <= 0:
        return settings.slice
    per_hour = sum(q.records_fetched for q in landed) / hours
    width = timedelta(hours=settings.records_per_query / per_hour)
    return max(settings.min_slice, min(settings.slice, width))


@dataclass
class Budget:
    """Query submissions left in the rolling 24 hours, and running slots."""

    daily: int
    running_max: int
    submitted: list[datetime]
    running: int
    quota_until: datetime | None = None  # the tenant answered 429 to a creation: no more until then

    @classmethod
    def from_usage(cls, settings: AuditSettings, usage: Usage) -> Budget:
        return cls(settings.daily_queries, settings.running_queries, list(usage.submitted), usage.running)

    def left(self, now: datetime) -> int:
        recent = [t for t in self.submitted if t > now - timedelta(hours=24)]
        return max(0, self.daily - len(recent))

    def frees_at(self, now: datetime) -> datetime | None:
        """When the next submission becomes available again (None: one is available now)."""
        if self.quota_until is not None and self.quota_until > now:
            return self.quota_until
        if self.left(now) > 0:
            return None
        recent = sorted(t for t in self.submitted if t > now - timedelta(hours=24))
        return recent[len(recent) - self.daily] + timedelta(hours=24)

    def spend(self, now: datetime) -> None:
        self.submitted.append(now)
        self.running += 1


@dataclass
class AuditPlan:
    window: Slice
    resume: list[SavedQuery] = field(default_factory=list)  # live or succeeded: poll, page, land
    landed: list[Slice] = field(default_factory=list)  # trusted landed windows: nothing to do
    create: list[Slice] = field(default_factory=list)  # new queries (before any split)
    width: timedelta = timedelta(days=30)


def plan(window: Slice, saved: list[SavedQuery], settings: AuditSettings, now: datetime) -> AuditPlan:
    resume = [q for q in saved if q.status in ("created", "notStarted", "running", "succeeded")
              and Slice(q.start, q.end).overlaps(window)]
    landed = merge([Slice(q.start, q.end) for q in saved if trusted(q, now, settings)
                    and Slice(q.start, q.end).overlaps(window)])
    covered = [Slice(q.start, q.end) for q in resume] + landed
    width = slice_width(settings, saved)
    create = [piece for gap in subtract(window, covered) for piece in cut(gap, width)]
    return AuditPlan(window, resume, landed, create, width)
