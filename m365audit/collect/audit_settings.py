"""Settings of the audit log collection, read from ``CollectOptions.extra``.

Keys (all optional): ``audit_record_types`` (list or comma-separated; default
CopilotInteraction), ``audit_slice_hours`` (24), ``audit_overlap_hours`` (48),
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

from m365audit.collect.scope import UPN_FILTER_LIMIT
from m365audit.errors import UsageError

AI_RECORD_TYPES = ("CopilotInteraction", "AIAppInteraction", "ConnectedAIAppInteraction", "TeamCopilotInteraction")
VERSIONS = ("v1.0", "beta")


@dataclass(frozen=True)
class AuditSettings:
    record_types: tuple[str, ...] = ("CopilotInteraction",)
    slice: timedelta = timedelta(hours=24)
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
            slice=timedelta(hours=_positive(extra, "audit_slice_hours", 24)),
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


def parse_record_types(raw: Any) -> tuple[str, ...]:
    """Record type names, matched case-insensitively against the AI record types."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    known = {t.lower(): t for t in AI_RECORD_TYPES}
    chosen = []
    for item in items:
        name = str(item).strip()
        if not name:
            continue
        if name.lower() not in known:
            raise UsageError(f"Record type {name!r} is not one m365audit collects; choose from "
                             f"{', '.join(AI_RECORD_TYPES)}.")
        chosen.append(known[name.lower()])
    if not chosen:
        raise UsageError(f"Choose at least one record type from {', '.join(AI_RECORD_TYPES)}.")
    return tuple(dict.fromkeys(chosen))


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
