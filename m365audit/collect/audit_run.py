"""Driving a run's audit queries: resume the saved ones, create what the plan needs within the
budget, poll, page, and land each query's records as they arrive.

Every query is recorded as an intent with a displayName unique to it before it is
POSTed, and takes its id the moment Graph gives it (each its own transaction), so a
kill in between leaves a name the next run finds in the tenant's list
(collect/audit_adopt.py) rather than a window to query twice. Its
records are landed chunk by chunk while the next pages and other queries are
fetched (``commit`` runs each transaction on a writer thread); the chunk that
finishes a query marks it landed in the same transaction. A query still running
when the run's time budget ends, or when SIGINT / SIGTERM asks the run to stop,
stays saved for the next run. A failed query, or one the service no longer knows
(404), is replaced by one new query, once per window per run; a query that hit
the record-count limit is split in two.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from m365audit.collect.audit_plan import AuditPlan, Budget, Slice, iso
from m365audit.collect.audit_query import (
    DONE,
    FAILED,
    AuditQueryRefused,
    QueryApi,
    QueryGone,
    QuotaReached,
    display_name,
)
from m365audit.collect.audit_settings import AuditSettings
from m365audit.collect.graph import GraphClient, GraphResponseError
from m365audit.collect.record_types import enum_members
from m365audit.errors import CollectionError
from m365audit.progress import Progress
from m365audit.store.audit import LandCounts, land_graph_spools
from m365audit.store.audit_queries import (
    INTENDED,
    SavedQuery,
    adopt_intent,
    drop_intent,
    save_created,
    set_polled,
    set_status,
)

log = logging.getLogger("m365audit.collect")
T = TypeVar("T")
Commit = Callable[[Callable[[Any], T]], Awaitable[T]]


@dataclass
class AuditFetch:
    """What the run's queries came to, by window."""

    window: Slice
    landed: list[Slice] = field(default_factory=list)  # windows whose records are committed (this run or before)
    pending: list[Slice] = field(default_factory=list)  # saved queries still to finish (next run)
    failures: list[tuple[Slice, str]] = field(default_factory=list)
    missing: list[Slice] = field(default_factory=list)  # not queried: the budget was spent
    counts: LandCounts = field(default_factory=LandCounts)
    queries: int = 0  # created in this run
    resumed: int = 0
    adopted: int = 0  # created by a stopped run before it saved the id, found by displayName
    splits: int = 0
    replaced: int = 0
    version: str = "v1.0"
    quota: str | None = None  # the tenant's 429 message
    frees_at: datetime | None = None  # when the budget allows the next submission
    halted: str | None = None  # the time budget or the signal that ended the run early
    land_seconds: float = 0.0  # time in landing transactions (on the writer thread, overlapping the fetch)


def window_label(piece: Slice) -> str:
    """A window as progress names it: its UTC date when it is one whole day, else an ISO 8601 interval."""
    start, end = piece.start.astimezone(UTC), piece.end.astimezone(UTC)
    if start.time() == end.time() == datetime.min.time() and (end - start).days == 1:
        return start.date().isoformat()
    return f"{iso(start)}/{iso(end)}"


class AuditRun:
    def __init__(self, client: GraphClient, settings: AuditSettings, *, commit: Commit[Any], folder: Path,
                 run_id: str, budget: Budget, keep_sql: str | None, key: tuple[str, str],
                 progress: Progress | None = None, stop: asyncio.Event | None = None) -> None:
        self.client, self.settings, self.commit, self.folder = client, settings, commit, folder
        self.run_id, self.budget, self.keep_sql, self.key = run_id, budget, keep_sql, key
        self.progress = progress or Progress("collect")
        self._windows = [0, 0]  # windows landed in this run, windows to follow (progress)
        self.stop = stop or asyncio.Event()
        self.api = QueryApi(client, settings, self.halted, sleep=self._pause)
        self._paging = asyncio.Semaphore(settings.concurrency)
        self._slots = asyncio.Condition()
        self._replaced: set[Slice] = set()
        self._polls: dict[str, tuple[str, datetime]] = {}
        self._names = 0
        self.land_seconds = 0.0
        members = enum_members()
        self._types = {t: members[t] for t in settings.record_types if t in members}

    def halted(self) -> str | None:
        if self.stop.is_set():
            return "stopped by a signal"
        remaining = self.client.policy.remaining()
        if remaining is not None and remaining <= 0:
            return "the run's time budget ran out"
        return None

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds`` (a quota's Retry-After), or less when the run is asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)

    async def run(self, plan: AuditPlan) -> AuditFetch:
        result = AuditFetch(plan.window, landed=list(plan.landed), version=self.api.version)
        result.resumed = len(plan.resume)
        jobs = [self._follow(q, result) for q in plan.resume] + [self._new(s, result) for s in plan.create]
        self._count_windows(planned=len(jobs))
        await asyncio.gather(*jobs)
        self._windows_ended(result)
        if self._polls:
            polls = [(k, status, at) for k, (status, at) in self._polls.items()]
            await self.commit(lambda con: set_polled(con, polls))
        result.version = self.api.version
        for items in (result.landed, result.pending, result.failures, result.missing):
            items.sort()
        result.frees_at = self.budget.frees_at(datetime.now(UTC))
        result.land_seconds = round(self.land_seconds, 1)
        return result

    # ----- creating -------------------------------------------------------------------
    async def _new(self, piece: Slice, result: AuditFetch) -> None:
        query = await self._create(piece, result)
        if query is not None:
            await self._follow(query, result)

    async def _create(self, piece: Slice, result: AuditFetch) -> SavedQuery | None:
        """Create and save a query for ``piece`` when the budget allows; None when it does not."""
        async with self._slots:
            while self.budget.running >= self.budget.running_max and not self.halted():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._slots.wait(), timeout=1.0)
            now = datetime.now(UTC)
            if self.halted() or result.quota or self.budget.left(now) <= 0:
                result.missing.append(piece)
                return None
            self.budget.spend(now)
        name = display_name(piece)
        intent = SavedQuery(name, self.api.version, piece.start, piece.end, self.key[0], self.key[1],
                            datetime.now(UTC), INTENDED, run_id=self.run_id, display_name=name)
        # Committed before the POST: a kill after Graph accepts the query leaves its name to look up.
        await self.commit(lambda con: save_created(con, intent))
        try:
            query_id, version = await self.api.create(piece, name)
        except QuotaReached as exc:
            await self.commit(lambda con: drop_intent(con, name))
            self._release()
            result.quota, self.budget.quota_until = exc.message, exc.until
            result.missing.append(piece)
            return None
        except AuditQueryRefused:
            await self.commit(lambda con: drop_intent(con, name))
            raise
        except CollectionError as exc:
            if isinstance(exc, GraphResponseError) and 400 <= exc.status < 500 and exc.status != 408:
                await self.commit(lambda con: drop_intent(con, name))  # refused: nothing was created
            # Otherwise (a lost connection, a 5xx) Graph may have created it: the next run looks the name up.
            self._release()
            result.failures.append((piece, exc.message.rstrip(".")))
            return None
        result.queries += 1
        await self.commit(lambda con: adopt_intent(con, name, query_id, version))
        return replace(intent, query_id=query_id, api_version=version, status="created")

    def _release(self) -> None:
        self.budget.running = max(0, self.budget.running - 1)

    async def _finished(self) -> None:
        async with self._slots:
            self._release()
            self._slots.notify_all()

    # ----- following a query to its end -----------------------------------------------------
    async def _follow(self, query: SavedQuery, result: AuditFetch) -> None:
        piece = Slice(query.start, query.end)
        live = query.live  # counted among the running queries until it ends
        try:
            status = await self._wait(query)
        except QueryGone as exc:
            await self._mark(query, "gone", exc.message)
            if live:
                await self._finished()
            await self._replace(piece, result, "the service no longer knew its query")
            return
        except CollectionError as exc:
            result.failures.append((piece, exc.message.rstrip(".")))
            return
        if status is None:  # still running: the next run picks it up
            result.pending.append(piece)
            return
        state = str(status.get("status") or "")
        if live:
            await self._finished()
        if state in FAILED:
            await self._mark(query, state, f"the audit log query {state}")
            await self._replace(piece, result, f"the audit log query {state}")
        elif status.get("isRecordCountLimitExceeded") is True:
            await self._split(query, piece, result)
        else:
            await self._mark(query, DONE)  # saved as succeeded before paging: the next run pages it again
            await self._land(query, piece, result)

    async def _wait(self, query: SavedQuery) -> dict[str, Any] | None:
        """Poll until the query has ended; None when the run must leave it running."""
        delay, started = self.settings.poll_initial, time.monotonic()
        while True:
            data = await self.api.status(query.query_id, query.api_version)
            state = str(data.get("status") or "").strip()
            self._polls[query.query_id] = (state or query.status, datetime.now(UTC))
            self._window(Slice(query.start, query.end)).advance("audit records", query=state or query.status)
            if state == DONE or state in FAILED:
                return data
            remaining = self.client.policy.remaining()
            if (self.halted() or (remaining is not None and delay > remaining)
                    or time.monotonic() - started + delay > self.settings.query_timeout):
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=delay)
            delay = min(delay * 1.5, self.settings.poll_max)

    async def _replace(self, piece: Slice, result: AuditFetch, why: str) -> None:
        if piece in self._replaced or self.halted():
            result.failures.append((piece, why))
            return
        self._replaced.add(piece)
        result.replaced += 1
        await self._new(piece, result)

    async def _split(self, query: SavedQuery, piece: Slice, result: AuditFetch) -> None:
        if piece.length <= self.settings.min_slice:
            await self._mark(query, "failed", "more records than one query may return")
            result.failures.append((piece, "more records than one query may return, even for the shortest slice"))
            return
        await self._mark(query, "split", "isRecordCountLimitExceeded")
        result.splits += 1
        self._window(piece).finish("audit records", status="split")
        self._count_windows(planned=1)  # one window became two
        await asyncio.gather(*(self._new(half, result) for half in piece.halves()))

    async def _mark(self, query: SavedQuery, status: str, problem: str | None = None) -> None:
        self._polls.pop(query.query_id, None)
        await self.commit(lambda con: set_status(con, query.query_id, status, problem=problem,
                                                 polled=datetime.now(UTC)))

    # ----- paging and landing ---------------------------------------------------------------
    async def _land(self, query: SavedQuery, piece: Slice, result: AuditFetch) -> None:
        """Page the records; each chunk lands in its own transaction, the last one marks the query landed."""
        self._names += 1
        name = f"audit-{self._names}"
        landed: list[Any] = []  # pending chunk commits, in order
        counts: list[LandCounts] = []
        total = 0

        async def on_chunk(path: Path, count: int) -> None:
            await self._drain(landed, counts, keep=3)  # chunks land while the next pages arrive
            landed.append(asyncio.ensure_future(self._land_chunk(path)))

        try:
            async with self._paging:
                total = await self.api.page(query.query_id, query.api_version, self.folder, name, on_chunk,
                                            self._paging_progress(piece))
            await self._drain(landed, counts, keep=0)
        except CollectionError as exc:
            await self._drain(landed, counts, keep=0, quiet=True)
            if self.halted():
                result.pending.append(piece)
            else:
                result.failures.append((piece, f"paging its records failed: {exc.message.rstrip('.')}"))
            return
        for part in counts:
            result.counts.add(part)
        self._polls.pop(query.query_id, None)
        await self.commit(lambda con: set_status(con, query.query_id, "landed", records=total,
                                                 landed_run_id=self.run_id, polled=datetime.now(UTC)))
        result.landed.append(piece)
        self._window(piece).finish("audit records", count=total, query="landed")
        self._count_windows(landed=1)

    async def _land_chunk(self, path: Path) -> LandCounts:
        def land(con: Any) -> LandCounts:
            started = time.monotonic()
            # One DuckDB thread: the landing overlaps the fetch, which needs a core of its own.
            con.execute(f"SET threads = {self.settings.land_threads}")
            counts = land_graph_spools(con, [path], run_id=self.run_id, keep_sql=self.keep_sql,
                                       record_types=self._types)
            self.land_seconds += time.monotonic() - started
            return counts

        try:
            counts: LandCounts = await self.commit(land)
            return counts
        finally:
            path.unlink(missing_ok=True)

    # ----- progress: per window, and the source's windows landed -----------------------------
    def _window(self, piece: Slice) -> Progress:
        return self.progress.within(window=window_label(piece))

    def _paging_progress(self, piece: Slice) -> Callable[[str, int], None]:
        window = self._window(piece)

        def received(label: str, n: int) -> None:
            window.advance(label, n, query="paging")
            self.progress.advance("audit", n)
        return received

    def _count_windows(self, planned: int = 0, landed: int = 0) -> None:
        self._windows[0] += landed
        self._windows[1] += planned
        self.progress.advance("audit", windows_landed=self._windows[0], windows=self._windows[1])

    def _windows_ended(self, result: AuditFetch) -> None:
        """The windows that did not land in this run end as failed, pending (next run) or not queried."""
        ended = ([(piece, "failed") for piece, _ in result.failures] + [(p, "pending") for p in result.pending]
                 + [(p, "not queried") for p in result.missing])
        for piece, status in ended:
            self._window(piece).finish("audit records", status=status)

    @staticmethod
    async def _drain(pending: list[Any], done: list[LandCounts], *, keep: int, quiet: bool = False) -> None:
        while len(pending) > keep:
            future = pending.pop(0)
            try:
                done.append(await future)
            except Exception:
                if not quiet:
                    raise
