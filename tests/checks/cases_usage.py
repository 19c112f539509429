"""Golden cases for the usage, label and policy checks: one change to the compliant baseline per way to fail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import duckdb

from m365audit.simulator import Tenant
from tests.checks.activity import Interaction, Resource, add_interaction
from tests.checks.golden import ANCHOR, CHECK_DATE, SITE, Case, upn, with_policy

Change = Callable[[duckdb.DuckDBPyConnection, Tenant], None]


def _interaction(index: int, record_id: str, **fields: object) -> Change:
    def add(con: duckdb.DuckDBPyConnection, tenant: Tenant) -> None:
        add_interaction(con, Interaction(record_id, upn(tenant, index), ANCHOR - timedelta(days=1),
                                         **fields))  # type: ignore[arg-type]
    return add


def _reads(index: int, record_id: str, *resources: Resource, **fields: object) -> Change:
    return _interaction(index, record_id, resources=resources, **fields)


def _unlabelled_files(count: int) -> Change:
    files = tuple(Resource(f"minutes-{n}.docx", f"{SITE('Housing')}/Shared Documents/minutes-{n}.docx")
                  for n in range(count))
    return _reads(0, "unlabelled", *files)


USAGE_CASES = (
    Case("usage_copilot_users_trained", "seat_holder_not_trained",
         lambda t: {upn(t, 2)}, tenant=lambda t: t.override_user(2, trained=False)),
    Case("usage_copilot_users_trained", "copilot_chat_user_not_trained",
         lambda t: {upn(t, 14)}, activity=_interaction(14, "chat-14", app_host="BizChat",
                                                       app_identity="Copilot.M365Copilot.WebChat")),
    Case("usage_ai_apps_approved", "unapproved_app",
         lambda t: {"DeepSeek"}, activity=_interaction(1, "app-1", record_type="AIAppInteraction",
                                                       app_host="DeepSeek", app_identity="DeepSeek")),
    Case("usage_ai_apps_approved", "near_miss_approved_by_host_in_other_case",
         lambda t: set(), activity=_interaction(1, "app-1", record_type="ConnectedAIAppInteraction",
                                                app_host="chatgpt enterprise", app_identity=None)),
    Case("usage_no_jailbreak_attempts", "prompt_flagged",
         lambda t: {upn(t, 2).lower()}, activity=_interaction(2, "jb-2", jailbreak=True)),
    Case("usage_no_prompt_injection", "email_carries_xpia",
         lambda t: {"AAMkAD-email-1"},
         activity=_reads(3, "xpia-3", Resource("Invoice overdue", None, resource_type="Email",
                                               resource_id="AAMkAD-email-1", xpia=True))),
    Case("usage_copilot_not_on_prohibited_sites", "read_a_safeguarding_file",
         lambda t: {upn(t, 0).lower()},
         activity=_reads(0, "sg-0", Resource("case-notes.docx", f"{SITE('Safeguarding')}/Shared Documents/x.docx",
                                             label="Official"))),
    Case("usage_copilot_not_on_prohibited_sites", "invoked_in_a_safeguarding_document_any_case",
         lambda t: {upn(t, 1).lower()},
         activity=_interaction(1, "sg-1", contexts=(SITE("SAFEGUARDING").upper() + "/Log.docx",))),
    Case("usage_copilot_not_on_prohibited_sites", "near_miss_similar_site_name",
         lambda t: set(),
         activity=_reads(0, "sgt-0", Resource("course.docx", f"{SITE('SafeguardingTraining')}/course.docx",
                                              label="Official"))),
    Case("labels_copilot_no_restricted_content", "read_highly_confidential",
         lambda t: {upn(t, 1).lower()},
         activity=_reads(1, "hc-1", Resource("restructure.docx", f"{SITE('HumanResources')}/restructure.docx",
                                             label="Highly Confidential"))),
    Case("labels_copilot_no_restricted_content", "read_sublabel_of_restricted_parent",
         lambda t: {upn(t, 2).lower()},
         activity=_reads(2, "pd-2", Resource("payroll.xlsx", f"{SITE('Finance')}/payroll.xlsx",
                                             label="Personal Data")),
         policy=with_policy(restricted_labels=("official-sensitive",))),
    Case("labels_copilot_resources_labelled", "most_items_unlabelled",
         lambda t: {"tenant"}, activity=_unlabelled_files(6)),  # 6 of 11 items
    Case("labels_copilot_resources_labelled", "near_miss_exactly_half_unlabelled",
         lambda t: set(), activity=_unlabelled_files(5)),  # 5 of 10 items
    Case("policy_reviewed_within_cycle", "review_overdue",
         lambda t: {"Golden Borough Council AI Policy"},
         policy=with_policy(reviewed_on=CHECK_DATE - timedelta(days=366))),
    Case("policy_reviewed_within_cycle", "near_miss_review_due_today",
         lambda t: set(), policy=with_policy(reviewed_on=CHECK_DATE.replace(year=CHECK_DATE.year - 1))),
)
