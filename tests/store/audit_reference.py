"""What the copilot_* views must hold for one AuditData record: a plain-Python reading of the JSON.

Tests compare the SQL normalisation with this. Keys are looked up
case-insensitively (the documented spelling first), as the loader promises.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson

TYPES = {"261": "CopilotInteraction", "284": "AIAppInteraction", "328": "ConnectedAIAppInteraction",
         "334": "TeamCopilotInteraction"}


def get(obj: Any, key: str) -> Any:
    if not isinstance(obj, dict):
        return None
    if key in obj:
        return obj[key]
    for k, v in obj.items():
        if k.lower() == key.lower():
            return v
    return None


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


def flag(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    raise ValueError(f"reference handles booleans only, not {value!r}")


def instant(value: str) -> datetime:
    ts = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(UTC)


def _objects(items: Any) -> list[dict[str, Any]]:
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
INTERACTION_COLUMNS = ("record_id, created_at, user_principal_name, user_id, record_type, operation, app_host, "
                       "app_identity, thread_id, agent_id, agent_name, client_region, user_type, agent_version, "
                       "target_agent_name, client_ip")
RESOURCE_COLUMNS = ("record_id, resource_id, resource_name, resource_type, site_url, sensitivity_label_id, action, "
                    "status, xpia_detected, policy_details")


def _either(data: dict[str, Any], event: Any, key: str) -> str | None:
    """A key at the top level, else in CopilotEventData."""
    return text(get(data, key) if get(data, key) is not None else get(event, key))


def _object_id(value: Any) -> str | None:
    # SQL's trim() removes spaces only
    return value.strip(" ").lower() if isinstance(value, str) and _GUID.fullmatch(value.strip(" ")) else None


def _studio_id(identity: str | None) -> str | None:
    prefix = "copilot.studio."
    if identity and identity.strip(" ").lower().startswith(prefix):
        return identity.strip(" ")[len(prefix):] or None
    return None


def _first(*values: str | None) -> str | None:
    """SQL's coalesce: the first value that is not NULL (an empty string counts)."""
    return next((v for v in values if v is not None), None)


def _agent_id(agent_id: str | None, identity: str | None) -> str | None:
    return agent_id if agent_id is not None and agent_id.strip(" ") else _studio_id(identity)


def _policy(value: Any) -> str | None:
    if value in (None, "", {}, []):
        return None
    return text(value)


def expected_rows(data: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    event = get(data, "CopilotEventData") or {}
    rid = text(get(data, "Id")).strip()
    record_type = text(get(data, "RecordType"))
    interactions = [(
        rid, instant(get(data, "CreationTime")), (get(data, "UserId") or "").strip().lower() or None, None,
        TYPES.get(record_type, record_type), text(get(data, "Operation")), text(get(event, "AppHost")),
        text(get(data, "AppIdentity")), text(get(event, "ThreadId")),
        _agent_id(_either(data, event, "AgentId"), text(get(data, "AppIdentity"))),
        _first(_either(data, event, "AgentName"), _either(data, event, "TargetAgentName")),
        text(get(data, "ClientRegion")), text(get(data, "UserType")), _either(data, event, "AgentVersion"),
        _either(data, event, "TargetAgentName"), text(get(data, "ClientIP")),
    )]
    interactions = [(*row[:3], _object_id(get(data, "UserKey")), *row[4:]) for row in interactions]
    resources = [(rid, text(get(r, "Id")), text(get(r, "Name")), text(get(r, "Type")), text(get(r, "SiteUrl")),
                  text(get(r, "SensitivityLabelId")), text(get(r, "Action")), text(get(r, "Status")),
                  flag(get(r, "XPIADetected")), _policy(get(r, "PolicyDetails")))
                 for r in _objects(get(event, "AccessedResources"))]
    messages = [(rid, text(get(m, "Id")), flag(get(m, "isPrompt")), flag(get(m, "JailbreakDetected")))
                for m in _objects(get(event, "Messages"))]
    messages = [m for m in messages if any(v is not None for v in m[1:])]
    if not messages:  # no message that carries anything: the older revision's MessageIds (queries/audit/land.sql)
        ids = get(event, "MessageIds")
        messages = [(rid, text(i), None, None) for i in ids if i is not None] if isinstance(ids, list) else []
    contexts = [(rid, text(get(c, "Id")), text(get(c, "Type"))) for c in _objects(get(event, "Contexts"))]
    plugins = [(rid, text(get(p, "Id")), text(get(p, "Name")), text(get(p, "Version")))
               for p in _objects(get(event, "AISystemPlugin"))]
    return {
        "copilot_interactions": interactions,
        "copilot_accessed_resources": [r for r in resources if any(v is not None for v in r[1:])],
        "copilot_messages": [m for m in messages if any(v is not None for v in m[1:])],
        "copilot_contexts": [c for c in contexts if any(v is not None for v in c[1:])],
        "copilot_plugins": [p for p in plugins if any(v is not None for v in p[1:])],
    }


def actual_rows(con: Any, record_ids: list[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    columns = {"copilot_interactions": INTERACTION_COLUMNS, "copilot_accessed_resources": RESOURCE_COLUMNS}
    for view in ("copilot_interactions", "copilot_accessed_resources", "copilot_messages", "copilot_contexts",
                 "copilot_plugins"):
        rows = con.execute(f"SELECT {columns.get(view, '*')} FROM {view}").fetchall()
        out[view] = sorted((r for r in rows if record_ids is None or r[0] in record_ids), key=repr)
    return out


def sort_rows(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {k: sorted(v, key=repr) for k, v in rows.items()}
