"""The values a check's SQL may use, taken from the policy file and the check date.

Checks refer to them as named parameters (``$inactive_after_days``); the
runner binds only the ones a check uses. Policy text never reaches SQL by
string formatting. Names and lists are lower-cased here so the SQL can match
them case-insensitively with ``lower(...)`` on the data side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from m365audit.policy import Policy


@dataclass(frozen=True)
class Param:
    name: str
    source: str  # where the value comes from, for docs/checks.md
    value: Callable[[Policy, date], Any]


def _lower(values: tuple[str, ...]) -> list[str]:
    return [v.casefold() for v in values]


def _site_prefixes(values: tuple[str, ...]) -> list[str]:
    # "…/sites/Safeguarding/" and "…/sites/Safeguarding" name the same site.
    return [v.casefold().rstrip("/") for v in values]


PARAMS: dict[str, Param] = {p.name: p for p in (
    Param("check_date", "the check date (today, or `--check-date`)", lambda p, d: d),
    Param("policy_name", "`[policy] name`", lambda p, d: p.name),
    Param("reviewed_on", "`[policy] reviewed_on`", lambda p, d: p.reviewed_on),
    Param("review_every_months", "`[policy] review_every_months`", lambda p, d: p.review_every_months),
    Param("copilot_groups", "`[licences] copilot_groups` (lower-cased)", lambda p, d: _lower(p.copilot_groups)),
    Param("inactive_after_days", "`[licences] inactive_after_days`", lambda p, d: p.inactive_after_days),
    Param("unassigned_seat_tolerance", "`[licences] unassigned_seat_tolerance`",
          lambda p, d: p.unassigned_seat_tolerance),
    Param("training_group", "`[usage] training_group` (lower-cased)",
          lambda p, d: p.training_group.casefold() if p.training_group else None),
    Param("approved_ai_apps", "`[usage] approved_ai_apps` (lower-cased)", lambda p, d: _lower(p.approved_ai_apps)),
    Param("prohibited_sites", "`[usage] prohibited_sites` (lower-cased, no trailing slash)",
          lambda p, d: _site_prefixes(p.prohibited_sites)),
    Param("restricted_labels", "`[labels] restricted` (lower-cased)", lambda p, d: _lower(p.restricted_labels)),
    Param("approved_agents", "`[agents] approved` (lower-cased)", lambda p, d: _lower(p.approved_agents)),
    Param("allow_copilot_studio", "`[agents] allow_copilot_studio`", lambda p, d: p.allow_copilot_studio),
    Param("allow_third_party", "`[agents] allow_third_party`", lambda p, d: p.allow_third_party),
    Param("max_unlabelled_share", "`[labels] max_unlabelled_share`", lambda p, d: p.max_unlabelled_share),
)}


def bind(names: tuple[str, ...], policy: Policy, check_date: date) -> dict[str, Any]:
    """The named parameters for one check's SQL."""
    return {name: PARAMS[name].value(policy, check_date) for name in names}
