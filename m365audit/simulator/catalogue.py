"""Static facts the simulated tenant is built from: SKUs, plans, departments, names.

SKU and service plan ids are Microsoft's real ones (from the licensing
reference), so the collector's Copilot-seat rule is exercised on real ids.
"""

from __future__ import annotations

from dataclasses import dataclass

COPILOT_APPS = "a62f8878-de10-42f3-b68f-6149a25ceb97"
COPILOT_TEAMS = "b95945de-b3bd-46db-8437-f2beb6ea2347"
COPILOT_BUSINESS_CHAT = "3f30311c-6b1e-48a4-ab79-725b469da960"
COPILOT_SEAT_PLANS = (COPILOT_APPS, COPILOT_TEAMS, COPILOT_BUSINESS_CHAT)
COPILOT_CHAT_PLAN = "0d0c0d31-fae7-41f2-b909-eaf4d7f26dba"


@dataclass(frozen=True)
class SkuDef:
    sku_id: str
    part_number: str
    plans: tuple[tuple[str, str, str], ...]  # (service plan id, name, service)
    slack: float  # purchased units = consumed * (1 + slack) + 5, rounded
    is_copilot: bool = False


_BASE_PLANS = (
    ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE", "exchange"),
    ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE", "SharePoint"),
    ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION", "MicrosoftOffice"),
    ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1", "TeamspaceAPI"),
    ("e95bec33-7c88-4a70-8e19-b10bd9d0c014", "SHAREPOINTWAC", "SharePoint"),
    (COPILOT_CHAT_PLAN, "Bing_Chat_Enterprise", "Bing"),
)

E3 = SkuDef(
    "6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK",
    _BASE_PLANS + (("0feaeb32-d00e-4d66-bd5a-43b5b83db82c", "MCOSTANDARD", "MicrosoftCommunicationsOnline"),),
    slack=0.04,
)
E5 = SkuDef(
    "c7df2760-2c81-4ef7-b578-5b5392b571df", "ENTERPRISEPREMIUM",
    _BASE_PLANS + (("4828c8ec-dc2e-4779-b502-87ac9ce28ab7", "MCOEV", "MicrosoftCommunicationsOnline"),),
    slack=0.02,
)
F3 = SkuDef(
    "66b55226-6b4f-492c-910c-a3b7a3c9d993", "SPE_F1",
    (("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1", "TeamspaceAPI"),
     ("882e1d05-acd1-4ccb-8708-6ee03664b117", "INTUNE_O365", "SCO"),
     (COPILOT_CHAT_PLAN, "Bing_Chat_Enterprise", "Bing")),
    slack=0.05,
)
COPILOT = SkuDef(
    "639dec6b-bb19-468b-871c-c5c441c4b0cb", "Microsoft_365_Copilot",
    ((COPILOT_APPS, "M365_COPILOT_APPS", "M365CopilotApps"),
     (COPILOT_TEAMS, "M365_COPILOT_TEAMS", "M365CopilotTeams"),
     (COPILOT_BUSINESS_CHAT, "M365_COPILOT_BUSINESS_CHAT", "M365CopilotBusinessChat"),
     ("931e4a88-a67f-48b5-814f-16a5f1e6028d", "M365_COPILOT_INTELLIGENT_SEARCH", "M365CopilotSearch"),
     ("89f1c4c8-0878-40f7-804d-869c9128ab5d", "M365_COPILOT_CONNECTORS", "M365CopilotConnectors"),
     ("82d30987-df9b-4486-b146-198b21d164c7", "GRAPH_CONNECTORS_COPILOT", "GraphConnectors")),
    slack=0.10,
    is_copilot=True,
)
SKUS = (E3, E5, F3, COPILOT)
SKU_BY_ID = {s.sku_id: s for s in SKUS}


@dataclass(frozen=True)
class Department:
    name: str
    weight: int  # relative headcount
    copilot_rate: float  # share of members holding a Copilot seat


# Uneven sizes; Copilot concentrated in a few back-office departments.
DEPARTMENTS = (
    Department("Adult Social Care", 14, 0.03),
    Department("Children's Services", 12, 0.03),
    Department("Education", 9, 0.02),
    Department("Environment and Waste", 8, 0.01),
    Department("Housing", 8, 0.05),
    Department("Customer Services", 7, 0.05),
    Department("Revenues and Benefits", 6, 0.06),
    Department("Finance", 6, 0.40),
    Department("Digital and IT", 5, 0.50),
    Department("Planning", 5, 0.08),
    Department("Highways and Transport", 5, 0.02),
    Department("Human Resources", 4, 0.35),
    Department("Public Health", 4, 0.10),
    Department("Legal and Democratic Services", 3, 0.30),
    Department("Communications", 2, 0.45),
    Department("Chief Executive's Office", 1, 0.55),
)

# An NHS trust's departments, for a second organisation sharing the tenant.
NHS_DEPARTMENTS = (
    Department("Community Nursing", 16, 0.01),
    Department("Acute Medicine", 14, 0.01),
    Department("Emergency Department", 9, 0.01),
    Department("Mental Health Services", 8, 0.02),
    Department("Pharmacy", 4, 0.05),
    Department("Finance", 3, 0.35),
    Department("Digital and IT", 3, 0.45),
    Department("Human Resources", 3, 0.30),
    Department("Estates and Facilities", 4, 0.02),
    Department("Information Governance", 1, 0.40),
)


@dataclass(frozen=True)
class Organisation:
    """One organisation in a tenant: its members share a UPN domain and a companyName.

    Large public-sector tenants are shared (the NHS shared tenant holds
    hundreds of organisations), which is what ``collect --scope`` is for.
    """

    name: str
    domain: str
    share: float  # share of the tenant's users; the tenant's own organisation takes the rest
    departments: tuple[Department, ...] = DEPARTMENTS


# A trust that shares the simulated council's tenant (TenantConfig.organisations).
NORTHSHIRE_TRUST = Organisation("Northshire Community Health NHS Trust", "northshire.nhs.uk", 0.3,
                                NHS_DEPARTMENTS)

JOB_TITLES = (
    "Officer", "Senior Officer", "Team Manager", "Assistant", "Adviser", "Analyst",
    "Head of Service", "Coordinator", "Specialist", "Administrator",
)

FIRST_NAMES = (
    "Amelia", "Oliver", "Isla", "George", "Ava", "Harry", "Mia", "Noah", "Sophia", "Jack",
    "Grace", "Leo", "Freya", "Arthur", "Lily", "Oscar", "Emily", "Charlie", "Ella", "Thomas",
    "Aisha", "Mohammed", "Priya", "Rohan", "Siobhan", "Rhys", "Niamh", "Callum", "Zara", "Yusuf",
)
SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Wood", "Jackson", "Clarke", "Khan", "Hughes", "Edwards", "Lewis", "Ahmed", "Murphy",
    "O'Brien", "Kaur", "Singh",
)
OFFICES = ("Town Hall", "Civic Centre", "Depot", "Remote")
GUEST_PARTNERS = ("partner-nhs.net", "contractor.co.uk", "university.ac.uk")

# Groups (display names are the ones the example policies name).
GROUP_ALL_STAFF = "All Staff E3 Licensing"
GROUP_E5 = "E5 Licensing"
GROUP_FRONTLINE = "Frontline F3 Licensing"
GROUP_COPILOT = "Copilot Licensed Staff"
GROUP_COPILOT_PILOT = "Copilot Pilot - Finance"  # nested inside GROUP_COPILOT
GROUP_TRAINED = "AI Trained Staff"


@dataclass(frozen=True)
class LabelDef:
    label_id: str
    name: str
    sensitivity: int  # higher = more sensitive
    parent_id: str | None = None
    is_active: bool = True
    has_protection: bool = False


# A label catalogue in the shape UK public bodies use (Microsoft's defaults with
# OFFICIAL markings); ids are fixed so tests and policies can name them.
LABELS = (
    LabelDef("0f5b7a3c-1d1e-4b0a-9b61-2f1c7e0a0001", "Public", 0),
    LabelDef("0f5b7a3c-1d1e-4b0a-9b61-2f1c7e0a0002", "General", 1),
    LabelDef("0f5b7a3c-1d1e-4b0a-9b61-2f1c7e0a0003", "Official", 2),
    LabelDef("0f5b7a3c-1d1e-4b0a-9b61-2f1c7e0a0004", "Official-Sensitive", 3, has_protection=True),
    LabelDef("0f5b7a3c-1d1e-4b0a-9b61-2f1c7e0a0005", "Personal Data", 4,
             parent_id="0f5b7a3c-1d1e-4b0a-9b61-2f1c7e0a0004", has_protection=True),
    LabelDef("0f5b7a3c-1d1e-4b0a-9b61-2f1c7e0a0006", "Highly Confidential", 5, has_protection=True),
    LabelDef("0f5b7a3c-1d1e-4b0a-9b61-2f1c7e0a0007", "Legacy Restricted", 5, is_active=False),
)
LABEL_BY_NAME = {label.name: label for label in LABELS}
LABELS_BY_ID = {label.label_id: label for label in LABELS}

# SharePoint sites of the simulated organisation (relative to its SharePoint host).
SITES = (
    "Finance", "HumanResources", "Safeguarding", "LegalServices", "Housing", "Planning",
    "Communications", "DigitalServices", "AdultSocialCare", "ChildrensServices", "CorporateIntranet",
)
PROHIBITED_SITE = "Safeguarding"  # the example policies forbid Copilot here
