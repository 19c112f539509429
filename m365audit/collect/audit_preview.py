"""`collect --plan` and `doctor`: what an audit collection over a window would do, creating nothing.

Reads the database only (its watermark, saved queries and the budget they have
spent); Microsoft Graph is not contacted. The number of new queries is a lower
bound: a query that reports isRecordCountLimitExceeded is split in two.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from m365audit.collect.audit import collection_window, read_stored
from m365audit.collect.audit_plan import AuditPlan, Budget, plan
from m365audit.collect.audit_settings import AuditSettings
from m365audit.collect.record_types import PAY_AS_YOU_GO
from m365audit.collect.scope import scope_audit_filters
from m365audit.scope import parse_scope
from m365audit.store.audit_queries import INTENDED, Usage, budget_usage, filters_key, saved_queries, types_key
from m365audit.store.db import open_db
from m365audit.wording import plural


@dataclass(frozen=True)
class Preview:
    settings: AuditSettings
    plan: AuditPlan
    budget: Budget
    now: datetime
    intents: int = 0  # queries a stopped run recorded but never saw answered (store/audit_queries.py)

    @property
    def left(self) -> int:
        return self.budget.left(self.now)

    def lines(self) -> list[str]:
        window, the_plan, settings = self.plan.window, self.plan, self.settings
        days = window.length / timedelta(days=1)
        frees = self.budget.frees_at(self.now)
        out = [
            f"Audit collection plan for {window.label()} ({plural(round(days, 1), 'day')}; record types "
            f"{', '.join(settings.record_types)}):",
            f"  saved queries: {len(the_plan.resume)} to resume (running or not yet paged), "
            f"{len(the_plan.landed)} window(s) already landed",
            f"  new queries: {len(the_plan.create)} (slices of up to {_span(the_plan.width)}; one more for each "
            "query that reports isRecordCountLimitExceeded)",
            f"  budget: {self.left} of {settings.daily_queries} query submissions left in the rolling 24 hours"
            + (f" (the next frees at {frees.isoformat(timespec='minutes')})" if frees else "")
            + f"; {max(0, settings.running_queries - self.budget.running)} of {settings.running_queries} "
            "running-query slots free",
        ]
        if self.intents:
            out.append(f"  {plural(self.intents, 'query', 'queries')} a stopped run may have created without "
                       "saving the id: the next collection looks them up by displayName in the tenant's list "
                       "first, and creates a query only for a window Graph has none for")
        if len(the_plan.create) > self.left:
            out.append(f"  warning: the budget allows {self.left} of the {len(the_plan.create)} new queries now; "
                       "a collection creates those and says which part of the window is left")
        if PAY_AS_YOU_GO in settings.record_types:
            out.append(f"  note: {PAY_AS_YOU_GO} records exist only where the tenant has enabled Microsoft "
                       "Purview's pay-as-you-go auditing of non-Microsoft AI apps")
        return out


def preview(db: Path, settings: AuditSettings, scope_text: str | None, since: datetime | None,
            until: datetime | None, now: datetime | None = None) -> Preview:
    scope = parse_scope(scope_text)
    now = now or datetime.now(UTC)
    if db.exists():
        stored = read_stored(db, settings, scope, read_only=True)
        mark, upns = stored.mark, stored.upns
    else:
        mark, upns = None, None
    window = collection_window(settings, mark, since, until, now)
    filters = scope_audit_filters(scope, upns, settings.upn_filter_limit)
    settings = replace(settings, query_filters={**settings.query_filters, **filters})
    key = (types_key(settings.record_types), filters_key(settings.query_filters))
    saved, usage = [], Usage([], 0)
    if db.exists():
        with open_db(db, read_only=True) as con:
            saved, usage = saved_queries(con, *key), budget_usage(con, now)
    intents = sum(1 for q in saved if q.status == INTENDED)
    return Preview(settings, plan(window, saved, settings, now), Budget.from_usage(settings, usage), now, intents)


def _span(width: timedelta) -> str:
    hours = width.total_seconds() / 3600
    return plural(hours / 24, "day") if hours >= 48 else plural(hours, "hour")
