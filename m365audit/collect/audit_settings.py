"""Settings of the audit log collection: ``CollectOptions.audit``.

Built once, already valid: by the configuration of `run` (its ``[audit]`` table, validated in
ops/config.py: the one validator of these values, documented in docs/operations.md), by
`collect` from its options, or directly (the demo, tests, benchmarks). Defaults suit the real
service: ``slice`` the widest query (collect/audit_plan.py), ``records_per_query`` narrower
slices where landed queries show more, ``daily_queries`` / ``running_queries`` the collector's
share of the tenant's query budget, ``overlap`` how far before the watermark each run re-reads
(records arrive late), ``version`` None for the version that answered last time, ``page_size``
None for Graph's default, ``query_filters`` extra auditLogQuery properties (a scope adds its
own), ``upn_filter_limit`` the most known users a domain or company scope names in
userPrincipalNameFilters (above it records are filtered on loading, see collect/scope.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from m365audit import environment
from m365audit.collect.record_types import AI_RECORD_TYPES, DEFAULT, parse_record_types
from m365audit.collect.scope import UPN_FILTER_LIMIT

__all__ = ["AI_RECORD_TYPES", "VERSIONS", "AuditSettings", "environment_defaults", "parse_record_types"]
# Microsoft's baseline is about 200 submissions per tenant per rolling 24 hours and 50 queued or
# running (Graph throttling limits, "Security audit log query service limits"); a shared tenant's
# organisations spend the same budget, so one collector takes a quarter and a fifth of it.
DAILY_QUERIES = 50
RUNNING_QUERIES = 10
VERSIONS = ("v1.0", "beta")


@dataclass(frozen=True)
class AuditSettings:
    record_types: tuple[str, ...] = DEFAULT
    slice: timedelta = timedelta(days=30)
    records_per_query: int = 500_000
    daily_queries: int = DAILY_QUERIES
    running_queries: int = RUNNING_QUERIES
    requery_after: timedelta = timedelta(hours=6)
    quota_wait: float = 900.0  # longest Retry-After waited out on a 429 to a creation (and within the budget)
    chunk_bytes: int = 96 * 2**20  # records landed per transaction while paging goes on (docs/performance.md)
    land_threads: int = 1  # DuckDB threads of a landing transaction (it runs beside the fetch)
    overlap: timedelta = timedelta(hours=48)
    first_run: timedelta = timedelta(days=30)
    version: str | None = None  # None: the version that answered last time, else v1.0
    concurrency: int = 4
    poll_initial: float = 5.0
    poll_max: float = 60.0
    query_timeout: float = 3600.0
    page_size: int | None = None
    min_slice: timedelta = timedelta(minutes=1)
    query_filters: dict[str, Any] = field(default_factory=dict)
    upn_filter_limit: int = UPN_FILTER_LIMIT


def environment_defaults() -> dict[str, Any]:
    """The settings the environment gives when neither the configuration nor the command line does:
    M365AUDIT_AUDIT_RECORD_TYPES and M365AUDIT_AUDIT_POLL_SECONDS. Read by the callers that build the
    settings once (`collect`, the configuration of `run`), never while collecting."""
    found: dict[str, Any] = {}
    types = environment.AUDIT_RECORD_TYPES.raw()
    if types is not None:
        found["record_types"] = parse_record_types(types)
    poll = environment.AUDIT_POLL_SECONDS.read()
    if poll is not None:
        found["poll_initial"] = poll
    return found
