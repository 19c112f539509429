"""Static facts the simulated Copilot activity draws from: apps, documents, agents, AI apps."""

from __future__ import annotations

from dataclasses import dataclass

from m365audit.simulator import catalogue as cat

# Record types the simulated audit log knows (Graph's auditLogRecordType names and numbers).
RECORD_TYPES = {
    "CopilotInteraction": 261,
    "AIAppInteraction": 284,
    "ConnectedAIAppInteraction": 328,
    "TeamCopilotInteraction": 334,
    "AIInteractionsExport": 362,
    "ExchangeItem": 2,
    "SharePointFileOperation": 6,
    "AzureActiveDirectory": 8,
}
COPILOT = "CopilotInteraction"
THIRD_PARTY = "AIAppInteraction"
GENERATED_TYPES = (COPILOT, THIRD_PARTY)  # the others exist but the tenant writes none

# Copilot apps a seat holder uses, with relative weights (AppHost as audit records spell it).
SEAT_APPS = (
    ("Teams", 30), ("BizChat", 20), ("Outlook", 18), ("Word", 12), ("Excel", 6),
    ("PowerPoint", 5), ("Bing", 5), ("Loop", 2), ("OneNote", 2),
)
CHAT_APP = "BizChat"  # unlicensed staff have Copilot Chat only

APP_IDENTITY = {
    "Teams": "Copilot.M365Copilot.Teams", "BizChat": "Copilot.M365Copilot.BizChat",
    "Outlook": "Copilot.M365Copilot.Outlook", "Word": "Copilot.M365Copilot.Word",
    "Excel": "Copilot.M365Copilot.Excel", "PowerPoint": "Copilot.M365Copilot.PowerPoint",
    "Bing": "Copilot.BingCopilot.Edge", "Loop": "Copilot.M365Copilot.Loop",
    "OneNote": "Copilot.M365Copilot.OneNote",
}
CHAT_IDENTITY = "Copilot.M365Copilot.WebChat"

# The document type a user is in when invoking Copilot from an app (Contexts.Type).
CONTEXT_TYPES = {"Word": "docx", "Excel": "xlsx", "PowerPoint": "pptx", "Loop": "loop", "OneNote": "one"}

# The usage report's columns, by AppHost (Bing counts as Copilot Chat on the web).
USAGE_COLUMN = {
    "BizChat": "copilot_chat", "Bing": "copilot_chat", "Teams": "teams", "Word": "word",
    "Excel": "excel", "PowerPoint": "powerpoint", "Outlook": "outlook", "OneNote": "onenote",
    "Loop": "loop",
}

# The product each AppHost the simulator writes means (Office 365 Management Activity API,
# Copilot schema; Purview's audit guidance for AI activity): what copilot_interactions.app
# must say. appchat records take their app from the context (APP_OF_CONTEXT).
APP_OF_HOST = {
    "Teams": "Teams", "BizChat": "Copilot Chat (work)", "Outlook": "Outlook", "Word": "Word", "Excel": "Excel",
    "PowerPoint": "PowerPoint", "Bing": "Copilot Chat (web)", "Loop": "Loop", "OneNote": "OneNote",
}
APP_OF_CONTEXT = {"docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint"}
APPCHAT_HOSTS = ("Word", "Excel", "PowerPoint")  # hosts older records write as AppHost "appchat"
APPCHAT_SHARE = 3  # one record in this many of those hosts uses the older "appchat" spelling


@dataclass(frozen=True)
class Program:
    """An actor the audit log records besides people's own Copilot use.

    ``department`` set: a person of that department (the first enabled member) using
    another Copilot product; else a program (UserType 5 application, 6 service principal)
    with its own ids. Its records never carry resources or flags, so no check finds them.
    """

    name: str
    user_type: int  # AuditData.UserType
    app_host: str
    app_identity: str | None
    app: str  # what copilot_interactions.app must say
    department: str | None = None
    object_id: str | None = None  # UserKey of a program


PROGRAMS = (
    Program("Contract summariser", 5, "CopilotAPI", None, "other",
            object_id="6f0c2a51-3b8e-4d7a-9c41-2e5f7a1b8c90"),  # an unknown AppHost: app 'other'
    Program("IT Service Desk Agent", 6, "Teams", "Copilot.Studio.5d7e1f20-8a3b-4c6d-9e0f-1a2b3c4d5e6f",
            "Copilot Studio agent", object_id="0b9d8c7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e"),
    Program("Security Copilot analyst", 0, "SecurityCopilot", "Copilot.Security.SecurityCopilot",
            "Security Copilot", department="Digital and IT"),
    Program("HR agent user", 0, "Teams", "Copilot.Studio.9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "Copilot Studio agent", department="Human Resources"),
)



def program_of(record: dict[str, object]) -> Program | None:
    """The PROGRAMS actor a generated record belongs to, None for people's own Copilot use."""
    event = record.get("CopilotEventData")
    host = event.get("AppHost") if isinstance(event, dict) else None
    for spec in PROGRAMS:
        if (record.get("UserType"), record.get("AppIdentity"), host) == (spec.user_type, spec.app_identity,
                                                                          spec.app_host):
            return spec
    return None


# Copilot Studio agents published in the organisation: (id suffix, name, version).
AGENTS = (
    ("T_4f1d0c6a", "HR Policy Helper", "1.3"),
    ("T_9b2e7d31", "Planning Applications Assistant", "2.0"),
    ("T_c07a55e2", "IT Service Desk Agent", "1.0"),
)

# Microsoft's own agents in Microsoft 365 Copilot Chat. Microsoft's documentation does not say what
# AgentId their records carry, so they are named only (AgentName); a BizChat record whose id ends
# in a multiple of MICROSOFT_AGENT_EVERY names one (no random draw, so the rest stays as generated).
MICROSOFT_AGENTS = ("Researcher", "Analyst")
MICROSOFT_AGENT_EVERY = 64

# Agents only planted activity uses (simulator/planted.py): plant kind -> (AgentId, AgentName, version).
PLANTED_AGENTS = {
    "agent_unapproved": ("CopilotStudio.Declarative.T_e19b4420", "Tenancy Fraud Checker", "0.4"),
    "agent_restricted": ("CopilotStudio.Declarative.T_4f1d0c6a", "HR Policy Helper", "1.3"),
    "agent_prohibited_site": ("CopilotStudio.Declarative.T_2c8e9f17", "Family Support Assistant", "1.1"),
}

# Third-party AI apps seen by the audit log (AIAppInteraction): (AppHost, AppIdentity).
THIRD_PARTY_APPS = (
    ("ChatGPT", "OpenAI.ChatGPT.Enterprise"),
    ("Otter.ai", "Otter.OtterAI.Meetings"),
    ("DeepSeek", "DeepSeek.Chat.Web"),
)

# Each department reads its own site most; the rest read the intranet.
HOME_SITE = {
    "Finance": "Finance", "Human Resources": "HumanResources", "Housing": "Housing",
    "Legal and Democratic Services": "LegalServices", "Planning": "Planning",
    "Communications": "Communications", "Digital and IT": "DigitalServices",
    "Adult Social Care": "AdultSocialCare", "Children's Services": "ChildrensServices",
}
INTRANET = "CorporateIntranet"
ORDINARY_SITES = tuple(s for s in cat.SITES if s != cat.PROHIBITED_SITE)

DOCUMENT_STEMS = (
    "Budget monitoring {n}", "Team meeting notes {n}", "Service plan {n}", "Risk register {n}",
    "Project update {n}", "Procedure guide {n}", "Briefing note {n}", "Staff rota {n}",
)
DOCUMENT_TYPES = ("docx", "xlsx", "pptx", "pdf")
DOCUMENTS_PER_SITE = 40

# Letters many AI policies say must not be drafted with AI.
RESTRICTED_DOCUMENTS = (
    "Disciplinary hearing outcome letter.docx", "Complaint response - stage 2.docx",
    "Legal advice to Cabinet.docx", "Grievance outcome letter.docx",
)

# Labels an ordinary file carries, with weights (Highly Confidential only through its rate).
ORDINARY_LABELS = tuple(
    (label.label_id, weight) for label, weight in zip(
        (cat.LABEL_BY_NAME[n] for n in ("Public", "General", "Official", "Official-Sensitive", "Personal Data")),
        (5, 30, 40, 15, 10), strict=True)
)
HIGHLY_CONFIDENTIAL = cat.LABEL_BY_NAME["Highly Confidential"].label_id

# Files only planted activity reads (simulator/planted.py): (site, name, label name or None).
# The lookalike site's address starts like the prohibited site's, but is another site.
LOOKALIKE_SITE = cat.PROHIBITED_SITE + "Training"
PLANTED_DOCUMENTS = {
    "xpia": ("Finance", "Supplier bank details change request.docx", "Official"),
    "prohibited_site": (cat.PROHIBITED_SITE, "Child protection case notes.docx", "Official-Sensitive"),
    "lookalike_site": (LOOKALIKE_SITE, "Safeguarding training slides.pptx", "Official"),
    "restricted_label": ("HumanResources", "Senior management restructure proposals.docx", "Highly Confidential"),
}
