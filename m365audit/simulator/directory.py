"""Directory endpoints: subscribedSkus, users (list, filter, delta), groups and members."""

from __future__ import annotations

import re
import time
from typing import Any

from m365audit.simulator import catalogue as cat
from m365audit.simulator import members
from m365audit.simulator.http import (
    GRAPH_DATES,
    GraphHttpError,
    Request,
    Response,
    Router,
    decode_token,
    encode_token,
    next_link,
    page_size,
    select_fields,
)
from m365audit.simulator.tenant import Tenant
from m365audit.simulator.user_filters import user_filter, wants_count
from m365audit.simulator.user_properties import USER_DEFAULT, USER_KNOWN, USER_PROPERTIES, user_json

__all__ = ["USER_DEFAULT", "USER_PROPERTIES", "register", "user_json"]

_GROUP_NAME_FILTER = re.compile(r"^displayName\s+eq\s+'((?:[^']|'')*)'$", re.IGNORECASE)
GROUP_PROPERTIES = ["id", "displayName", "description", "assignedLicenses", "mailEnabled",
                    "securityEnabled", "groupTypes", "createdDateTime"]
_GROUP_KNOWN = {p.lower(): p for p in GROUP_PROPERTIES}


def _context(request: Request, entity: str, fields: list[str] | None) -> str:
    selected = f"({','.join(fields)})" if fields and request.query.get("$select") else ""
    return f"{request.root}/$metadata#{entity}{selected}"


def register(router: Router, tenant: Tenant) -> None:
    def subscribed_skus(request: Request, _m: re.Match[str]) -> Response:
        consumed = tenant.consumed_units()
        value = []
        for sku in tenant.subscribed_skus():
            value.append({
                "accountName": tenant.config.org_name,
                "accountId": tenant.config.tenant_id,
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": consumed[sku.sku_id],
                "id": f"{tenant.config.tenant_id}_{sku.sku_id}",
                "prepaidUnits": {"enabled": tenant.purchased_units(sku), "lockedOut": 0,
                                 "suspended": 0, "warning": 0},
                "servicePlans": [
                    {"servicePlanId": pid, "servicePlanName": name,
                     "provisioningStatus": "Success", "appliesTo": "User"}
                    for pid, name, _ in sku.plans
                ],
                "skuId": sku.sku_id,
                "skuPartNumber": sku.part_number,
                "subscriptionIds": [tenant.group_id("subscription:" + sku.part_number)],
            })
        return Response.json({"@odata.context": f"{request.root}/$metadata#subscribedSkus", "value": value})

    def list_users(request: Request, _m: re.Match[str]) -> Response:
        fields = select_fields(request, USER_KNOWN, USER_DEFAULT, "user")
        top = page_size(request)
        keep = user_filter(request)
        count = wants_count(request)
        start = 0
        if "$skiptoken" in request.query:
            start = int(decode_token(request.query["$skiptoken"]).get("o", 0))
        value: list[dict[str, Any]] = []
        position = start
        while position < tenant.user_count and len(value) < top:
            u = tenant.user(position)
            position += 1
            if u is None:
                continue
            if keep is not None and not keep(u):
                continue
            value.append(user_json(tenant, u, fields))
        payload: dict[str, Any] = {"@odata.context": _context(request, "users", fields)}
        if count and start == 0:
            payload["@odata.count"] = sum(1 for u in tenant.iter_users() if keep is None or keep(u))
        if position < tenant.user_count:
            params = {k: v for k, v in request.query.items() if k in ("$select", "$top", "$filter", "$count")}
            params["$skiptoken"] = encode_token({"o": position})
            payload["@odata.nextLink"] = next_link(request, "/users", params)
        payload["value"] = value
        return Response.json(payload, option=GRAPH_DATES)

    def users_delta(request: Request, _m: re.Match[str]) -> Response:
        top = page_size(request, default=200, maximum=999)
        if request.query.get("$deltatoken") == "latest":
            # "Sync from now": no data, just a link for changes from this moment.
            fields = select_fields(request, USER_KNOWN, USER_DEFAULT, "user")
            if "id" not in fields:
                fields = ["id", *fields]
            token = encode_token({"s": fields, "g": tenant.generation, "t": time.time()})
            return Response.json({"@odata.context": f"{request.root}/$metadata#users",
                                  "@odata.deltaLink": f"{request.root}/users/delta?$deltatoken={token}",
                                  "value": []})
        if "$deltatoken" in request.query:
            state = decode_token(request.query["$deltatoken"])
            ttl = tenant_delta_ttl(tenant)
            if time.time() - float(state.get("t", 0)) > ttl:
                raise GraphHttpError(400, "syncStateNotFound",
                                     "The sync state generation is not found or has expired.")
            indexes = tenant.changed_since(int(state["g"]))
            return _delta_page(request, tenant, state["s"], indexes, 0, top, changes=True)
        if "$skiptoken" in request.query:
            state = decode_token(request.query["$skiptoken"])
            if state.get("c"):
                return _delta_page(request, tenant, state["s"], state["i"], int(state["o"]), top, changes=True)
            return _delta_page(request, tenant, state["s"], None, int(state["o"]), top, changes=False,
                               generation=int(state["g"]))
        fields = select_fields(request, USER_KNOWN, USER_DEFAULT, "user")
        if "id" not in fields:
            fields = ["id", *fields]
        return _delta_page(request, tenant, fields, None, 0, top, changes=False, generation=tenant.generation)

    def list_groups(request: Request, _m: re.Match[str]) -> Response:
        fields = select_fields(request, _GROUP_KNOWN, ["id", "displayName", "description"], "group")
        names = tenant.group_names()
        raw_filter = request.query.get("$filter")
        if raw_filter:
            match = _GROUP_NAME_FILTER.match(raw_filter.strip())
            if not match:
                raise GraphHttpError(400, "Request_UnsupportedQuery", "Unsupported query.")
            wanted = match.group(1).replace("''", "'")
            names = [n for n in names if n == wanted]
        top = page_size(request)
        start = int(decode_token(request.query["$skiptoken"])["o"]) if "$skiptoken" in request.query else 0
        chunk = names[start:start + top]
        payload: dict[str, Any] = {"@odata.context": _context(request, "groups", fields)}
        if start + top < len(names):
            params = {k: v for k, v in request.query.items() if k in ("$select", "$top", "$filter")}
            params["$skiptoken"] = encode_token({"o": start + top})
            payload["@odata.nextLink"] = next_link(request, "/groups", params)
        payload["value"] = [_group_json(tenant, n, fields) for n in chunk]
        return Response.json(payload)

    router.add("GET", r"/subscribedSkus", subscribed_skus)
    router.add("GET", r"/users", list_users)
    router.add("GET", r"/users/delta(?:\(\))?", users_delta)
    router.add("GET", r"/groups", list_groups)
    members.register(router, tenant)  # group members and administrative units


def tenant_delta_ttl(tenant: Tenant) -> float:
    """Delta tokens expire after about 7 days in Graph; tests shorten this."""
    return float(getattr(tenant, "delta_token_ttl", 7 * 24 * 3600))


def _group_json(tenant: Tenant, name: str, fields: list[str]) -> dict[str, Any]:
    licences = {
        cat.GROUP_ALL_STAFF: [cat.E3.sku_id], cat.GROUP_E5: [cat.E5.sku_id],
        cat.GROUP_FRONTLINE: [cat.F3.sku_id], cat.GROUP_COPILOT: [cat.COPILOT.sku_id],
        cat.GROUP_COPILOT_PILOT: [cat.COPILOT.sku_id],
    }.get(name, [])
    full = {
        "id": tenant.group_id(name), "displayName": name, "description": f"{name} ({tenant.config.org_name})",
        "assignedLicenses": [{"disabledPlans": [], "skuId": s} for s in licences],
        "mailEnabled": False, "securityEnabled": True, "groupTypes": [], "createdDateTime": "2021-04-01T09:00:00Z",
    }
    return {f: full[f] for f in fields}


def _delta_page(request: Request, tenant: Tenant, fields: list[str], indexes: list[int] | None,
                offset: int, top: int, *, changes: bool, generation: int | None = None) -> Response:
    """One page of a delta round: all users (initial sync) or the changed ones."""
    value: list[dict[str, Any]] = []
    if indexes is None:
        position = offset
        while position < tenant.user_count and len(value) < top:
            u = tenant.user(position)
            position += 1
            if u is not None:
                value.append(user_json(tenant, u, fields))
        done = position >= tenant.user_count
        state: dict[str, Any] = {"s": fields, "o": position, "g": generation}
    else:
        chunk = indexes[offset:offset + top]
        for i in chunk:
            u = tenant.user(i)
            if u is None:
                value.append({"id": tenant_user_id(tenant, i), "@removed": {"reason": "deleted"}})
            else:
                value.append(user_json(tenant, u, fields))
        position = offset + len(chunk)
        done = position >= len(indexes)
        state = {"s": fields, "o": position, "i": indexes, "c": True}
        generation = tenant.generation
    payload: dict[str, Any] = {"@odata.context": f"{request.root}/$metadata#users(" + ",".join(fields) + ")"}
    if done:
        token = encode_token({"s": fields, "g": generation if not changes else tenant.generation,
                              "t": time.time()})
        payload["@odata.deltaLink"] = f"{request.root}/users/delta?$deltatoken={token}"
    else:
        payload["@odata.nextLink"] = f"{request.root}/users/delta?$skiptoken={encode_token(state)}"
    payload["value"] = value
    return Response.json(payload, option=GRAPH_DATES)


def tenant_user_id(tenant: Tenant, index: int) -> str:
    from m365audit.simulator.tenant import stable_uuid

    return stable_uuid(tenant.seed, "user", index)
