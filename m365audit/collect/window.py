"""How far back and forward `collect --since/--until` may reach: what the audit log can hold.

Microsoft Purview keeps audit records for 180 days on Audit Standard
(../shared/GRAPH_NOTES.md; Microsoft Learn, "Audit log retention policies");
Audit Premium keeps them for a year by default and, with retention policies,
up to ten years (RetentionDuration TenYears). Asking for more creates one
query per day for nothing, so a window beyond the retention, or ending in
the future, is refused with a sentence saying how to reach further.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from m365audit import environment
from m365audit.errors import UsageError
from m365audit.wording import plural

STANDARD_RETENTION_DAYS = 180
MAX_RETENTION_DAYS = 3650  # Audit Premium with a ten-year retention policy
RETENTION_ENV = environment.AUDIT_RETENTION_DAYS.name
_CLOCK_SKEW = timedelta(minutes=5)


def retention_days(value: int | None = None) -> int:
    """The audit log's retention: ``value``, else env M365AUDIT_AUDIT_RETENTION_DAYS, else 180."""
    days = value if value is not None else environment.AUDIT_RETENTION_DAYS.read()
    if days is None:
        return STANDARD_RETENTION_DAYS
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise UsageError(f"The audit retention must be between 1 and {MAX_RETENTION_DAYS} days, not {days}.")
    return days


def check_window(since: datetime | None, until: datetime | None, now: datetime, days: int) -> None:
    """Refuse --since before the oldest record the log can hold, and --until in the future."""
    if until is not None and until > now + _CLOCK_SKEW:
        raise UsageError(f"--until {until:%Y-%m-%d %H:%M} UTC is in the future; the audit log holds nothing "
                         "after now (leave --until out to collect up to now).")
    oldest = now - timedelta(days=days)
    for option, value in (("--since", since), ("--until", until)):
        if value is not None and value < oldest:
            raise UsageError(
                f"{option} {value.date().isoformat()} is more than {plural(days, 'day')} ago; the audit log holds "
                "nothing older "
                f"(Audit Standard keeps 180 days; for Audit Premium pass --audit-retention-days or set "
                f"{RETENTION_ENV} or [audit] retention_days).")
