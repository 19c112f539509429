"""Collecting for a scope: the administrative unit's members and the audit query filters.

The user filter itself runs in SQL over the spooled pages
(``m365audit.store.scope``): a million-account tenant is never filtered user
by user in Python.
"""

from __future__ import annotations

from m365audit.collect.graph import GraphClient, GraphResponseError
from m365audit.collect.spool import PageSpool, SpoolFolder
from m365audit.errors import UsageError
from m365audit.scope import Scope, parse_scope

__all__ = ["Scope", "fetch_unit_members", "parse_scope", "scope_audit_filters", "unit_display_name"]


def _as_scope(scope: Scope | str | None) -> Scope | None:
    return scope if isinstance(scope, Scope) or scope is None else parse_scope(scope)


def scope_audit_filters(scope: Scope | str | None) -> dict[str, list[str]]:
    """Extra body fields for ``POST /security/auditLog/queries`` under ``scope``.

    An administrative unit filters on the server (``administrativeUnitIdFilters``).
    The audit API has no filter by UPN domain or company, so domain and company
    scopes return nothing here: filter the landed records in SQL with
    ``m365audit.store.scope.record_filter_sql``.
    """
    parsed = _as_scope(scope)
    if parsed is not None and parsed.kind == "au":
        return {"administrativeUnitIdFilters": [parsed.values[0]]}
    return {}


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
