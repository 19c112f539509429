"""A small Graph-shaped HTTP layer: routing, OData query parsing, errors, paging tokens.

Graph's wire details reproduced here: JSON error bodies ``{"error": {"code",
"message", "innerError"}}``, ``request-id`` headers, ``@odata.context`` and
``@odata.nextLink`` carrying the full URL, opaque ``$skiptoken`` values.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import orjson

# Aware UTC datetimes as Graph writes them (2026-04-01T09:30:00Z), formatted by orjson in C:
# a page of 999 users carries about 9,000 of them.
GRAPH_DATES = orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"


class GraphHttpError(Exception):
    """Raised by a route to answer with a Graph error body."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass
class Request:
    method: str
    path: str  # without the version prefix, e.g. /users
    version: str  # v1.0 or beta
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    base_url: str  # http://127.0.0.1:PORT

    @property
    def root(self) -> str:
        return f"{self.base_url}/{self.version}"

    def json(self) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise GraphHttpError(400, "BadRequest", "Unable to read JSON request payload.") from None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None  # fault injection: reset the connection after this many body bytes

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None, *,
             option: int = 0) -> Response:
        """``option``: orjson options, e.g. ``GRAPH_DATES`` for payloads holding datetimes."""
        return cls(status, orjson.dumps(payload, option=option), {"Content-Type": JSON_TYPE, **(headers or {})})


Handler = Callable[[Request, "re.Match[str]"], Response]


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler, tuple[str, ...]]] = []
        self._anonymous: list[tuple[re.Pattern[str], tuple[str, ...]]] = []

    def add(self, method: str, pattern: str, handler: Handler,
            versions: tuple[str, ...] = ("v1.0", "beta"), *, anonymous: bool = False) -> None:
        """Route ``pattern``; ``anonymous`` routes (pre-signed download URLs) skip the bearer check."""
        compiled = re.compile(pattern + r"/?$", re.IGNORECASE)
        self._routes.append((method, compiled, handler, versions))
        if anonymous:
            self._anonymous.append((compiled, versions))

    def is_anonymous(self, request: Request) -> bool:
        return any(p.match(request.path) and request.version in v for p, v in self._anonymous)

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for method, pattern, handler, versions in self._routes:
            match = pattern.match(request.path)
            if match and request.version in versions:
                if method != request.method:
                    allowed = True
                    continue
                return handler(request, match)
        if allowed:
            raise GraphHttpError(405, "Request_BadRequest", f"The HTTP method '{request.method}' is not allowed.")
        segment = request.path.strip("/").split("/")[-1]
        raise GraphHttpError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


_ODATA_OPTIONS = ("select", "top", "filter", "skiptoken", "deltatoken", "count", "search", "orderby", "expand", "skip")


def parse_request_target(target: str) -> tuple[str, str, dict[str, str]]:
    """Split ``/v1.0/users?$top=5`` into (version, path, query). Query keys keep their ``$``."""
    parts = urlsplit(target)
    segments = parts.path.split("/", 2)
    if len(segments) < 3 or segments[1] not in ("v1.0", "beta"):
        raise GraphHttpError(404, "NotFound", "Unknown API version; use /v1.0 or /beta.")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    # Graph accepts OData options with or without the dollar sign.
    normalised = {}
    for key, value in query.items():
        bare = key.lstrip("$").lower()
        if bare in _ODATA_OPTIONS:
            normalised["$" + bare] = value
        else:
            normalised[key] = value
    return segments[1], "/" + segments[2], normalised


def error_body(code: str, message: str) -> bytes:
    return orjson.dumps({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    })


def encode_token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, orjson.JSONDecodeError):
        raise GraphHttpError(400, "Request_BadRequest", "The specified page token value is invalid.") from None
    if not isinstance(value, dict):
        raise GraphHttpError(400, "Request_BadRequest", "The specified page token value is invalid.")
    return value


def page_size(request: Request, default: int = 100, maximum: int = 999) -> int:
    raw = request.query.get("$top")
    if raw is None:
        return default
    try:
        top = int(raw)
    except ValueError:
        raise GraphHttpError(400, "Request_BadRequest", f"Invalid page size specified: '{raw}'.") from None
    if top < 1 or top > maximum:
        raise GraphHttpError(400, "Request_UnsupportedQuery",
                             f"Invalid page size specified: '{top}'. Must be between 1 and {maximum} inclusive.")
    return top


def next_link(request: Request, path: str, params: dict[str, str]) -> str:
    query = "&".join(f"{k}={quote(v, safe=',()/:')}" for k, v in params.items())
    return f"{request.root}{path}?{query}"


def iso(ts: datetime | None) -> str | None:
    """Graph's timestamp form, 2026-04-01T09:30:00Z (whole seconds, UTC)."""
    if ts is None:
        return None
    if ts.tzinfo is not UTC:
        ts = ts.astimezone(UTC)
    # isoformat is several times faster than strftime, and a million users carry millions of these.
    return ts.isoformat(timespec="seconds")[:19] + "Z"


def select_fields(request: Request, known: dict[str, str], default: list[str], type_name: str) -> list[str]:
    """Graph property names to return: ``$select`` matched case-insensitively, else defaults."""
    raw = request.query.get("$select")
    if not raw:
        return default
    chosen = []
    for name in raw.split(","):
        name = name.strip()
        if not name:
            continue
        real = known.get(name.lower())
        if real is None:
            raise GraphHttpError(400, "Request_BadRequest",
                                 f"Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'.")
        chosen.append(real)
    return chosen
