"""Collecting for a scope: is anybody in it, the administrative unit's members, the audit query filters.

The user filter itself runs in SQL over the spooled pages, and audit records
Graph could not filter are dropped in SQL on loading (``m365audit.store.scope``):
a million-account tenant is never filtered user by user in Python. What each
scope kind filters where is set out in docs/operations.md ("Scope in a shared tenant").
"""

from __future__ import annotations

from urllib.parse import quote

from m365audit.collect.graph import GraphClient, GraphResponseError
from m365audit.collect.spool import PageSpool, SpoolFolder
from m365audit.errors import UsageError
from m365audit.scope import Scope, parse_scope

__all__ = ["UPN_FILTER_LIMIT", "Scope", "check_scope_matches", "fetch_unit_members", "parse_scope",
           "scope_audit_filters", "unit_display_name"]


def _as_scope(scope: Scope | str | None) -> Scope | None:
    return scope if isinstance(scope, Scope) or scope is None else parse_scope(scope)


# Up to this many known users, a domain or company scope names them in userPrincipalNameFilters so
# that Graph returns only their records; above it the query is left open and records of other
# organisations are dropped in SQL before anything is committed. Graph documents no maximum; 500
# UPNs keep a query body near 20 KB, and one body is sent per slice (audit_upn_filter_limit).
UPN_FILTER_LIMIT = 500


def scope_audit_filters(scope: Scope | str | None, known_upns: list[str] | None = None,
                        limit: int = UPN_FILTER_LIMIT) -> dict[str, list[str]]:
    """Extra body fields for ``POST /security/auditLog/queries`` under ``scope``.

    An administrative unit filters on the server (``administrativeUnitIdFilters``:
    "the administrative units tagged to an audit log record"). Graph has no
    filter by UPN domain or company name, so a domain or company scope names
    its known users (``userPrincipalNameFilters``) when there are at most
    ``limit`` of them; otherwise nothing is added and the loader drops the
    records of other organisations (``m365audit.store.scope.record_filter_sql``).
    """
    parsed = _as_scope(scope)
    if parsed is None:
        return {}
    if parsed.kind == "au":
        return {"administrativeUnitIdFilters": [parsed.values[0]]}
    if known_upns and len(known_upns) <= limit:
        return {"userPrincipalNameFilters": sorted(known_upns)}
    return {}


async def check_scope_matches(client: GraphClient, scope: Scope) -> str | None:
    """Refuse (UsageError) a scope that matches no user, before anything is fetched or written.

    Returns the administrative unit's display name (None for other scopes). A
    domain or company is counted with one advanced query (``$count`` with
    ``ConsistencyLevel: eventual``); each domain of a list must have users, since
    a domain without any is almost always a typing mistake.
    """
    if scope.kind == "au":
        label = await unit_display_name(client, scope)
        if not await _unit_has_users(client, scope):
            raise UsageError(f"--scope {scope} matches nobody: the administrative unit {label} has no user "
                             "members, so there is nothing to audit.")
        return label
    if scope.kind == "domain":
        for domain in scope.values:
            if not await _count_users(client, f"endsWith(userPrincipalName,'@{domain}')"):
                raise UsageError(f"--scope {scope} matches nobody in {domain}: no user of the tenant has a "
                                 f"user principal name ending in @{domain}.")
        return None
    name = scope.values[0]
    if not await _count_users(client, "companyName eq '" + name.replace("'", "''") + "'"):
        raise UsageError(f"--scope {scope} matches nobody: no user of the tenant has the company name {name}.")
    return None


async def _count_users(client: GraphClient, odata_filter: str) -> int:
    data = await client.get_json(f"/users?$filter={quote(odata_filter, safe='')}&$count=true&$top=1&$select=id",
                                 headers={"ConsistencyLevel": "eventual"})
    count = data.get("@odata.count")
    return int(count) if isinstance(count, int) else len(data.get("value") or [])


async def _unit_has_users(client: GraphClient, scope: Scope) -> bool:
    async for page in client.iter_pages(f"/directory/administrativeUnits/{scope.values[0]}/members"
                                        "?$select=id&$top=999"):
        for member in page.data.get("value") or []:
            kind = member.get("@odata.type") if isinstance(member, dict) else None
            if kind in (None, "#microsoft.graph.user"):
                return True
    return False


async def unit_display_name(client: GraphClient, scope: Scope) -> str:
    """The administrative unit's display name; a unit that does not exist is bad input."""
    unit_id = scope.values[0]
    try:
        data = await client.get_json(f"/directory/administrativeUnits/{unit_id}?$select=id,displayName")
    except GraphResponseError as exc:
        if exc.status == 404:
            raise UsageError(f"--scope {scope}: the tenant has no administrative unit with id {unit_id}.") from None
        raise
    name = data.get("displayName")
    return name if isinstance(name, str) and name else unit_id


async def fetch_unit_members(client: GraphClient, scope: Scope, folder: SpoolFolder) -> PageSpool:
    """Spool the unit's members (users, and groups that the loader ignores)."""
    spool = folder.spool("scope_members")
    async for page in client.iter_pages(f"/directory/administrativeUnits/{scope.values[0]}/members"
                                        "?$select=id&$top=999"):
        spool.add(page)
    spool.close()
    return spool
