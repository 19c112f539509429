"""The one shape results take: a Finding record per failing subject, or per check that passed or did not run.

Every output (table, JSON, CSV, the findings view) renders these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from m365audit.checks.catalogue import Check
from m365audit.policy import Policy
from m365audit.wording import plural

STATUSES = ("pass", "fail", "not_checked")


@dataclass(frozen=True)
class Finding:
    check_id: str
    severity: str
    status: str  # pass, fail or not_checked
    subject: str | None  # None for pass and not_checked records
    detail: str | None  # evidence, or the reason a check did not run
    excepted: bool = False
    exception_reason: str | None = None
    exception_until: date | None = None  # when the policy's exception ends (None: no end date)
    change: str | None = None  # new or open, for fail records, once compared with the previous run

    @property
    def key(self) -> tuple[str, str]:
        """Identity across runs: subjects are sign-in names, SKUs, apps or URLs, compared case-insensitively."""
        return self.check_id, (self.subject or "").casefold()


@dataclass(frozen=True)
class CheckResult:
    check: Check
    records: tuple[Finding, ...]  # fail records, or one pass / not_checked record

    @property
    def status(self) -> str:
        if any(r.status == "not_checked" for r in self.records):
            return "not_checked"
        return "fail" if self.failures else "pass"

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(r for r in self.records if r.status == "fail")

    @property
    def failures(self) -> int:
        """Findings the policy does not except: these make the check fail."""
        return sum(1 for r in self.findings if not r.excepted)

    @property
    def reason(self) -> str | None:
        if self.status == "not_checked":
            return self.records[0].detail
        excepted = len(self.findings) - self.failures
        if excepted:
            return f"{plural(excepted, 'finding')} excepted by the policy file"
        return None


@dataclass(frozen=True)
class CheckRun:
    checked_at: datetime
    policy: Policy
    results: tuple[CheckResult, ...]
    snapshot_at: datetime | None = None
    fixed: tuple[tuple[str, str], ...] = field(default=())  # (check_id, subject) fixed since the previous run
    run_id: str | None = None
    scope: str | None = None  # the database's scope in words (store.scope.ScopeRecord.description); None: whole tenant

    @property
    def scope_text(self) -> str:
        return self.scope or "the whole tenant"

    @property
    def check_date(self) -> date:
        return self.checked_at.date()

    @property
    def records(self) -> tuple[Finding, ...]:
        return tuple(r for result in self.results for r in result.records)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for result in self.results for f in result.findings)
