"""Settings of the audit log collection, read from ``CollectOptions.extra``.

Keys (all optional): ``audit_record_types`` (list or comma-separated auditLogRecordType
names; default CopilotInteraction), ``audit_slice_hours`` (720: the widest query, see
collect/audit_plan.py), ``audit_records_per_query`` (500,000: narrower slices where landed
queries show more), ``audit_daily_queries`` (50 submissions per rolling 24 h),
``audit_running_queries`` (10 at once), ``audit_requery_after_hours`` (6), ``audit_quota_wait_seconds`` (900),
``audit_chunk_mib`` (96), ``audit_land_threads`` (1), ``audit_overlap_hours`` (48),
``audit_first_run_days`` (30), ``audit_version`` (v1.0 or beta), ``audit_concurrency``
(4), ``audit_poll_initial`` / ``audit_poll_max`` seconds (5, or env M365AUDIT_AUDIT_POLL_SECONDS / 60),
``audit_query_timeout``
seconds (3600), ``audit_page_size`` (none: Graph's default), ``audit_min_slice_minutes``
(1), ``audit_query_filters`` (extra auditLogQuery properties; a scope adds its own),
``audit_upn_filter_limit`` (500: the most known users a domain or company scope names in
userPrincipalNameFilters; above it records are filtered on loading, see collect/scope.py).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from m365audit.collect.record_types import AI_RECORD_TYPES, DEFAULT, parse_record_types
from m365audit.collect.scope import UPN_FILTER_LIMIT
from m365audit.errors import UsageError

__all__ = ["AI_RECORD_TYPES", "VERSIONS", "AuditSettings", "parse_record_types"]
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
    version: str = "v1.0"
    concurrency: int = 4
    poll_initial: float = 5.0
    poll_max: float = 60.0
    query_timeout: float = 3600.0
    page_size: int | None = None
    min_slice: timedelta = timedelta(minutes=1)
    query_filters: dict[str, Any] = field(default_factory=dict)
    upn_filter_limit: int = UPN_FILTER_LIMIT

    @classmethod
    def from_extra(cls, extra: dict[str, Any]) -> AuditSettings:
        raw_types = extra.get("audit_record_types") or os.environ.get("M365AUDIT_AUDIT_RECORD_TYPES")
        types = parse_record_types(raw_types) if raw_types else cls.record_types
        version = str(extra.get("audit_version", "v1.0"))
        if version not in VERSIONS:
            raise UsageError(f"audit_version {version!r} must be v1.0 or beta.")
        page = extra.get("audit_page_size")
        filters = extra.get("audit_query_filters") or {}
        if not isinstance(filters, dict):
            raise UsageError("audit_query_filters must be a table of auditLogQuery properties.")
        return cls(
            record_types=types,
            slice=timedelta(hours=_positive(extra, "audit_slice_hours", 720)),
            records_per_query=int(_positive(extra, "audit_records_per_query", 500_000)),
            daily_queries=int(_positive(extra, "audit_daily_queries", DAILY_QUERIES)),
            running_queries=int(_positive(extra, "audit_running_queries", RUNNING_QUERIES)),
            requery_after=timedelta(hours=_positive(extra, "audit_requery_after_hours", 6, zero_ok=True)),
            quota_wait=_positive(extra, "audit_quota_wait_seconds", 900.0, zero_ok=True),
            chunk_bytes=int(_positive(extra, "audit_chunk_mib", 96) * 2**20),
            land_threads=int(_positive(extra, "audit_land_threads", 1)),
            overlap=timedelta(hours=_positive(extra, "audit_overlap_hours", 48, zero_ok=True)),
            first_run=timedelta(days=_positive(extra, "audit_first_run_days", 30)),
            version=version,
            concurrency=int(_positive(extra, "audit_concurrency", 4)),
            poll_initial=_positive(extra, "audit_poll_initial", os.environ.get("M365AUDIT_AUDIT_POLL_SECONDS") or 5.0),
            poll_max=_positive(extra, "audit_poll_max", 60.0),
            query_timeout=_positive(extra, "audit_query_timeout", 3600.0),
            page_size=int(page) if page else None,
            min_slice=timedelta(minutes=_positive(extra, "audit_min_slice_minutes", 1)),
            query_filters=dict(filters),
            upn_filter_limit=int(_positive(extra, "audit_upn_filter_limit", UPN_FILTER_LIMIT, zero_ok=True)),
        )


def _positive(extra: dict[str, Any], key: str, default: float | str, zero_ok: bool = False) -> float:
    value = extra.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{key} must be a number, not {value!r}.") from None
    if not math.isfinite(number):  # nan, inf: no interval or count
        raise UsageError(f"{key} must be a finite number, not {value!r}.")
    if number < 0 or (number == 0 and not zero_ok):
        raise UsageError(f"{key} must be more than zero, not {value!r}.")
    return number
