"""Golden cases for the agent checks: one change to the compliant baseline per way to fail, and the near misses."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from m365audit.simulator import Tenant
from tests.checks.activity import Interaction, Resource, add_interaction
from tests.checks.golden import ANCHOR, APPROVED_AGENT, APPROVED_AGENT_ID, SITE, Case, upn, with_policy

STUDIO_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def _agent(index: int, record_id: str, agent_id: str | None, agent_name: str | None, *resources: Resource,
           **fields: object):  # type: ignore[no-untyped-def]
    def add(con: duckdb.DuckDBPyConnection, tenant: Tenant) -> None:
        fields.setdefault("app_host", "BizChat")
        fields.setdefault("app_identity", "Copilot.MicrosoftCopilot.BizChat")
        add_interaction(con, Interaction(record_id, upn(tenant, index), ANCHOR - timedelta(days=1),
                                         agent_id=agent_id, agent_name=agent_name, resources=resources,
                                         **fields))  # type: ignore[arg-type]
    return add


_STUDIO = {"app_host": "Teams", "app_identity": f"Copilot.Studio.{STUDIO_ID}"}
_THIRD = {"record_type": "ConnectedAIAppInteraction", "app_host": "ChatGPT", "app_identity": "ChatGPT Enterprise"}

AGENT_CASES = (
    Case("agents_approved", "declarative_agent_not_approved", lambda t: {"Tenancy Fraud Checker"},
         activity=_agent(2, "ag-2", "CopilotStudio.Declarative.T_77aa01", "Tenancy Fraud Checker")),
    Case("agents_approved", "copilot_studio_agent_not_allowed", lambda t: {STUDIO_ID},
         activity=_agent(3, "ag-3", None, None, **_STUDIO)),
    Case("agents_approved", "near_miss_copilot_studio_allowed", lambda t: set(),
         activity=_agent(3, "ag-3", None, None, **_STUDIO), policy=with_policy(allow_copilot_studio=True)),
    Case("agents_approved", "third_party_agent_not_allowed", lambda t: {"Minute Taker"},
         activity=_agent(0, "ag-0", "minutetaker-01", "Minute Taker", **_THIRD)),
    Case("agents_approved", "near_miss_third_party_allowed", lambda t: set(),
         activity=_agent(0, "ag-0", "minutetaker-01", "Minute Taker", **_THIRD),
         policy=with_policy(allow_third_party=True)),
    Case("agents_approved", "near_miss_approved_by_id_in_other_case", lambda t: set(),
         activity=_agent(2, "ag-2", "CopilotStudio.Declarative.T_77aa01", "Tenancy Fraud Checker"),
         policy=with_policy(approved_agents=(APPROVED_AGENT, "copilotstudio.declarative.t_77AA01"))),
    Case("agents_approved", "near_miss_microsoft_researcher", lambda t: set(),
         activity=_agent(1, "ag-1", "researcher-1", "Researcher")),
    Case("agents_approved", "near_miss_only_a_program_ran_it", lambda t: set(),
         activity=_agent(4, "ag-4", None, None, user_type="6", **_STUDIO)),
    Case("agents_no_restricted_content", "approved_agent_read_highly_confidential", lambda t: {APPROVED_AGENT},
         activity=_agent(1, "agr-1", APPROVED_AGENT_ID, APPROVED_AGENT,
                         Resource("restructure.docx", f"{SITE('HumanResources')}/restructure.docx",
                                  label="Highly Confidential")),
         also=lambda t: {"labels_copilot_no_restricted_content": {upn(t, 1).lower()}}),
    Case("agents_no_restricted_content", "program_ran_agent_on_sublabel_of_restricted", lambda t: {STUDIO_ID},
         activity=_agent(4, "agr-4", None, None, Resource("payroll.xlsx", f"{SITE('Finance')}/payroll.xlsx",
                                                         label="Personal Data"), user_type="6", **_STUDIO),
         policy=with_policy(restricted_labels=("official-sensitive",), allow_copilot_studio=True),
         also=lambda t: {"labels_copilot_no_restricted_content": {upn(t, 4).lower()}}),
    Case("agents_not_on_prohibited_sites", "approved_agent_read_safeguarding_file", lambda t: {APPROVED_AGENT},
         activity=_agent(1, "ags-1", APPROVED_AGENT_ID, APPROVED_AGENT,
                         Resource("case-notes.docx", f"{SITE('Safeguarding')}/Shared Documents/x.docx",
                                  label="Official")),
         also=lambda t: {"usage_copilot_not_on_prohibited_sites": {upn(t, 1).lower()}}),
    Case("agents_not_on_prohibited_sites", "near_miss_agent_on_lookalike_site", lambda t: set(),
         activity=_agent(1, "ags-1", APPROVED_AGENT_ID, APPROVED_AGENT,
                         Resource("course.docx", f"{SITE('SafeguardingTraining')}/course.docx", label="Official"))),
)
