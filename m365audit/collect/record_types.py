"""Audit record types: Graph's ``auditLogRecordType`` names, and the AI ones m365audit collects.

``auditlogrecordtype.txt`` beside this module lists every member of the enum as
``Name Value`` lines. It is generated from Microsoft's metadata
(``samples/graph-schema/*security.auditLogRecordType.xml``) by
``python -m m365audit.collect.record_types XML > m365audit/collect/auditlogrecordtype.txt``,
and a test compares it with that file. ``--record-types`` and ``[audit] record_types``
accept any name in it; ``AI_RECORD_TYPES`` are the ones the docs describe.
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

from m365audit.errors import UsageError

DEFAULT = ("CopilotInteraction",)

# The AI interaction, Copilot and agent types of auditLogRecordType (docs/operations.md,
# "Audit record types"). AIAppInteraction records exist only where the tenant has turned on
# Purview's pay-as-you-go auditing of non-Microsoft AI apps.
AI_RECORD_TYPES = (
    "CopilotInteraction", "AIAppInteraction", "ConnectedAIAppInteraction", "TeamCopilotInteraction",
    "Microsoft365CopilotScheduledPrompt", "OutlookCopilotAutomation", "CopilotActions",
    "CopilotSessionSharing", "AIInvokeAgent", "A365AIInvokeAgent", "CopilotAgentManagement",
    "AgentAdminActivity", "AgentSettingsAdminActivity", "UpdateCopilotSettings",
    "CreateCopilotPlugin", "UpdateCopilotPlugin", "DeleteCopilotPlugin", "EnableCopilotPlugin",
    "DisableCopilotPlugin", "CreateCopilotPromptBook", "UpdateCopilotPromptBook", "DeleteCopilotPromptBook",
    "EnableCopilotPromptBook", "DisableCopilotPromptBook",
)
PAY_AS_YOU_GO = "AIAppInteraction"
_MEMBER = re.compile(r'<Member Name="([A-Za-z0-9_]+)" Value="(\d+)"\s*/>')


@cache
def enum_members() -> dict[str, int]:
    """Every auditLogRecordType member, name -> value, from the shipped list."""
    text = (Path(__file__).parent / "auditlogrecordtype.txt").read_text(encoding="utf-8")
    members = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split()
            members[name] = int(value)
    return members


def parse_record_types(raw: object) -> tuple[str, ...]:
    """Record type names (a list, or comma-separated), matched case-insensitively against the enum."""
    items = raw.split(",") if isinstance(raw, str) else list(raw) if isinstance(raw, list | tuple) else [raw]
    known = {name.lower(): name for name in enum_members()}
    chosen = []
    for item in items:
        name = str(item).strip()
        if not name:
            continue
        if name.lower() not in known:
            raise UsageError(f"Record type {name!r} is not an auditLogRecordType Microsoft documents; the AI "
                             f"ones are {', '.join(AI_RECORD_TYPES)}.")
        chosen.append(known[name.lower()])
    if not chosen:
        raise UsageError(f"Choose at least one record type, such as {', '.join(AI_RECORD_TYPES[:4])}.")
    return tuple(dict.fromkeys(chosen))


def generate(xml: str) -> str:
    """The shipped list's text from the enum's XML."""
    lines = ["# auditLogRecordType members (name value), generated from Microsoft Graph's metadata;",
             "# see m365audit/collect/record_types.py"]
    lines += [f"{name} {value}" for name, value in _MEMBER.findall(xml)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(generate(Path(sys.argv[1]).read_text(encoding="utf-8")))
