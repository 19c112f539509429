"""Static facts the simulated Copilot activity draws from: apps, documents, agents, AI apps."""

from __future__ import annotations

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

# Copilot Studio agents published in the organisation: (id suffix, name, version).
AGENTS = (
    ("T_4f1d0c6a", "HR Policy Helper", "1.3"),
    ("T_9b2e7d31", "Planning Applications Assistant", "2.0"),
    ("T_c07a55e2", "IT Service Desk Agent", "1.0"),
)

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
