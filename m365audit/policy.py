"""The organisation's AI policy file (TOML): loading and strict validation.

One file, written once by the organisation, read by `check`, `report` and
`foi`. Every key is documented in docs/policy.md. A syntax error, an unknown
key, a wrong type or an impossible value is refused with the file, line and
key named (exit code 2) before anything runs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from m365audit.errors import UsageError
from m365audit.tomlfile import Locator, Parser, number, read_toml
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
    settings: dict[str, Any] = field(default_factory=dict, compare=False)

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


SCHEMA: dict[str, dict[str, tuple[str, Parser]]] = {
    "policy": {
        "name": ("name", _text),
        "reviewed_on": ("reviewed_on", _date),
        "review_every_months": ("review_every_months", _int_at_least(1, 120)),
    },
    "licences": {
        "copilot_groups": ("copilot_groups", _texts),
        "inactive_after_days": ("inactive_after_days", _int_at_least(1, 3650)),
        "unassigned_seat_tolerance": ("unassigned_seat_tolerance", _int_at_least(0, MAX_SEATS)),
    },
    "usage": {
        "training_group": ("training_group", _text),
        "approved_ai_apps": ("approved_ai_apps", _texts),
        "prohibited_sites": ("prohibited_sites", _texts),
    },
    "labels": {
        "restricted": ("restricted_labels", _texts),
        "max_unlabelled_share": ("max_unlabelled_share", _share),
    },
    "agents": {
        "approved": ("approved_agents", _texts),
        "allow_copilot_studio": ("allow_copilot_studio", _flag),
        "allow_third_party": ("allow_third_party", _flag),
    },
    "costs": {
        "currency": ("currency", _currency),
    },
    "foi": {
        "suppress_below": ("suppress_below", _int_at_least(1, 1000)),
        "financial_year_start_month": ("financial_year_start_month", _int_at_least(1, 12)),
        "secondary_suppression": ("secondary_suppression", _one_of("next_smallest", "round_totals")),
        "ai_skus": ("ai_skus", _texts),
    },
}
def _check_id(value: Any) -> str:
    """An exception must name a check of the catalogue, or it would silently except nothing."""
    from difflib import get_close_matches

    from m365audit.checks.catalogue import check_ids

    name = _text(value)
    known = check_ids()
    if name not in known:
        close = get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else " (see docs/checks.md)"
        raise ValueError(f"{name!r} is not a known check{hint}")
    return name


PRICE_KEYS = {"sku": _text, "monthly_price": None, "from": _date}
EXCEPTION_KEYS = {"check": _check_id, "subject": _text, "reason": _text, "until": _date}


def load_policy(path: Path | str) -> Policy:
    path = Path(path)
    data, text = read_toml(path, "Policy file")
    policy = parse_policy(data, text=text, source=str(path))
    return replace(policy, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def parse_policy(data: dict[str, Any], *, text: str = "", source: str = "policy") -> Policy:
    locate = Locator(text)
    values: dict[str, Any] = {"source": source}

    def fail(section: str, key: str | None, problem: str, occurrence: int = 0) -> UsageError:
        line = locate.line_of(section, key, occurrence)
        where = f"{section}.{key}" if key else section
        return UsageError(f"{source}, line {line}: {where} {problem}.")

    for section, body in data.items():
        if section == "exceptions":
            values["exceptions"] = tuple(_parse_exceptions(body, fail))
            continue
        if section not in SCHEMA:
            known = ", ".join(sorted([*SCHEMA, "exceptions"]))
            raise fail(section, None, f"is not a known section (known: {known})")
        if not isinstance(body, dict):
            raise fail(section, None, "must be a table")
        for key, value in body.items():
            if section == "costs" and key == "prices":
                values["prices"] = tuple(_parse_prices(value, fail))
                continue
            spec = SCHEMA[section].get(key)
            if spec is None:
                known = ", ".join(sorted(SCHEMA[section]) + (["prices"] if section == "costs" else []))
                raise fail(section, key, f"is not a known key (known: {known})")
            attribute, parser = spec
            try:
                values[attribute] = parser(value)
            except ValueError as exc:
                raise fail(section, key, str(exc)) from None
    values["settings"] = data
    return Policy(**values)


def _tables(value: Any, section: str, keys: list[str], required: list[str],
            fail: Callable[..., UsageError]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each table of an array of tables ([[section]]), with unknown and missing keys refused."""
    if not isinstance(value, list):
        raise fail(section, None, f"must be an array of tables ([[{section}]])")
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise fail(section, None, "must be an array of tables", n)
        unknown = set(item) - set(keys)
        if unknown:
            known = ", ".join(sorted(keys))
            raise fail(section, sorted(unknown)[0], f"is not a known key (known: {known})", n)
        for key in required:
            if key not in item:
                raise fail(section, key, "is required", n)
        yield n, item


def _parse_prices(value: Any, fail: Callable[..., UsageError]) -> list[Price]:
    prices = []
    for n, item in _tables(value, "costs.prices", list(PRICE_KEYS), list(PRICE_KEYS), fail):
        try:
            price = _price(item["monthly_price"])
        except ValueError as exc:
            raise fail("costs.prices", "monthly_price", str(exc), n) from None
        try:
            prices.append(Price(_text(item["sku"]), float(price), _date(item["from"])))
        except ValueError as exc:
            key = "sku" if not isinstance(item["sku"], str) or not item["sku"].strip() else "from"
            raise fail("costs.prices", key, str(exc), n) from None
    return prices


def _parse_exceptions(value: Any, fail: Callable[..., UsageError]) -> list[PolicyException]:
    out = []
    for n, item in _tables(value, "exceptions", list(EXCEPTION_KEYS), ["check", "subject", "reason"], fail):
        parsed: dict[str, Any] = {}
        for key, parser in EXCEPTION_KEYS.items():
            if key in item:
                try:
                    parsed[key] = parser(item[key])
                except ValueError as exc:
                    raise fail("exceptions", key, str(exc), n) from None
        out.append(PolicyException(**parsed))
    return out
