"""Fault injection for the simulated tenant: throttling, outages, broken connections.

``FaultInjector`` is a ``SimulatedGraph.hooks`` entry. Whether a request
fails is a pure function of the seed, the request and how many times that
exact request has been seen, never of thread timing, so a faulty run is
reproducible and a retried request draws afresh (and eventually succeeds).
Faults that describe a lasting state (a failed audit query, an expired delta
token) are drawn once per object and stay.

Spec, as given to ``m365audit simulate --faults``:
``429=0.05,503=0.02,504=0.02,reset=0.01,truncate=0.01,slow=0.02,audit_failed=0.1,delta_expired=1``
plus optional ``retry_after=SECONDS`` (sent with 429 and 503; fractions allowed)
and ``slow_seconds=SECONDS``.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson

from m365audit.permissions import permission_for
from m365audit.simulator.behaviour import spec_pairs
from m365audit.simulator.http import GraphHttpError, Request, Response, error_body

if TYPE_CHECKING:
    from m365audit.simulator.server import RequestHook, SimulatedGraph

# Per-attempt faults, in the order they are drawn.
TRANSIENT = ("429", "503", "504", "reset", "truncate", "slow")
LASTING = ("audit_failed", "delta_expired")
KINDS = TRANSIENT + LASTING
_AUDIT_QUERY = re.compile(r"^/security/auditLog/queries/([^/]+)/?$", re.IGNORECASE)
_AUDIT_QUERIES = re.compile(r"^/security/auditLog/queries/?$", re.IGNORECASE)


@dataclass(frozen=True)
class FaultPlan:
    rates: dict[str, float] = field(default_factory=dict)
    retry_after: float = 1.0
    slow_seconds: float = 0.5

    @property
    def empty(self) -> bool:
        return not any(self.rates.values())


def parse_faults(spec: str) -> FaultPlan:
    """Parse a spec; ValueError names the bad part."""
    rates: dict[str, float] = {}
    settings = {"retry_after": 1.0, "slow_seconds": 0.5}
    for key, raw in spec_pairs(spec):
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{key} needs a number, not {raw.strip()!r}") from None
        if key in settings:
            if not 0 <= value <= 3600:
                raise ValueError(f"{key} must be between 0 and 3600 seconds")
            settings[key] = value
        elif key in KINDS:
            if not 0 <= value <= 1:
                raise ValueError(f"the rate for {key} must be between 0 and 1")
            rates[key] = value
        else:
            raise ValueError(f"{key!r} is not a fault; use {', '.join(KINDS)}, retry_after or slow_seconds")
    return FaultPlan(rates, settings["retry_after"], settings["slow_seconds"])


def _draw(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by ``parts``."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _json_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, error_body(code, message), {"Content-Type": "application/json", **(headers or {})})


class FaultInjector:
    """A request hook that fails requests at the plan's rates."""

    def __init__(self, plan: FaultPlan, seed: int, graph: SimulatedGraph) -> None:
        self.plan = plan
        self.seed = seed
        self.graph = graph
        self.injected: Counter[str] = Counter()  # kind -> how many, for tests
        self._seen: Counter[str] = Counter()
        self._queries: dict[str, str] = {}  # audit query id -> what was asked and how often
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response | None:
        key = _request_key(request)
        with self._lock:
            self._seen[key] += 1
            attempt = self._seen[key]
        lasting = self._lasting(request)
        if lasting is not None:
            return lasting
        for kind in TRANSIENT:
            rate = self.plan.rates.get(kind, 0.0)
            if rate and _draw(self.seed, kind, key, attempt) < rate:
                answer = self._inject(kind, request)
                if answer is not None or kind == "slow":
                    self._count(kind)
                    return answer
        if request.method == "POST" and _AUDIT_QUERIES.match(request.path) and self.plan.rates.get("audit_failed"):
            return self._remember_query(request, f"{key}#{attempt}")
        return None

    def _remember_query(self, request: Request, asked: str) -> Response | None:
        """Create the audit query, noting its id: whether it fails is then fixed by what was asked
        (query ids are random), so a faulty run is reproducible."""
        real = self._real(request)
        if real is None or real.status != 201:
            return real
        query_id = orjson.loads(real.body).get("id")
        with self._lock:
            self._queries[str(query_id)] = asked
        return real

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

    def _inject(self, kind: str, request: Request) -> Response | None:
        after = {"Retry-After": _seconds(self.plan.retry_after)}
        if kind == "429":
            return _json_error(429, "TooManyRequests", "Too many requests.", after)
        if kind == "503":
            return _json_error(503, "ServiceUnavailable", "Service unavailable.", after)
        if kind == "504":
            return _json_error(504, "GatewayTimeout", "The gateway timed out.")
        if kind == "slow":
            time.sleep(self.plan.slow_seconds)
            return None
        if kind == "reset":
            return self._reset(request)
        return self._truncate(request)

    def _real(self, request: Request) -> Response | None:
        """The answer the tenant would give, or None when that is an error anyway."""
        try:
            return self.graph.router.dispatch(request)
        except GraphHttpError:
            return None

    def _reset(self, request: Request) -> Response:
        # A GET is answered and cut mid-body; other methods are cut before the
        # tenant acts on them, so a reset never doubles a side effect here.
        real = self._real(request) if request.method == "GET" else None
        if real is None or len(real.body) < 2:
            real = _json_error(500, "InternalServerError", "x" * 64)
        return Response(real.status, real.body, real.headers, cut_after=len(real.body) // 2)

    def _truncate(self, request: Request) -> Response | None:
        # Only JSON answers to GET: a short CSV would still parse, which is not
        # the fault being simulated (a JSON body that ends early).
        if request.method != "GET":
            return None
        real = self._real(request)
        if real is None or "json" not in real.headers.get("Content-Type", "") or len(real.body) < 2:
            return None
        return Response(real.status, real.body[: len(real.body) // 2], real.headers)

    def _lasting(self, request: Request) -> Response | None:
        if request.method != "GET":
            return None
        rate = self.plan.rates.get("delta_expired", 0.0)
        token = request.query.get("$deltatoken")
        # "latest" asks for a new link from now: there is no old state to have expired.
        if rate and token and token != "latest" and request.path.lower().startswith("/users/delta"):
            if _draw(self.seed, "delta_expired", token) < rate:
                self._count("delta_expired")
                return _json_error(400, "syncStateNotFound",
                                   "The sync state generation is not found or has expired.")
        match = _AUDIT_QUERY.match(request.path)
        rate = self.plan.rates.get("audit_failed", 0.0)
        asked = self._queries.get(match.group(1), match.group(1)) if match else ""
        if match and rate and _draw(self.seed, "audit_failed", asked) < rate:
            return self._failed_query(request)
        return None

    def _failed_query(self, request: Request) -> Response | None:
        real = self._real(request)
        if real is None or real.status != 200:
            return None
        body = orjson.loads(real.body)
        if not isinstance(body, dict) or "status" not in body:
            return None
        body["status"] = "failed"
        self._count("audit_failed")
        return Response(200, orjson.dumps(body), real.headers)


def _request_key(request: Request) -> str:
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query.items()))
    body = hashlib.sha256(request.body).hexdigest()[:16] if request.body else ""
    return f"{request.method} {request.version}{request.path.lower()}?{query} {body}"


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def deny_permissions(permissions: set[str]) -> RequestHook:
    """A hook answering 403, as Graph does, for paths needing one of ``permissions``."""
    wanted = {p.casefold() for p in permissions}

    def hook(request: Request) -> Response | None:
        needed = permission_for(request.path)
        if needed and needed.casefold() in wanted:
            return _json_error(403, "Authorization_RequestDenied",
                               "Insufficient privileges to complete the operation.")
        return None

    return hook


def install(graph: SimulatedGraph, plan: FaultPlan, seed: int) -> FaultInjector:
    injector = FaultInjector(plan, seed, graph)
    graph.hooks.append(injector)
    return injector
