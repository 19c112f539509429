"""The Purview audit log query API: POST a query, poll it, page its records.

The lifecycle follows Graph: 201 with status notStarted, then notStarted /
running while polled, then succeeded (or whatever ``AuditService.fail_query``
says). A query that would return more than ``ApiBehaviour.audit_record_limit``
records still succeeds, with ``isRecordCountLimitExceeded`` true and only the
first records served. Some pages are empty yet carry a nextLink, as Graph's are.
"""

from __future__ import annotations

import functools
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from m365audit.collect.record_types import enum_members
from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator.activity import Selection
from m365audit.simulator.http import (
    JSON_TYPE,
    GraphHttpError,
    Request,
    Response,
    Router,
    decode_token,
    encode_token,
    next_link,
    page_size,
)
from m365audit.simulator.tenant import Tenant

_QUERIES = r"/security/auditLog/queries"
_ID = r"([0-9a-f-]{36})"
_DATA_TYPE = {
    "CopilotInteraction": "#microsoft.graph.security.copilotInteractionAuditRecord",
    "AIAppInteraction": "#microsoft.graph.security.aiAppInteractionAuditRecord",
}


@dataclass
class AuditQuery:
    id: str
    version: str
    body: dict[str, Any]
    start: datetime
    end: datetime
    record_types: list[str] | None
    upns: list[str] | None
    admin_units: list[str] | None
    polls: int = 0
    created: float = field(default_factory=time.monotonic)
    status: str = "notStarted"
    selection: Selection | None = None
    exceeded: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def to_json(self, request: Request, limit: int) -> dict[str, Any]:
        out = {"@odata.context": f"{request.root}/$metadata#security/auditLog/queries/$entity",
               **self.body, "id": self.id, "status": self.status}
        if self.selection is not None:
            out["approximateReturnedRecordCount"] = self.selection.total
            out["isRecordCountLimitExceeded"] = self.exceeded
            out["recordCountLimit"] = limit
        return out


class AuditService:
    """Audit queries of one tenant. Tests reach it with ``service_for(tenant)``."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.queries: dict[str, AuditQuery] = {}
        self.created: list[tuple[datetime, datetime]] = []  # the window of every query created, in order
        self.submissions: list[float] = []  # monotonic creation times, for the rolling 24 hours
        self.refused = 0  # creations answered 429
        self._lock = threading.Lock()
        # Fault injection: return "failed" or "cancelled" to end a query that way.
        self.fail_query: Callable[[AuditQuery], str | None] | None = None
        self._units_of = functools.lru_cache(maxsize=65536)(self._user_units)
        self._units = functools.lru_cache(maxsize=4)(lambda _generation: tenant.administrative_units())

    @property
    def behaviour(self) -> Any:
        return self.tenant.config.api

    def create(self, request: Request) -> Response:
        self._check_version(request)
        body = request.json()
        if not isinstance(body, dict):
            raise GraphHttpError(400, "BadRequest", "The request body must be an auditLogQuery.")
        start = _instant(body, "filterStartDateTime")
        end = _instant(body, "filterEndDateTime")
        if end <= start:
            raise GraphHttpError(400, "BadRequest", "filterEndDateTime must be later than filterStartDateTime.")
        record_types = _names(body, "recordTypeFilters")
        for name in record_types or []:
            if name not in enum_members():  # Graph's auditLogRecordType; the tenant writes only some of them
                raise GraphHttpError(400, "BadRequest", f"Requested value '{name}' was not found.")
        operations = _names(body, "operationFilters")
        if operations is not None:
            chosen = [t for t in (record_types or ac.RECORD_TYPES) if t in operations]
            record_types = chosen
        echo = {k: v for k, v in body.items() if not k.startswith("@")}
        echo.setdefault("displayName", None)
        query = AuditQuery(str(uuid.uuid4()), request.version, echo, start, end, record_types,
                           _names(body, "userPrincipalNameFilters"), _names(body, "administrativeUnitIdFilters"))
        with self._lock:
            self._admit(time.monotonic())
            self.queries[query.id] = query
            self.created.append((start, end))
        return Response.json(query.to_json(request, self.behaviour.audit_record_limit), status=201)

    def _admit(self, now: float) -> None:
        """Refuse a creation over the tenant's limits, as Graph does: 429 with Retry-After."""
        behaviour = self.behaviour
        self.submissions = [t for t in self.submissions if t > now - 86400]
        running = sum(1 for q in self.queries.values() if q.status in ("notStarted", "running"))
        if self.refused < behaviour.audit_quota_refusals:
            self.refused += 1
            raise GraphHttpError(429, "TooManyRequests", "The tenant's audit log query quota is spent for now.",
                                 {"Retry-After": _seconds(behaviour.audit_quota_retry_after)})
        if len(self.submissions) >= behaviour.audit_daily_submissions:
            oldest = len(self.submissions) - behaviour.audit_daily_submissions
            wait = (self.submissions[oldest] + 86400 - now) if self.submissions else 86400.0
            self.refused += 1
            raise GraphHttpError(429, "TooManyRequests",
                                 f"The tenant has submitted {len(self.submissions)} audit log queries in the last "
                                 "24 hours, the most allowed.", {"Retry-After": str(max(1, round(wait)))})
        if running >= behaviour.audit_max_running:
            self.refused += 1
            raise GraphHttpError(429, "TooManyRequests",
                                 f"The tenant has {running} audit log queries queued or running, the most allowed.",
                                 {"Retry-After": "60"})
        self.submissions.append(now)

    def forget(self, query_id: str) -> None:
        """Fault injection: the service no longer knows the query (its id answers 404)."""
        with self._lock:
            self.queries.pop(query_id, None)

    def get(self, request: Request, match: re.Match[str]) -> Response:
        self._check_version(request)
        query = self._query(match.group(1))
        with query.lock:
            query.polls += 1
            if query.status in ("notStarted", "running"):
                aged = time.monotonic() - query.created >= self.behaviour.audit_query_seconds
                if query.polls >= self.behaviour.audit_polls_until_done and aged:
                    self._finish(query)
                elif query.polls > 1:
                    query.status = "running"
        return Response.json(query.to_json(request, self.behaviour.audit_record_limit))

    def list_queries(self, request: Request, _m: re.Match[str]) -> Response:
        """"List auditLogQueries": every query of the tenant, oldest first, paged by @odata.nextLink.

        Microsoft documents no $filter, $search or $orderby for this list (only "some of the
        OData query parameters"), so they are refused here: the collector must not rely on them.
        """
        self._check_version(request)
        for option in ("$filter", "$search", "$orderby"):
            if option in request.query:
                raise GraphHttpError(400, "BadRequest", f"The query parameter '{option}' is not supported.")
        limit, behaviour = self.behaviour.audit_record_limit, self.behaviour
        size = page_size(request, default=behaviour.audit_list_page_size, maximum=behaviour.audit_list_page_size)
        token = request.query.get("$skiptoken")
        offset = int(decode_token(token).get("o", 0)) if token else 0
        with self._lock:
            queries = list(self.queries.values())[offset:offset + size]
            more = offset + size < len(self.queries)
        payload: dict[str, Any] = {"@odata.context": f"{request.root}/$metadata#security/auditLog/queries",
                                   "value": [_listed(q.to_json(request, limit)) for q in queries]}
        if more:
            params = {"$skiptoken": encode_token({"o": offset + size})}
            if "$top" in request.query:
                params = {"$top": str(size), **params}
            payload["@odata.nextLink"] = next_link(request, _QUERIES, params)
        return Response.json(payload)

    def records(self, request: Request, match: re.Match[str]) -> Response:
        self._check_version(request)
        query = self._query(match.group(1))
        if query.status != "succeeded" or query.selection is None:
            raise GraphHttpError(400, "BadRequest", "The audit log query has not completed; poll it until it has.")
        behaviour = self.behaviour
        size = page_size(request, default=behaviour.audit_page_size, maximum=behaviour.audit_page_size)
        token = request.query.get("$skiptoken")
        state = decode_token(token) if token else {"o": 0, "p": 0}
        offset, page_no = int(state.get("o", 0)), int(state.get("p", 0))
        served = min(query.selection.total, behaviour.audit_record_limit)
        every = behaviour.audit_empty_page_every
        if every and page_no % every == every - 1 and offset < served:
            rows: list[tuple[int, dict[str, Any]]] = []
        else:
            rows = query.selection.page_with_users(offset, min(size, served - offset))
        offset += len(rows)
        path = f"{_QUERIES}/{query.id}/records"
        payload: dict[str, Any] = {
            "@odata.context": f"{request.root}/$metadata#security/auditLog/queries('{query.id}')/records",
            "value": [self._record_json(r, self._units_of(self.tenant.generation, index)) for index, r in rows],
        }
        if offset < served:
            params = {"$skiptoken": encode_token({"o": offset, "p": page_no + 1})}
            if "$top" in request.query:
                params = {"$top": str(size), **params}
            payload["@odata.nextLink"] = next_link(request, path, params)
        return Response(200, orjson.dumps(payload), {"Content-Type": JSON_TYPE})

    # ----- helpers ---------------------------------------------------------------
    def _finish(self, query: AuditQuery) -> None:
        verdict = self.fail_query(query) if self.fail_query else None
        if verdict:
            query.status = verdict
            return
        query.selection = self.tenant.activity.select(
            query.start, query.end, query.record_types, query.upns, self._unit_filter(query.admin_units))
        query.exceeded = query.selection.total > self.behaviour.audit_record_limit
        query.status = "succeeded"

    def _unit_filter(self, units: list[str] | None) -> Callable[[int], bool] | None:
        if units is None:
            return None
        members: set[int] = set()
        for unit in units:
            members.update(self.tenant.unit_member_indexes(unit.lower()))
        return members.__contains__

    def _user_units(self, _generation: int, index: int) -> tuple[str, ...]:
        """The administrative units a record of user ``index`` is tagged with (Graph: administrativeUnits).

        The same rule as the units' member lists (``aggregates.compute_aggregates``), read from the
        user's profile so that a page of records never builds a million-member set.
        """
        if self.tenant.generated(index):
            profile = self.tenant.profile(index)
            organisation = profile.organisation.name
            department = profile.department.name if profile.department else None
        else:
            user = self.tenant.user(index)
            if user is None:
                return ()
            organisation, department = user.organisation, user.department
        return tuple(unit.id for unit in self._units(_generation)
                     if unit.organisation == organisation and unit.department in (None, department))

    def _record_json(self, data: dict[str, Any], units: tuple[str, ...]) -> dict[str, Any]:
        upn = data["UserId"]
        return {
            "id": data["Id"],
            "createdDateTime": data["CreationTime"] + "Z",
            "auditLogRecordType": data["Operation"],
            "operation": data["Operation"],
            "organizationId": data["OrganizationId"],
            "userType": "Regular",
            "userId": upn,
            "service": data["Workload"],
            "objectId": None,
            "userPrincipalName": upn,
            "clientIp": data["ClientIP"],
            "administrativeUnits": list(units),
            "auditData": {"@odata.type": _DATA_TYPE.get(data["Operation"]), **data},
        }

    def _query(self, query_id: str) -> AuditQuery:
        with self._lock:
            query = self.queries.get(query_id)
        if query is None:
            raise GraphHttpError(404, "NotFound", f"The audit log query {query_id} was not found.")
        return query

    def _check_version(self, request: Request) -> None:
        served = self.behaviour.audit_v1 if request.version == "v1.0" else self.behaviour.audit_beta
        if not served:
            raise GraphHttpError(404, "NotFound", "Resource not found for the segment 'auditLog'.")


_SERVICES: weakref.WeakKeyDictionary[Tenant, AuditService] = weakref.WeakKeyDictionary()


def service_for(tenant: Tenant) -> AuditService:
    """The audit service serving ``tenant`` (created by ``register``)."""
    return _SERVICES[tenant]


def register(router: Router, tenant: Tenant) -> None:
    service = _SERVICES.setdefault(tenant, AuditService(tenant))
    router.add("POST", _QUERIES, lambda request, _m: service.create(request))
    router.add("GET", _QUERIES, service.list_queries)
    router.add("GET", f"{_QUERIES}/{_ID}", service.get)
    router.add("GET", f"{_QUERIES}/{_ID}/records", service.records)


def _listed(query: dict[str, Any]) -> dict[str, Any]:
    """A query as an item of the list: Graph's list items carry their type, not the entity's context."""
    return {"@odata.type": "#microsoft.graph.security.auditLogQuery",
            **{k: v for k, v in query.items() if k != "@odata.context"}}


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _instant(body: dict[str, Any], name: str) -> datetime:
    raw = body.get(name)
    if not isinstance(raw, str):
        raise GraphHttpError(400, "BadRequest", f"{name} is required.")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise GraphHttpError(400, "BadRequest", f"{name} '{raw}' is not a valid DateTimeOffset.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _names(body: dict[str, Any], name: str) -> list[str] | None:
    raw = body.get(name)
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise GraphHttpError(400, "BadRequest", f"{name} must be a list of strings.")
    return raw
