"""Raw access to Microsoft Graph through msgraph-sdk's request adapter.

Every request goes through the SDK's adapter, so authentication, the Graph
middleware (retry, redirect, telemetry) and national-cloud settings apply,
but responses come back as raw bytes: bulk collections are parsed by DuckDB
in batches, never record by record into typed models (DESIGN.md measured a
100x gap). The SDK's own retry handler is switched off per request and
this layer does all retrying, so one policy governs it: the SDK's handler
gives up on Retry-After values of 180 s or more, cannot see the run's time
budget, and would multiply attempts with ours. This layer honours any
Retry-After that fits the budget, backs off with jitter on 5xx and dropped
connections, refreshes the token once on 401, and keeps to the budget.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from kiota_abstractions.method import Method
from kiota_abstractions.native_response_handler import NativeResponseHandler
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RedirectHandlerOption, RetryHandlerOption
from kiota_http.middleware.options.response_handler_option import ResponseHandlerOption
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph_core import GraphClientFactory

from m365audit.collect.pages import Page
from m365audit.collect.responses import (
    GraphResponseError,
    describe_auth_failure,
    describe_transport,
    error_from_response,
    is_json,
    retry_after,
    url_path,
)
from m365audit.errors import CollectionError, UsageError
from m365audit.permissions import PERMISSIONS as PERMISSIONS  # re-exported for older callers

__all__ = ["GraphClient", "GraphResponseError", "GraphTarget", "Page", "RetryPolicy", "parse_graph_url"]

log = logging.getLogger("m365audit.collect")

DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
_LOOPBACK_NAMES = {"localhost"}

@dataclass(frozen=True)
class GraphTarget:
    """A validated Graph root such as https://graph.microsoft.com/v1.0."""

    scheme: str
    host: str  # hostname[:port]
    hostname: str
    version: str  # path after the host, e.g. v1.0

    @property
    def root(self) -> str:
        return f"{self.scheme}://{self.host}/{self.version}"

    def with_version(self, version: str) -> GraphTarget:
        return GraphTarget(self.scheme, self.host, self.hostname, version)

    @property
    def is_loopback(self) -> bool:
        return _is_loopback(self.hostname)

    @property
    def scope(self) -> str:
        # Entra ID issues Graph tokens for the cloud's own host; the simulated
        # tenant on loopback accepts any token, so ask for the global one there.
        if self.is_loopback:
            return "https://graph.microsoft.com/.default"
        return f"https://{self.hostname}/.default"


def _is_loopback(hostname: str) -> bool:
    if hostname in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def parse_graph_url(url: str) -> GraphTarget:
    """Validate ``--graph-url``: https anywhere, plain http only on loopback."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--graph-url {url!r} is not a URL like {DEFAULT_GRAPH_URL}.")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UsageError(
            f"--graph-url {url!r} uses plain http; that is allowed only for loopback addresses "
            "(the simulated tenant). Use https.")
    version = parts.path.strip("/")
    if version not in ("v1.0", "beta"):
        raise UsageError(f"--graph-url {url!r} must end in the API version, /v1.0 or /beta.")
    if parts.query or parts.fragment:
        raise UsageError(f"--graph-url {url!r} must not carry a query or fragment.")
    host = parts.netloc.rsplit("@", 1)[-1]
    return GraphTarget(parts.scheme, host, parts.hostname, version)


@dataclass
class RetryPolicy:
    """How hard to try before a collection step fails.

    ``max_attempts`` bounds tries after errors without a Retry-After;
    throttling answers that say how long to wait are honoured up to
    ``max_throttled`` times, because Graph asks for exactly that. Waits of any
    length are taken when they fit the run's budget; without a budget, waits
    over ``max_retry_after`` fail the step at once.
    """

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_throttled: int = 30
    max_retry_after: float = 900.0
    budget_seconds: float | None = None  # total time for the whole run
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    started: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def remaining(self) -> float | None:
        if self.budget_seconds is None:
            return None
        return self.budget_seconds - (self.clock() - self.started)

    def backoff(self, attempt: int) -> float:
        # Full jitter: spreads retries from concurrent slices apart.
        return random.uniform(0, min(self.max_delay, self.base_delay * (2 ** attempt)))


_RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))


@dataclass
class _Tries:
    """Counts for one request: errors, throttling waits, whether the token was refreshed."""

    errors: int = 0
    throttled: int = 0
    refreshed: bool = False


class GraphClient:
    """Raw Graph requests through msgraph-sdk's GraphRequestAdapter."""

    def __init__(self, credential: Any, target: GraphTarget, *,
                 policy: RetryPolicy | None = None, timeout: float = 120.0) -> None:
        self.credential = credential
        self.target = target
        self.policy = policy or RetryPolicy()
        auth = AzureIdentityAuthenticationProvider(
            credential, scopes=[target.scope], allowed_hosts=[target.hostname])
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=15.0),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
            follow_redirects=False,
        )
        self._http = GraphClientFactory.create_with_default_middleware(client=http)
        self.adapter = GraphRequestAdapter(auth, self._http)
        # No trailing slash: httpx would otherwise produce /v1.0//users.
        self.adapter.base_url = target.root
        self.requests = 0

    async def aclose(self) -> None:
        await self._http.aclose()
        close = getattr(self.credential, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def url(self, path_or_url: str, version: str | None = None) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        root = self.target.with_version(version).root if version else self.target.root
        return root + path_or_url

    async def _send_once(self, method: str, url: str, headers: dict[str, str] | None,
                         body: bytes | None, follow_redirects: bool) -> httpx.Response:
        info = RequestInformation()
        info.http_method = Method(method)
        info.url = url
        info.headers.try_add("Accept", "application/json")
        for key, value in (headers or {}).items():
            info.headers.try_add(key, value)
        if body is not None:
            info.content = body
            info.headers.try_add("Content-Type", "application/json")
        # The SDK's retry handler is off: this class retries (see the module docstring).
        options: list[Any] = [ResponseHandlerOption(NativeResponseHandler()),
                              RetryHandlerOption(delay=0, max_retries=0, should_retry=False)]
        if not follow_redirects:
            options.append(RedirectHandlerOption(should_redirect=False))
        info.add_request_options(options)
        self.requests += 1
        response = await self.adapter.send_primitive_async(info, "bytes", None)
        if not isinstance(response, httpx.Response):
            raise CollectionError(f"Microsoft Graph gave no response for {url_path(url)}.")
        await response.aread()
        return response

    async def request(self, method: str, path_or_url: str, *, headers: dict[str, str] | None = None,
                      json_body: Any = None, follow_redirects: bool = True,
                      ok_statuses: tuple[int, ...] = (), version: str | None = None) -> httpx.Response:
        """Send one request with the retry policy; return a 2xx (or ``ok_statuses``) response."""
        url = self.url(path_or_url, version)
        body = orjson.dumps(json_body) if json_body is not None else None
        tries = _Tries()
        while True:
            self._check_budget(url)
            try:
                response = await self._send_once(method, url, headers, body, follow_redirects)
            except (httpx.TransportError, httpx.StreamError) as exc:
                # Connection refused, reset mid-body, timeouts: worth another try.
                tries.errors += 1
                if tries.errors >= self.policy.max_attempts:
                    raise CollectionError(
                        f"Cannot reach Microsoft Graph at {self.target.root}: {describe_transport(exc)}."
                    ) from None
                await self._sleep(self.policy.backoff(tries.errors), url)
                continue
            except CollectionError:
                raise
            except Exception as exc:  # credential failures surface from the auth provider
                raise CollectionError(describe_auth_failure(exc)) from None
            if response.status_code < 300 or response.status_code in ok_statuses:
                return response
            wait = self._retry_wait(response, url, tries)
            if wait is None:
                raise error_from_response(response, url)
            await self._sleep(wait, url)

    def _retry_wait(self, response: httpx.Response, url: str, tries: _Tries) -> float | None:
        """Seconds to wait before trying again, or None when the error is final."""
        status = response.status_code
        if status == 401:
            if tries.refreshed:
                return None
            tries.refreshed = True
            self._refresh_credential()
            return 0.0
        if status not in _RETRY_STATUSES:
            return None
        asked = retry_after(response)
        if asked is not None and status in (429, 503):
            tries.throttled += 1
            if tries.throttled > self.policy.max_throttled:
                return None
            if self.policy.budget_seconds is None and asked > self.policy.max_retry_after:
                raise GraphResponseError(
                    f"Microsoft Graph asked to wait {asked:.0f} s before retrying {url_path(url)}, "
                    f"longer than the {self.policy.max_retry_after:.0f} s allowed without a time "
                    "budget; try again later or set a budget.", status, "TooManyRequests")
            return asked
        tries.errors += 1
        if tries.errors >= self.policy.max_attempts:
            return None
        return asked if asked is not None else self.policy.backoff(tries.errors)

    def _refresh_credential(self) -> None:
        refresh = getattr(self.credential, "refresh", None)
        if refresh is None:
            return  # azure-identity credentials renew expired tokens on the next get_token
        try:
            refresh()
        except Exception:  # noqa: BLE001 - keep the original 401 as the story
            log.debug("token refresh failed")

    async def get_json(self, path_or_url: str, *, headers: dict[str, str] | None = None,
                       version: str | None = None) -> dict[str, Any]:
        page = await self.get_page(path_or_url, headers=headers, version=version)
        return page.data

    async def get_page(self, path_or_url: str, *, headers: dict[str, str] | None = None,
                       version: str | None = None) -> Page:
        """GET a JSON page; a truncated or garbled body is fetched again."""
        url = self.url(path_or_url, version)
        for attempt in range(self.policy.max_attempts):
            response = await self.request("GET", url, headers=headers)
            body = response.content
            try:
                return Page.parse(url, body)
            except (ValueError, orjson.JSONDecodeError):
                if not body.lstrip().startswith(b"{") and is_json(body):
                    raise CollectionError(f"Microsoft Graph sent an unexpected answer for {url_path(url)}.") from None
                if attempt + 1 >= self.policy.max_attempts:
                    raise CollectionError(
                        f"Microsoft Graph kept sending unreadable JSON for {url_path(url)}.") from None
                await self._sleep(self.policy.backoff(attempt + 1), url)
        raise AssertionError("unreachable")

    async def iter_pages(self, path_or_url: str, *, headers: dict[str, str] | None = None,
                         version: str | None = None) -> AsyncIterator[Page]:
        """Follow ``@odata.nextLink`` to the end, re-sending ``headers`` on every page.

        Unlike the SDK's PageIterator this continues past empty pages that still
        carry a nextLink (the audit log API sends those).
        """
        url: str | None = self.url(path_or_url, version)
        seen: set[str] = set()
        while url:
            if url in seen:
                raise CollectionError(f"Microsoft Graph sent the same page link twice for {url_path(url)}.")
            seen.add(url)
            page = await self.get_page(url, headers=headers)
            yield page
            url = page.next_link

    def _check_budget(self, url: str) -> None:
        remaining = self.policy.remaining()
        if remaining is not None and remaining <= 0:
            raise CollectionError(
                f"The run's time budget of {self.policy.budget_seconds:.0f} s ran out while "
                f"collecting {url_path(url)}.")

    async def _sleep(self, seconds: float, url: str) -> None:
        remaining = self.policy.remaining()
        if remaining is not None and seconds > remaining:
            raise CollectionError(
                f"The run's time budget of {self.policy.budget_seconds:.0f} s would run out waiting "
                f"{seconds:.0f} s to retry {url_path(url)}.")
        log.debug("retrying %s in %.1f s", url_path(url), seconds)
        await self.policy.sleep(seconds)
