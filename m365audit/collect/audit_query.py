"""The Purview audit log query API: create a query, poll it, page its records.

One query is created per slice of the window (collect/audit_plan.py decides the
slices; collect/audit_run.py drives the queries and lands their records). This
module speaks to Graph only: POST with the version fallback, 429 answers to a
creation read as the tenant's query quota, status polls, and the records paged
to spool files of about ``chunk_bytes`` each, one auditLogRecord per line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from m365audit.collect.audit_plan import Slice, iso
from m365audit.collect.audit_settings import VERSIONS, AuditSettings
from m365audit.collect.graph import GraphClient, GraphResponseError
from m365audit.collect.responses import error_from_response, retry_after
from m365audit.errors import CollectionError

__all__ = ["QUERIES", "SOURCE", "AuditQueryRefused", "QueryApi", "QueryGone", "QuotaReached", "Slice",
           "display_name", "not_served"]

log = logging.getLogger("m365audit.collect")

SOURCE = "audit"
QUERIES = "/security/auditLog/queries"
DONE = "succeeded"
FAILED = ("failed", "cancelled")
QUOTA = "tenant audit query quota reached"
PREFETCH_PAGES = 4  # pages of a query fetched ahead of the spooling

# Answers that mean "this version does not serve the audit log query API" (not "your query is wrong").
_NOT_SERVED = re.compile(r"resource not found|no http resource|unsupported api version|"
                         r"api version .*not supported|is not supported in this api version", re.IGNORECASE)


class AuditQueryRefused(CollectionError):
    """Graph refused the query itself (a validation 400): no other slice or version would fare better."""


class QuotaReached(CollectionError):
    """429 to a creation: the tenant's audit query quota; ``until`` is when Graph said to try again."""

    def __init__(self, message: str, until: datetime | None) -> None:
        super().__init__(message)
        self.until = until


class QueryGone(CollectionError):
    """404 for a saved query: the service no longer knows its id."""


def display_name(piece: Slice) -> str:
    """A displayName unique to one intended query: how a run finds it again in the tenant's list."""
    return f"m365audit {piece.label()} #{uuid.uuid4().hex[:12]}"


def not_served(exc: GraphResponseError) -> bool:
    """404 / 405 / 501, or a 400 whose message says the resource is not found or unsupported."""
    if exc.status in (404, 405, 501):
        return True
    return exc.status == 400 and bool(_NOT_SERVED.search(exc.detail or exc.message))


class QueryApi:
    """Graph's side of the audit log queries of one run (the API version is settled by the first)."""

    def __init__(self, client: GraphClient, settings: AuditSettings, halted: Callable[[], str | None],
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.client = client
        self.settings = settings
        self.version = settings.version or VERSIONS[0]
        self.halted = halted  # why the run must stop now (time budget, signal), or None
        self.sleep = sleep
        self.settled = False
        self._probe = asyncio.Lock()  # the first creation settles the API version before the others
        self._refused: AuditQueryRefused | None = None

    # ----- creation -------------------------------------------------------------------
    async def create(self, piece: Slice, name: str) -> tuple[str, str]:
        """Create the slice's query with displayName ``name``; return its id and the API version that has it."""
        if self.settled:
            return await self._post(piece, name)
        async with self._probe:
            if self._refused is not None:
                raise self._refused  # the slices waiting behind a refused first query send nothing
            if self.settled:
                return await self._post(piece, name)
            try:
                created = await self._post(piece, name)
            except AuditQueryRefused as exc:
                self._refused = exc
                raise
            self.settled = True
            return created

    def body(self, piece: Slice, name: str) -> dict[str, Any]:
        return {
            "@odata.type": "#microsoft.graph.security.auditLogQuery",
            "displayName": name,
            "filterStartDateTime": iso(piece.start),
            "filterEndDateTime": iso(piece.end),
            "recordTypeFilters": list(self.settings.record_types),
            **self.settings.query_filters,
        }

    async def _post(self, piece: Slice, name: str) -> tuple[str, str]:
        body = self.body(piece, name)
        version = self.version
        try:
            response = await self._send(body, version)
        except GraphResponseError as exc:
            # The API has moved between v1.0 and beta (back to beta in 2025, MC1052169). Until one
            # version has answered in this run, an answer that says the path is not served there
            # moves to the other version; any other error, a validation 400 above all, does not.
            if self.settled or not not_served(exc):
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
        """POST; a 429 (the tenant's query quota) is waited out only when Retry-After fits the run."""
        while True:
            try:
                response = await self.client.request("POST", QUERIES, json_body=body, version=version,
                                                     ok_statuses=(429,))
            except GraphResponseError as exc:
                if exc.status == 400 and not not_served(exc):
                    raise AuditQueryRefused(
                        f"Microsoft Graph refused the audit log query at {version} ({exc.detail}), so no audit "
                        "records were collected; check the audit settings and --scope.") from None
                raise
            if response.status_code != 429:
                return response
            wait = retry_after(response)
            until = datetime.now(UTC) + timedelta(seconds=wait) if wait is not None else None
            remaining = self.client.policy.remaining()
            fits = wait is not None and wait <= self.settings.quota_wait and (remaining is None or wait < remaining)
            detail = error_from_response(response, self.client.url(QUERIES, version)).detail
            after = f"; Graph asked to wait {wait:.0f} s" if wait is not None else ""
            if not fits or self.halted():
                raise QuotaReached(f"{QUOTA} ({detail}{after})", until)
            log.info("%s; waiting %.0f s as Graph asked", QUOTA, wait)
            await self.sleep(wait or 0.0)  # a run's sleep ends early on SIGINT / SIGTERM (audit_run.py)
            if self.halted():
                raise QuotaReached(f"{QUOTA} ({detail}{after})", until)

    # ----- the tenant's queries -----------------------------------------------------------
    async def listed(self, version: str) -> AsyncGenerator[dict[str, Any], None]:
        """Every auditLogQuery of the tenant ("List auditLogQueries"), page by page via @odata.nextLink.

        Microsoft documents no $filter for this list, so none is sent; the caller matches.
        """
        async for page in self.client.iter_pages(QUERIES, version=version):
            for query in page.data.get("value") or []:
                if isinstance(query, dict):
                    yield query

    # ----- polling and paging -----------------------------------------------------------
    async def status(self, query_id: str, version: str) -> dict[str, Any]:
        """One poll; 404 raises QueryGone."""
        try:
            return await self.client.get_json(f"{QUERIES}/{query_id}", version=version)
        except GraphResponseError as exc:
            if exc.status == 404:
                raise QueryGone("the service no longer knows the saved audit log query") from None
            raise

    async def page(self, query_id: str, version: str, folder: Path, name: str,
                   on_chunk: Callable[[Path, int], Awaitable[None]], progress: Any = None) -> int:
        """Page the records to spool files of about ``chunk_bytes``; each full file goes to ``on_chunk``.

        The next page is requested while this one is written (``_prefetch``), so Graph is
        never idle waiting for the spooling or the landing.
        """
        records = 0
        url = f"{QUERIES}/{query_id}/records"
        if self.settings.page_size:
            url += f"?$top={self.settings.page_size}"
        chunk, size, count, out = 0, 0, 0, None
        pages: asyncio.Queue[Any] = asyncio.Queue(maxsize=PREFETCH_PAGES)
        producer = asyncio.ensure_future(self._prefetch(url, version, pages))
        try:
            while (page := await pages.get()) is not None:
                if isinstance(page, BaseException):
                    raise page
                data = page.record_lines()  # the records' bytes as received, one a line
                if data is None:
                    raise CollectionError("an audit records page had no value list")
                if out is None:
                    chunk += 1
                    path = folder / f"{name}-{chunk}.ndjson"
                    out, size, count = path.open("wb"), 0, 0
                out.write(data)
                received = page.records
                size += len(data)
                count += received
                records += received
                if progress and received:
                    progress("audit records", received)
                if size >= self.settings.chunk_bytes:
                    out.close()
                    out = None
                    await on_chunk(path, count)
            if out is not None:
                out.close()
                out = None
                await on_chunk(path, count)
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await producer
            if out is not None:
                out.close()
        return records

    async def _prefetch(self, url: str, version: str, pages: asyncio.Queue[Any]) -> None:
        try:
            async for page in self.client.iter_pages(url, version=version):
                await pages.put(page)
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            await pages.put(exc)
            return
        await pages.put(None)


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CollectionError("Microsoft Graph sent unreadable JSON for an audit log query") from None
    if not isinstance(data, dict):
        raise CollectionError("Microsoft Graph sent an unexpected answer for an audit log query")
    return data
