"""The organisation's AI policy file (TOML): loading and strict validation.

One file, written once by the organisation, read by `check`, `report` and
`foi`. Every key is documented in docs/policy.md. A syntax error, an unknown
key, a wrong type or an impossible value is refused with the file, line and
key named (exit code 2) before anything runs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationInfo

from m365audit.tomlfile import Table, number, parsed, read_toml, validate
from m365audit.tomlfile import one_of as _one_of
from m365audit.tomlfile import text as _text
from m365audit.tomlfile import texts as _texts
from m365audit.tomlfile import whole as _int_at_least


@dataclass(frozen=True)
class Price:
    sku: str  # skuPartNumber or skuId
    monthly_price: float  # per seat per month, in Costs.currency
    valid_from: date


@dataclass(frozen=True)
class PolicyException:
    check: str
    subject: str
    reason: str
    until: date | None = None

    def applies(self, on: date) -> bool:
        return self.until is None or on <= self.until


@dataclass(frozen=True)
class Policy:
    name: str = "AI policy"
    reviewed_on: date | None = None
    review_every_months: int = 12
    copilot_groups: tuple[str, ...] = ()
    inactive_after_days: int = 30
    unassigned_seat_tolerance: int = 0
    training_group: str | None = None
    approved_ai_apps: tuple[str, ...] = ()
    prohibited_sites: tuple[str, ...] = ()
    restricted_labels: tuple[str, ...] = ()
    max_unlabelled_share: float = 0.5
    approved_agents: tuple[str, ...] = ()  # agent names or ids (Microsoft's own agents need no approval)
    allow_copilot_studio: bool = False  # every agent built in the organisation's Copilot Studio is approved
    allow_third_party: bool = False  # every third-party agent is approved
    currency: str = "GBP"
    prices: tuple[Price, ...] = ()
    suppress_below: int = 5
    financial_year_start_month: int = 4
    secondary_suppression: str = "next_smallest"
    ai_skus: tuple[str, ...] = ()  # extra SKUs (part number or id) an FOI answer counts as AI licences
    exceptions: tuple[PolicyException, ...] = ()
    source: str | None = None  # the file it came from
    sha256: str | None = None  # of the file's text, so results name exactly the policy they judged

    def price_on(self, sku: str, sku_id: str | None, day: date) -> Price | None:
        """The price in force for a SKU (by part number or id) on ``day``."""
        keys = {sku.casefold()} | ({sku_id.casefold()} if sku_id else set())
        candidates = [p for p in self.prices if p.sku.casefold() in keys and p.valid_from <= day]
        return max(candidates, key=lambda p: p.valid_from) if candidates else None

    @property
    def named_groups(self) -> tuple[str, ...]:
        """Every group the policy names (the Copilot licensing groups and the training group), once each:
        `collect --policy` and `run` collect their members so the checks that need them can run."""
        named = (*self.copilot_groups, *((self.training_group,) if self.training_group else ()))
        return tuple(dict.fromkeys(named))

    @property
    def described(self) -> str:
        """The policy as results name it: its name, file and short hash."""
        if not self.source:
            return self.name
        return f"{self.name} ({self.source}, SHA-256 {(self.sha256 or '')[:12]})"


# Upper bounds a real organisation stays far below; beyond them a value is a typo (or 1e308).
MAX_SEATS = 10_000_000  # seats: the NHS shared tenant holds about 1.5 million accounts
MAX_MONTHLY_PRICE = 100_000.0  # per seat per month, in any currency
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2099, 12, 31)
_price = number(0, MAX_MONTHLY_PRICE)


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number between 0 and 1")
    if not 0 <= value <= 1:
        raise ValueError(f"must be between 0 and 1, not {value}")
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _date(value: Any) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        if not FIRST_DATE <= value <= LAST_DATE:
            # Dates are shifted by months and years (review cycle, financial years): 9999-12-31 overflows.
            raise ValueError(f"must be between {FIRST_DATE} and {LAST_DATE}, not {value}")
        return value
    raise ValueError("must be a date such as 2026-03-24 (unquoted)")


def _currency(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError("must be a three-letter ISO 4217 code such as GBP")
    return value


def _check_id(value: Any, info: ValidationInfo) -> str:
    """An exception must name a check of the catalogue, or it would silently except nothing.

    The known ids come from the caller (``load_policy(path, check_ids())``): the policy file
    is read below the checks, and must not import them."""
    name = _text(value)
    known = sorted((info.context or {}).get("checks", ()))
    if name not in known:
        close = get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else " (see docs/checks.md)"
        raise ValueError(f"{name!r} is not a known check{hint}")
    return name


Text = Annotated[str, parsed(_text)]
Texts = Annotated[tuple[str, ...], parsed(_texts)]
Day = Annotated[date, parsed(_date)]
Flag = Annotated[bool, parsed(_flag)]


# The file's tables, key for key as docs/policy.md documents them; defaults are Policy's. A field that
# may be absent is `X | None` inside its validator (TOML has no null, so None is only ever the default).
class PolicyTable(Table):
    name: Text = Policy.name
    reviewed_on: Annotated[date | None, parsed(_date)] = None
    review_every_months: Annotated[int, parsed(_int_at_least(1, 120))] = Policy.review_every_months


class LicencesTable(Table):
    copilot_groups: Texts = ()
    inactive_after_days: Annotated[int, parsed(_int_at_least(1, 3650))] = Policy.inactive_after_days
    unassigned_seat_tolerance: Annotated[int, parsed(_int_at_least(0, MAX_SEATS))] = Policy.unassigned_seat_tolerance


class UsageTable(Table):
    training_group: Annotated[str | None, parsed(_text)] = None
    approved_ai_apps: Texts = ()
    prohibited_sites: Texts = ()


class LabelsTable(Table):
    restricted: Texts = ()
    max_unlabelled_share: Annotated[float, parsed(_share)] = Policy.max_unlabelled_share


class AgentsTable(Table):
    approved: Texts = ()
    allow_copilot_studio: Flag = False
    allow_third_party: Flag = False


class PriceTable(Table):
    sku: Text
    monthly_price: Annotated[float, parsed(_price)]
    valid_from: Day = Field(alias="from")


class CostsTable(Table):
    currency: Annotated[str, parsed(_currency)] = Policy.currency
    prices: tuple[PriceTable, ...] = ()


class FoiTable(Table):
    suppress_below: Annotated[int, parsed(_int_at_least(1, 1000))] = Policy.suppress_below
    financial_year_start_month: Annotated[int, parsed(_int_at_least(1, 12))] = Policy.financial_year_start_month
    secondary_suppression: Annotated[str, parsed(_one_of("next_smallest", "round_totals"))] = \
        Policy.secondary_suppression
    ai_skus: Texts = ()


class ExceptionTable(Table):
    check: Annotated[str, parsed(_check_id)]
    subject: Text
    reason: Text
    until: Annotated[date | None, parsed(_date)] = None


class PolicyFile(Table):
    policy: PolicyTable = PolicyTable()
    licences: LicencesTable = LicencesTable()
    usage: UsageTable = UsageTable()
    labels: LabelsTable = LabelsTable()
    agents: AgentsTable = AgentsTable()
    costs: CostsTable = CostsTable()
    foi: FoiTable = FoiTable()
    exceptions: tuple[ExceptionTable, ...] = ()

    def to_policy(self, source: str) -> Policy:
        return Policy(
            name=self.policy.name, reviewed_on=self.policy.reviewed_on,
            review_every_months=self.policy.review_every_months,
            copilot_groups=self.licences.copilot_groups, inactive_after_days=self.licences.inactive_after_days,
            unassigned_seat_tolerance=self.licences.unassigned_seat_tolerance,
            training_group=self.usage.training_group, approved_ai_apps=self.usage.approved_ai_apps,
            prohibited_sites=self.usage.prohibited_sites,
            restricted_labels=self.labels.restricted, max_unlabelled_share=self.labels.max_unlabelled_share,
            approved_agents=self.agents.approved, allow_copilot_studio=self.agents.allow_copilot_studio,
            allow_third_party=self.agents.allow_third_party,
            currency=self.costs.currency,
            prices=tuple(Price(p.sku, p.monthly_price, p.valid_from) for p in self.costs.prices),
            suppress_below=self.foi.suppress_below, financial_year_start_month=self.foi.financial_year_start_month,
            secondary_suppression=self.foi.secondary_suppression, ai_skus=self.foi.ai_skus,
            exceptions=tuple(PolicyException(e.check, e.subject, e.reason, e.until) for e in self.exceptions),
            source=source)


def load_policy(path: Path | str, known_checks: Collection[str]) -> Policy:
    """The policy file, parsed once; ``known_checks`` are the ids an exception may name."""
    path = Path(path)
    data, text = read_toml(path, "Policy file")
    policy = parse_policy(data, known_checks, text=text, source=str(path))
    return replace(policy, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def parse_policy(data: dict[str, Any], known_checks: Collection[str], *, text: str = "",
                 source: str = "policy") -> Policy:
    """Every problem of the file at once (UsageError: file, line, key), or the Policy."""
    parsed_file = validate(PolicyFile, data, text=text, source=source, kind="policy file",
                           context={"checks": tuple(known_checks)})
    return parsed_file.to_policy(source)
