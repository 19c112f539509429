"""Member listings (groups and administrative units) and the administrative unit endpoints.

A member list of a million-user tenant is a few cached index arrays; a page
is cut from them by position, so serving page n costs one page, not n.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from m365audit.simulator import catalogue as cat
from m365audit.simulator.aggregates import AdminUnit
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
from m365audit.simulator.user_properties import USER_KNOWN, user_json

MEMBER_DEFAULT = ["id", "displayName", "userPrincipalName"]
UNIT_PROPERTIES = ["id", "displayName", "description", "visibility", "membershipType"]
_UNIT_KNOWN = {p.lower(): p for p in UNIT_PROPERTIES}
_GUID = r"([0-9a-fA-F-]{36})"


def not_found(object_id: str) -> GraphHttpError:
    return GraphHttpError(404, "Request_ResourceNotFound",
                          f"Resource '{object_id}' does not exist or one of its queried "
                          "reference-property objects are not present.")


def member_page(request: Request, tenant: Tenant, path: str, groups: Sequence[str],
                users: Sequence[Sequence[int]]) -> Response:
    """One page of a directoryObject collection: ``groups`` (display names) first, then ``users`` (indexes)."""
    fields = select_fields(request, USER_KNOWN, MEMBER_DEFAULT, "user")
    top = page_size(request)
    start = int(decode_token(request.query["$skiptoken"])["o"]) if "$skiptoken" in request.query else 0
    total = len(groups) + sum(len(s) for s in users)
    value: list[dict[str, Any]] = []
    for kind, ref in _window(groups, users, start, start + top):
        if kind == "group":
            value.append({"@odata.type": "#microsoft.graph.group", "id": tenant.group_id(str(ref)),
                          "displayName": ref})
            continue
        if fields == ["id"]:  # what collectors ask for: no need to generate the whole user
            user_id = tenant.user_id(int(ref))
            if user_id is not None:
                value.append({"@odata.type": "#microsoft.graph.user", "id": user_id})
            continue
        u = tenant.user(int(ref))
        if u is not None:
            value.append({"@odata.type": "#microsoft.graph.user", **user_json(tenant, u, fields)})
    payload: dict[str, Any] = {"@odata.context": f"{request.root}/$metadata#directoryObjects"}
    if start + top < total:
        params = {k: v for k, v in request.query.items() if k in ("$select", "$top")}
        params["$skiptoken"] = encode_token({"o": start + top})
        payload["@odata.nextLink"] = next_link(request, path, params)
    payload["value"] = value
    return Response.json(payload, option=GRAPH_DATES)


def _window(groups: Sequence[str], users: Sequence[Sequence[int]], start: int,
            stop: int) -> Iterator[tuple[str, int | str]]:
    """Positions [start, stop) of groups followed by each user segment, without joining them."""
    for name in groups[start:stop]:
        yield "group", name
    offset = len(groups)
    for segment in users:
        lo, hi = max(start - offset, 0), min(stop - offset, len(segment))
        for index in segment[lo:hi] if lo < hi else ():
            yield "user", index
        offset += len(segment)


def group_member_page(request: Request, tenant: Tenant, match: re.Match[str]) -> Response:
    group_id, relation = match.group(1), match.group(2)
    name = next((n for n in tenant.group_names() if tenant.group_id(n) == group_id), None)
    if name is None:
        raise not_found(group_id)
    groups: list[str] = []
    users = [tenant.member_indexes(name)]
    if name == cat.GROUP_COPILOT:  # the Finance pilot group is nested inside it
        groups.append(cat.GROUP_COPILOT_PILOT)
        if relation.lower() == "transitivemembers":
            users.append(tenant.member_indexes(cat.GROUP_COPILOT_PILOT))
    return member_page(request, tenant, f"/groups/{group_id}/{relation}", groups, users)


def _unit_json(unit: AdminUnit, fields: list[str]) -> dict[str, Any]:
    full = {"id": unit.id, "displayName": unit.display_name, "description": unit.description,
            "visibility": None, "membershipType": None}
    return {f: full[f] for f in fields}


def _find_unit(tenant: Tenant, unit_id: str) -> AdminUnit:
    unit = next((u for u in tenant.administrative_units() if u.id == unit_id.lower()), None)
    if unit is None:
        raise not_found(unit_id)
    return unit


def register(router: Router, tenant: Tenant) -> None:
    def list_units(request: Request, _m: re.Match[str]) -> Response:
        fields = select_fields(request, _UNIT_KNOWN, ["id", "displayName", "description"], "administrativeUnit")
        top = page_size(request)
        start = int(decode_token(request.query["$skiptoken"])["o"]) if "$skiptoken" in request.query else 0
        units = tenant.administrative_units()
        payload: dict[str, Any] = {"@odata.context": f"{request.root}/$metadata#directory/administrativeUnits"}
        if start + top < len(units):
            params = {k: v for k, v in request.query.items() if k in ("$select", "$top")}
            params["$skiptoken"] = encode_token({"o": start + top})
            payload["@odata.nextLink"] = next_link(request, "/directory/administrativeUnits", params)
        payload["value"] = [_unit_json(u, fields) for u in units[start:start + top]]
        return Response.json(payload)

    def get_unit(request: Request, match: re.Match[str]) -> Response:
        fields = select_fields(request, _UNIT_KNOWN, UNIT_PROPERTIES, "administrativeUnit")
        body = {"@odata.context": f"{request.root}/$metadata#directory/administrativeUnits/$entity",
                **_unit_json(_find_unit(tenant, match.group(1)), fields)}
        return Response.json(body)

    def unit_members(request: Request, match: re.Match[str]) -> Response:
        unit = _find_unit(tenant, match.group(1))
        return member_page(request, tenant, f"/directory/administrativeUnits/{match.group(1)}/members",
                           list(unit.member_groups), [tenant.unit_member_indexes(unit.id)])

    router.add("GET", r"/groups/" + _GUID + r"/(transitiveMembers|members)",
               lambda request, match: group_member_page(request, tenant, match))
    router.add("GET", r"/directory/administrativeUnits", list_units)
    router.add("GET", r"/directory/administrativeUnits/" + _GUID, get_unit)
    router.add("GET", r"/directory/administrativeUnits/" + _GUID + r"/members", unit_members)
