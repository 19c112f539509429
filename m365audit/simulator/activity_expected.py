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
    by_product: Counter[str] = Counter()
    by_actor: Counter[str] = Counter()
    agents: Counter[tuple[str | None, str | None]] = Counter()
    used_by: set[str] = set()
    totals: Counter[str] = Counter()
    users: set[str] = set()
    for record in records:
        event = record["CopilotEventData"]
        by_type[record["Operation"]] += 1
        by_app[event["AppHost"]] += 1
        product, actor, agent = meaning(record)
        by_product[product] += 1
        by_actor[actor] += 1
        if agent != (None, None):
            agents[agent] += 1
        if (record["Operation"] == ac.COPILOT and actor == "person"
                and product not in ("Security Copilot", "Copilot Studio agent")):
            used_by.add(record["UserId"].lower())
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
        "by_app": dict(by_product),
        "by_actor_type": dict(by_actor),
        "agents": dict(agents),
        "copilot_users": len(used_by),
    }


_ACTORS = {0: "person", 2: "admin", 5: "application", 6: "service principal"}


def meaning(record: dict[str, Any]) -> tuple[str, str, tuple[str | None, str | None]]:
    """What the simulator meant a record to say: (app, actor type, (agent id, agent name)).

    The simulator's own account of what it wrote (activity_catalogue's tables), for
    tests to compare with what the loader derives in SQL.
    """
    event = record["CopilotEventData"]
    spec = ac.program_of(record)
    if record["Operation"] == ac.THIRD_PARTY:
        return "other", "person", (None, None)
    if spec is not None:
        studio = None
        if spec.app == "Copilot Studio agent" and spec.app_identity:
            studio = spec.app_identity.split(".", 2)[2]  # Copilot.Studio.<id>
        return spec.app, _ACTORS[spec.user_type], (studio, None)
    host = event["AppHost"]
    app = ac.APP_OF_CONTEXT[event["Contexts"][0]["Type"]] if host == "appchat" else ac.APP_OF_HOST[host]
    return app, _ACTORS[record["UserType"]], (record.get("AgentId"), record.get("AgentName"))


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
