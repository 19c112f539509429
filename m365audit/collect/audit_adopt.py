"""Adopting the audit queries a stopped run may have created before it could save their ids.

Every query is recorded as an intent (status 'intended', a displayName unique to it)
in a committed transaction before it is POSTed (collect/audit_run.py). A run killed
after Graph accepted a query but before its id was saved leaves the intent behind;
the next run, before it plans anything, lists the tenant's audit log queries (GET
/security/auditLog/queries, paged by @odata.nextLink; Microsoft documents no $filter
for the list, so every page is read and matched here on displayName) and adopts the
query that carries the intent's name, with the status the list gives. Only an intent
that no listed query carries is dropped: its window is then planned like any other.
The list is read only when intents are left, so an uninterrupted run never reads it.
"""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from m365audit.collect.audit_plan import Slice
from m365audit.collect.audit_query import QueryApi, not_served
from m365audit.collect.graph import GraphResponseError
from m365audit.errors import CollectionError
from m365audit.store.audit_queries import SavedQuery, adopt_intent, drop_intent
from m365audit.wording import plural

# auditLogQueryStatus (Graph metadata, security.auditLogQueryStatus) as the list reports it.
_STATUSES = ("notStarted", "running", "succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class Adoption:
    adopted: int = 0  # intents Graph had created: saved with their id, resumed by this run
    dropped: int = 0  # intents Graph had not: their windows are queried anew


async def adopt_intents(api: QueryApi, intents: list[SavedQuery], commit: Any) -> Adoption:
    """Look the intents up in the tenant's list of queries by displayName; adopt or drop each."""
    if not intents:
        return Adoption()
    wanted = {q.display_name or q.query_id: q for q in intents}
    found: dict[str, tuple[str, str, str]] = {}  # displayName -> (id, version, status)
    for version in dict.fromkeys(q.api_version for q in intents):
        await _look_up(api, version, wanted, found, _windows(intents))

    def write(con: Any) -> None:
        for name in wanted:
            if name in found:
                adopt_intent(con, name, *found[name])
            else:
                drop_intent(con, name)

    await commit(write)
    return Adoption(len(found), len(wanted) - len(found))


async def _look_up(api: QueryApi, version: str, wanted: dict[str, SavedQuery],
                   found: dict[str, tuple[str, str, str]], windows: str) -> None:
    """Match the list at ``version`` (the other version when this one does not serve the API)."""
    tried: list[str] = []
    while True:
        tried.append(version)
        try:
            await _match(api, version, wanted, found)
            return
        except GraphResponseError as exc:
            other = "beta" if version == "v1.0" else "v1.0"
            if not_served(exc) and other not in tried:
                version = other
                continue
            raise CollectionError(
                f"the tenant's audit log queries could not be listed ({exc.detail or exc.message}), so "
                f"{plural(len(wanted), 'query', 'queries')} a stopped run may have created ({windows}) "
                "could not be looked up; none was created again, and the next run looks again") from None


async def _match(api: QueryApi, version: str, wanted: dict[str, SavedQuery],
                 found: dict[str, tuple[str, str, str]]) -> None:
    async with aclosing(api.listed(version)) as listed:
        async for query in listed:
            name, query_id = query.get("displayName"), query.get("id")
            if isinstance(name, str) and name in wanted and name not in found and isinstance(query_id, str):
                status = query.get("status")
                found[name] = (query_id, version, status if status in _STATUSES else "created")
                if len(found) == len(wanted):
                    return


def _windows(intents: list[SavedQuery]) -> str:
    labels = [Slice(q.start, q.end).label() for q in intents[:3]]
    return ", ".join(labels) + (f" and {len(intents) - 3} more" if len(intents) > 3 else "")
