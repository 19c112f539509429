"""Fetching AI interaction records from the Purview audit log query API.

The collection window runs from the watermark minus an overlap (records
arrive hours or days late) to now, unless ``--since/--until`` say otherwise.
It is cut into slices (one day by default) fetched concurrently: per slice
one query is created, polled with backoff until it has succeeded, and its
records are paged and spooled raw, one record per line. A slice whose query
hit the record-count limit is split in two and fetched again. A slice that
fails is reported by its time range; the records of the other slices are
loaded, and the watermark stops at the start of the first failed slice, so
the next run fetches the gap again. Loading deduplicates by record id.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from m365audit.collect.audit_settings import AuditSettings
from m365audit.collect.graph import GraphClient, GraphResponseError
from m365audit.errors import CollectionError

log = logging.getLogger("m365audit.collect")

SOURCE = "audit"
QUERIES = "/security/auditLog/queries"
_DONE = "succeeded"
_FAILED = ("failed", "cancelled")


# Answers that mean "this version does not serve the audit log query API" (not "your query is wrong").
_NOT_SERVED = re.compile(r"resource not found|no http resource|unsupported api version|"
                         r"api version .*not supported|is not supported in this api version", re.IGNORECASE)


class AuditQueryRefused(CollectionError):
    """Graph refused the query itself (a validation 400): no other slice or version would fare better."""


def not_served(exc: GraphResponseError) -> bool:
    """404 / 405 / 501, or a 400 whose message says the resource is not found or unsupported."""
    if exc.status in (404, 405, 501):
        return True
    return exc.status == 400 and bool(_NOT_SERVED.search(exc.detail or exc.message))


@dataclass(frozen=True, order=True)
class Slice:
    start: datetime
    end: datetime

    def label(self) -> str:
        return f"{_iso(self.start)} to {_iso(self.end)}"

    def halves(self) -> tuple[Slice, Slice]:
        middle = self.start + (self.end - self.start) / 2
        return Slice(self.start, middle), Slice(middle, self.end)


@dataclass
class AuditFetch:
    """What the fetch produced: spooled slices, failures, and the figures for the run record."""

    window: Slice
    spools: list[tuple[Slice, Path]] = field(default_factory=list)
    failures: list[tuple[Slice, str]] = field(default_factory=list)
    queries: int = 0
    splits: int = 0
    records: int = 0
    version: str = "v1.0"


class AuditCollector:
    def __init__(self, client: GraphClient, settings: AuditSettings, folder: Path,
                 progress: Any = None) -> None:
        self.client = client
        self.settings = settings
        self.folder = folder
        self.progress = progress
        self.version = settings.version
        self._semaphore = asyncio.Semaphore(settings.concurrency)
        self._probe = asyncio.Lock()  # the first query settles the API version before the others
        self._version_settled = False
        self._refused: AuditQueryRefused | None = None
        self._count = 0

    async def fetch(self, window: Slice) -> AuditFetch:
        result = AuditFetch(window, version=self.version)
        await asyncio.gather(*(self._run(s, result) for s in _cut(window, self.settings.slice)))
        result.version = self.version
        result.spools.sort()
        result.failures.sort()
        return result

    async def _run(self, piece: Slice, result: AuditFetch) -> None:
        async with self._semaphore:
            outcome = await self._fetch_slice(piece, result)
        if outcome is not None:  # the query hit its record-count limit: fetch each half
            result.splits += 1
            await asyncio.gather(*(self._run(half, result) for half in outcome))

    async def _fetch_slice(self, piece: Slice, result: AuditFetch) -> tuple[Slice, Slice] | None:
        try:
            query, version = await self._create(piece)
            result.queries += 1
            status = await self._wait(query, version)
            if status.get("isRecordCountLimitExceeded") is True:
                if piece.end - piece.start <= self.settings.min_slice:
                    raise CollectionError("more records than one query may return, even for the shortest slice")
                return piece.halves()
            path = self.folder / f"audit-{self._next()}.ndjson"
            result.records += await self._page(query, version, path)
            result.spools.append((piece, path))
        except AuditQueryRefused:
            raise  # the same query would be refused for every slice: stop, with Graph's message
        except CollectionError as exc:
            log.info("audit slice %s failed: %s", piece.label(), exc.message)  # reported at the end
            result.failures.append((piece, exc.message.rstrip(".")))
        return None

    def _next(self) -> int:
        self._count += 1
        return self._count

    async def _create(self, piece: Slice) -> tuple[str, str]:
        """Create the slice's query; return its id and the API version that has it."""
        if self._version_settled:
            return await self._post(piece)
        async with self._probe:
            if self._refused is not None:
                raise self._refused  # the slices waiting behind a refused first query send nothing
            if self._version_settled:
                return await self._post(piece)
            try:
                created = await self._post(piece)
            except AuditQueryRefused as exc:
                self._refused = exc
                raise
            self._version_settled = True
            return created

    async def _post(self, piece: Slice) -> tuple[str, str]:
        body = {
            "@odata.type": "#microsoft.graph.security.auditLogQuery",
            "displayName": f"m365audit {piece.label()}",
            "filterStartDateTime": _iso(piece.start),
            "filterEndDateTime": _iso(piece.end),
            "recordTypeFilters": list(self.settings.record_types),
            **self.settings.query_filters,
        }
        version = self.version
        try:
            response = await self._send(body, version)
        except GraphResponseError as exc:
            # The API has moved between v1.0 and beta (back to beta in 2025, MC1052169). Until one
            # version has answered in this run, an answer that says the path is not served there
            # moves to the other version; any other error, a validation 400 above all, does not.
            if self._version_settled or not not_served(exc):
                raise
            other = "beta" if version == "v1.0" else "v1.0"
            log.info("audit log query API not available at %s (%s); trying %s", version, exc.status, other)
            self.version = version = other
            response = await self._send(body, version)
        query_id = _json(response.content).get("id")
        if not isinstance(query_id, str) or not query_id:
            raise CollectionError("the audit log query was created without an id")
        return query_id, version

    async def _send(self, body: dict[str, Any], version: str) -> Any:
        try:
            return await self.client.request("POST", QUERIES, json_body=body, version=version)
        except GraphResponseError as exc:
            if exc.status == 400 and not not_served(exc):
                raise AuditQueryRefused(
                    f"Microsoft Graph refused the audit log query at {version} ({exc.detail}), so no audit "
                    "records were collected; check the audit settings and --scope.") from None
            raise

    async def _wait(self, query_id: str, version: str) -> dict[str, Any]:
        """Poll until the query has succeeded; unknown statuses count as still running."""
        settings = self.settings
        delay = settings.poll_initial
        started = time.monotonic()
        while True:
            data = await self.client.get_json(f"{QUERIES}/{query_id}", version=version)
            status = str(data.get("status") or "").strip()
            if status == _DONE:
                return data
            if status in _FAILED:
                raise CollectionError(f"the audit log query {status}")
            waited = time.monotonic() - started
            if waited + delay > settings.query_timeout:
                raise CollectionError(f"the audit log query had not finished after {settings.query_timeout:.0f} s")
            remaining = self.client.policy.remaining()
            if remaining is not None and delay > remaining:
                raise CollectionError("the run's time budget ran out while waiting for the audit log query")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, settings.poll_max)

    async def _page(self, query_id: str, version: str, path: Path) -> int:
        """Page the records to ``path``, one auditLogRecord per line, as received."""
        records = 0
        url = f"{QUERIES}/{query_id}/records"
        if self.settings.page_size:
            url += f"?$top={self.settings.page_size}"
        with path.open("wb") as out:
            async for page in self.client.iter_pages(url, version=version):
                value = page.data.get("value")
                if not isinstance(value, list):
                    raise CollectionError("an audit records page had no value list")
                out.write(b"".join(orjson.dumps(r) + b"\n" for r in value if isinstance(r, dict)))
                records += len(value)
                if self.progress and value:
                    self.progress("audit records", len(value))
        return records


def _cut(window: Slice, width: timedelta) -> list[Slice]:
    slices = []
    start = window.start
    while start < window.end:
        end = min(start + width, window.end)
        slices.append(Slice(start, end))
        start = end
    return slices


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{ts.microsecond:06d}Z" if ts.microsecond else "Z")


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CollectionError("Microsoft Graph sent unreadable JSON for an audit log query") from None
    if not isinstance(data, dict):
        raise CollectionError("Microsoft Graph sent an unexpected answer for an audit log query")
    return data
