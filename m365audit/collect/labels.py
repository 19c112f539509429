"""Collecting the tenant's sensitivity label catalogue.

v1.0 serves ``/security/dataSecurityAndGovernance/sensitivityLabels``
(SensitivityLabels.Read.All); tenants and clouds where that path is missing
answer 404 or 400, and then the beta
``/security/informationProtection/sensitivityLabels``
(InformationProtectionPolicy.Read.All) is used. A 403 is not a reason to fall
back: it names the permission to grant. ``CollectOptions.labels_version``
("v1.0" or "beta") skips the other one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import duckdb

from m365audit.collect.graph import GraphClient, GraphResponseError
from m365audit.collect.spool import PageSpool, SpoolFolder
from m365audit.errors import UsageError
from m365audit.store.labels import load_labels

V1_PATH = "/security/dataSecurityAndGovernance/sensitivityLabels"
BETA_PATH = "/security/informationProtection/sensitivityLabels"
ENDPOINTS = (("v1.0", V1_PATH), ("beta", BETA_PATH))
FALLBACK_STATUSES = (400, 404)  # what Graph answers for a path it does not serve

Progress = Callable[[str, int], None]


def _endpoints(choice: str | None) -> tuple[tuple[str, str], ...]:
    if choice is None:
        return ENDPOINTS
    chosen = tuple(e for e in ENDPOINTS if e[0] == choice)
    if not chosen:
        raise UsageError(f"The sensitivity label API version {choice!r} is not one of v1.0 or beta.")
    return chosen


async def fetch_labels(client: GraphClient, spool: PageSpool, *, version: str | None = None,
                       progress: Progress | None = None) -> str:
    """Spool the label pages; return the API version that answered."""
    endpoints = _endpoints(version)
    for attempt, (api, path) in enumerate(endpoints):
        try:
            async for page in client.iter_pages(path, version=api):
                spool.add(page)
                if progress:
                    progress("sensitivity labels", len(page.data.get("value") or []))
            return api
        except GraphResponseError as exc:
            last = attempt + 1 == len(endpoints)
            if last or spool.pages or exc.status not in FALLBACK_STATUSES:
                raise
    raise AssertionError("unreachable")


async def step(client: GraphClient, options: Any, folder: SpoolFolder,
               progress: Progress | None) -> Callable[[duckdb.DuckDBPyConnection, str], dict[str, Any]]:
    spool = folder.spool("sensitivity_labels")
    api = await fetch_labels(client, spool, version=options.labels_version, progress=progress)
    spool.close()
    taken_at = options.now or datetime.now(UTC)

    def load(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
        counts = load_labels(con, spool.path, run_id=run_id, taken_at=taken_at)
        return {"labels": counts.labels, "changed": counts.changed, "api": api}

    return load
