"""The truth about simulated activity, for tests and checks to compare the database with.

``expected_activity`` tallies what the audit views must hold for a window;
``flagged_records`` lists the record ids behind each policy-relevant flag.
Both build every record in Python, so use them on test-sized tenants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import Any

from m365audit.simulator import activity_catalogue as ac
from m365audit.simulator import catalogue as cat
from m365audit.simulator.activity import ActivityModel


def expected_activity(model: ActivityModel, start: datetime, end: datetime,
                      record_types: Collection[str] | None = None) -> dict[str, Any]:
    """Row counts of each copilot_* view, and breakdowns, for records in [start, end)."""
    return tally(model.records(start, end, record_types))


def tally(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    by_type: Counter[str] = Counter()
    by_app: Counter[str] = Counter()
    by_label: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    users: set[str] = set()
    for record in records:
        event = record["CopilotEventData"]
        by_type[record["Operation"]] += 1
        by_app[event["AppHost"]] += 1
        users.add(record["UserId"].lower())
        totals["interactions"] += 1
        totals["agent_interactions"] += "AgentId" in record
        totals["contexts"] += len(event.get("Contexts", []))
        totals["plugins"] += len(event.get("AISystemPlugin", []))
        for message in event["Messages"]:
            totals["messages"] += 1
            totals["prompts"] += message["isPrompt"]
            totals["jailbreaks"] += message.get("JailbreakDetected", False)
        for resource in event.get("AccessedResources", []):
            totals["accessed_resources"] += 1
            totals["xpia"] += resource["XPIADetected"]
            label = resource.get("SensitivityLabelId")
            if label:
                by_label[label] += 1
            totals["safeguarding_resources"] += _on_prohibited_site(resource["SiteUrl"])
    return {
        **{k: totals[k] for k in ("interactions", "messages", "prompts", "jailbreaks", "accessed_resources",
                                  "xpia", "safeguarding_resources", "contexts", "plugins",
                                  "agent_interactions")},
        "highly_confidential_resources": by_label[ac.HIGHLY_CONFIDENTIAL],
        "users": len(users),
        "by_record_type": dict(by_type),
        "by_app_host": dict(by_app),
        "by_label": dict(by_label),
    }


def flagged_records(model: ActivityModel, start: datetime, end: datetime) -> dict[str, list[str]]:
    """Record ids per policy-relevant flag (sorted), for checks to assert exact findings."""
    flags: dict[str, set[str]] = {name: set() for name in (
        "jailbreak", "xpia", "highly_confidential", "safeguarding_site", "restricted_document",
        "third_party", "agent")}
    restricted = set(ac.RESTRICTED_DOCUMENTS)
    for record in model.records(start, end):
        rid = record["Id"]
        event = record["CopilotEventData"]
        if record["Operation"] == ac.THIRD_PARTY:
            flags["third_party"].add(rid)
        if "AgentId" in record:
            flags["agent"].add(rid)
        if any(m.get("JailbreakDetected") for m in event["Messages"]):
            flags["jailbreak"].add(rid)
        for resource in event.get("AccessedResources", []):
            if resource["XPIADetected"]:
                flags["xpia"].add(rid)
            if resource.get("SensitivityLabelId") == ac.HIGHLY_CONFIDENTIAL:
                flags["highly_confidential"].add(rid)
            if _on_prohibited_site(resource["SiteUrl"]):
                flags["safeguarding_site"].add(rid)
        if any(_document_name(c["Id"]) in restricted for c in event.get("Contexts", [])):
            flags["restricted_document"].add(rid)
    return {name: sorted(ids) for name, ids in flags.items()}


def expected_usage(model: ActivityModel, refresh: date, period_days: int | None) -> dict[str, dict[str, Any]]:
    """Per seat holder (lower-case UPN): last activity date per usage-report column."""
    from m365audit.simulator.reports_model import usage_rows

    return {row["upn"].lower(): row for row in usage_rows(model, refresh, period_days)}


def _on_prohibited_site(url: str) -> bool:
    return f"/sites/{cat.PROHIBITED_SITE}/" in url


def _document_name(url: str) -> str:
    from urllib.parse import unquote

    return unquote(url.split("?", 1)[0].rsplit("/", 1)[-1])
