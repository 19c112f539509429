"""How the simulated tenant's activity and its Graph APIs behave: rates and API switches.

Kept apart from ``tenant.py`` so the tenant's config can carry them without
importing the activity model. Tests build a clean or a faulty tenant by
passing other values (``CLEAN_ACTIVITY``, ``ApiBehaviour(audit_v1=False)``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ActivityRates:
    """How much Copilot is used, and how often the things an AI policy forbids happen.

    The policy-relevant rates (jailbreak, xpia, highly_confidential,
    safeguarding_site, restricted_documents, third_party_users) are all zero in
    ``CLEAN_ACTIVITY``; usage and agents stay, because they break no policy.
    """

    prompts_per_day: float = 8.0  # mean Copilot interactions of a seat holder on a working day
    chat_prompts_per_day: float = 2.0  # mean Copilot Chat interactions of an unlicensed chat user
    weekend_factor: float = 0.15  # share of a working day's activity at weekends
    chat_users: float = 0.2  # share of unlicensed staff (with Copilot Chat) who use it
    accessed_resources: float = 0.55  # share of interactions that read files from SharePoint
    labelled: float = 0.6  # share of accessed files carrying a sensitivity label
    agents: float = 0.05  # share of Copilot Chat interactions through a Copilot Studio agent
    web_search: float = 0.3  # share of Copilot Chat interactions grounded on the web (BingWebSearch)
    # Policy-relevant: the things the checks look for.
    highly_confidential: float = 0.03  # share of labelled files labelled Highly Confidential
    safeguarding_site: float = 0.01  # share of accessed files read from the Safeguarding site
    jailbreak: float = 0.003  # share of prompts flagged JailbreakDetected
    xpia: float = 0.003  # share of accessed files flagged XPIADetected (cross-prompt injection)
    restricted_documents: float = 0.004  # share of Word/Outlook uses on a disciplinary/legal/complaint letter
    third_party_users: float = 0.03  # share of Copilot users who also use a third-party AI app
    third_party_per_day: float = 1.5  # mean AIAppInteraction records of such a user per working day
    programs_per_day: float = 3.0  # mean Copilot records of each actor in PROGRAMS per working day (0: none)
    # Switches that make activity clean by construction (the demo): only trained staff use Copilot Chat,
    # and every seat holder who uses Copilot at all does so at least on one Monday in every
    # ``use_every_weeks`` weeks (0: no such floor), so no such seat is idle for 30 days.
    chat_needs_training: bool = False
    use_every_weeks: int = 0


CLEAN_ACTIVITY = ActivityRates(
    highly_confidential=0.0, safeguarding_site=0.0, jailbreak=0.0, xpia=0.0,
    restricted_documents=0.0, third_party_users=0.0,
)


# What an ActivityPlant makes happen, on its day, in the user's first record of that day.
PLANT_KINDS = (
    "jailbreak",  # the first prompt is flagged JailbreakDetected
    "xpia",  # Copilot reads ac.PLANTED_DOCUMENTS["xpia"], flagged XPIADetected
    "prohibited_site",  # Copilot reads a file on the prohibited (Safeguarding) site
    "lookalike_site",  # Copilot reads a file on a site whose address starts like the prohibited one
    "restricted_label",  # Copilot reads a file labelled Highly Confidential
    "ai_app",  # the user uses a third-party AI app (``app``) on that day and at their usual rate
    "chat",  # the user, without a seat, uses Copilot Chat (whatever chat_users and training say)
    "stops",  # the user's last Copilot use is on that day
    "agent_unapproved",  # the record names an agent no example policy approves (ac.PLANTED_AGENTS)
    "agent_restricted",  # an approved agent reads the Highly Confidential file of "restricted_label"
    "agent_prohibited_site",  # an approved agent reads the prohibited site's file of "prohibited_site"
)


@dataclass(frozen=True)
class ActivityPlant:
    """A planted event in one user's activity, ``days_ago`` days before the tenant's anchor."""

    index: int
    kind: str
    days_ago: int = 3
    app: str = ""  # AppHost of the third-party app, for kind "ai_app"

    def __post_init__(self) -> None:
        if self.kind not in PLANT_KINDS:
            raise ValueError(f"unknown activity plant kind {self.kind!r}")


@dataclass(frozen=True)
class ApiBehaviour:
    """Switches for the simulated audit log and report APIs (defaults behave like Graph)."""

    audit_record_limit: int = 1_000_000  # records per query before isRecordCountLimitExceeded
    audit_page_size: int = 1000  # records per page (also the largest $top accepted)
    audit_polls_until_done: int = 3  # status polls before a query has succeeded
    # The tenant's audit query service limits (Graph throttling limits, "Security audit log query service
    # limits"): submissions per rolling 24 hours and queries queued or running at once; over either, a
    # creation is answered 429 with Retry-After. ``audit_query_seconds``: how long a query runs at least
    # (wall clock from its creation), so that a query can outlive the run that created it.
    audit_daily_submissions: int = 200
    audit_max_running: int = 50
    audit_query_seconds: float = 0.0
    audit_empty_page_every: int = 7  # every Nth page is empty but carries a nextLink (0: never)
    # The first ``audit_quota_refusals`` creations are answered 429 with Retry-After
    # ``audit_quota_retry_after`` seconds, as when other tools of a shared tenant have just spent its quota.
    audit_quota_refusals: int = 0
    audit_quota_retry_after: float = 1.0
    audit_list_page_size: int = 100  # auditLogQuery objects per page of GET /security/auditLog/queries
    audit_v1: bool = True  # False: v1.0 /security/auditLog answers 404 (only beta has it, as after MC1052169)
    audit_beta: bool = True  # False: beta /security/auditLog answers 404 (only v1.0 has it)
    conceal_report_names: bool = False  # initial admin/reportSettings displayConcealedNames
    # False: a tenant that does not serve the usage reports' version parameter yet; a request
    # carrying it gets Graph's answer to an unknown function, 400 "Resource not found for the segment".
    usage_report_v2: bool = True
    report_download_ttl: float = 300.0  # seconds a legacy report download URL stays valid


# ``m365audit simulate --audit-limits``: names for the audit query service's limits (ApiBehaviour fields),
# each with its range. Counts are whole numbers; seconds may be fractions.
AUDIT_LIMITS: dict[str, tuple[str, float, float]] = {
    "daily": ("audit_daily_submissions", 0, 100_000),
    "running": ("audit_max_running", 0, 10_000),
    "records": ("audit_record_limit", 1, 100_000_000),
    "seconds": ("audit_query_seconds", 0, 86_400),
    "refusals": ("audit_quota_refusals", 0, 10_000),
    "retry_after": ("audit_quota_retry_after", 0, 3_600),
}


def spec_pairs(spec: str) -> list[tuple[str, str]]:
    """``name=value,name=value`` (the simulator's --faults and --audit-limits) as (lower-case name, value)
    pairs; empty parts are skipped, and a part without ``=`` is a ValueError naming it."""
    pairs = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        key, sep, raw = part.partition("=")
        if not sep:
            raise ValueError(f"{part!r} is not NAME=VALUE")
        pairs.append((key.strip().lower(), raw))
    return pairs


def parse_audit_limits(spec: str) -> ApiBehaviour:
    """``daily=20,running=5,records=50000,seconds=30,refusals=2,retry_after=5`` as API switches.

    ValueError names the bad part. Limits the spec does not name keep Graph's (ApiBehaviour's defaults).
    """
    values: dict[str, float] = {}
    for key, raw in spec_pairs(spec):
        if key not in AUDIT_LIMITS:
            raise ValueError(f"{key!r} is not an audit limit; use {', '.join(AUDIT_LIMITS)}")
        field, low, high = AUDIT_LIMITS[key]
        try:
            value = float(raw) if key in ("seconds", "retry_after") else int(raw)
        except ValueError:
            kind = "a number of seconds" if key in ("seconds", "retry_after") else "a whole number"
            raise ValueError(f"{key} needs {kind}, not {raw.strip()!r}") from None
        if not low <= value <= high:
            raise ValueError(f"{key} must be between {low:,.0f} and {high:,.0f}")
        values[field] = value
    return replace(ApiBehaviour(), **values)  # type: ignore[arg-type]
