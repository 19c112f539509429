"""Writing Copilot activity straight into the fact tables, for check fixtures.

The audit collector fills these tables in production; check tests insert the
few rows each case needs, so a case says exactly what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb

from m365audit.simulator import catalogue as cat

RUN = "test-activity"


@dataclass(frozen=True)
class Resource:
    name: str
    site_url: str | None
    label: str | None = None  # label name from the simulator's catalogue
    resource_type: str = "docx"
    resource_id: str | None = None
    xpia: bool = False


@dataclass(frozen=True)
class Interaction:
    record_id: str
    upn: str
    created_at: datetime
    record_type: str = "CopilotInteraction"
    app_host: str = "Word"
    app_identity: str | None = "Copilot.M365Copilot.Word"
    resources: tuple[Resource, ...] = ()
    contexts: tuple[str, ...] = ()
    jailbreak: bool = False
    user_type: str = "0"  # AuditData.UserType: 0 a regular user
    agent_id: str | None = None  # AgentId
    agent_name: str | None = None  # AgentName


def add_interaction(con: duckdb.DuckDBPyConnection, i: Interaction) -> None:
    con.execute("""
        INSERT INTO copilot_interaction_facts (record_id, created_at, user_principal_name, user_id, record_type,
                                               operation, app_host, app_identity, thread_id, client_region, app,
                                               actor_type, user_type, agent_id, agent_name, agent_kind)
        SELECT $1, $2, lower($3), (SELECT user_id FROM users WHERE lower(user_principal_name) = lower($4)),
               $5, $6, $7, $8, $9, 'GB', copilot_app($7, $8, $10), copilot_actor_type($11), $11,
               copilot_agent_id($12, $8), $13, copilot_agent_kind($12, $8)""",
                [i.record_id, i.created_at, i.upn, i.upn, i.record_type, i.record_type, i.app_host,
                 i.app_identity, f"thread-{i.record_id}", "docx" if i.contexts else None, i.user_type,
                 i.agent_id, i.agent_name])
    for n, r in enumerate(i.resources):
        label = cat.LABEL_BY_NAME[r.label].label_id if r.label else None
        con.execute("INSERT INTO copilot_accessed_resource_facts (record_id, resource_id, resource_name, resource_type,"
                    " site_url, sensitivity_label_id, action, status, xpia_detected)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'Read', 'Success', ?)",
                    [i.record_id, r.resource_id or f"{i.record_id}-r{n}", r.name, r.resource_type, r.site_url,
                     label, r.xpia])
    for context in i.contexts:
        con.execute("INSERT INTO copilot_context_facts VALUES (?, ?, 'docx')", [i.record_id, context])
    con.execute("INSERT INTO copilot_message_facts VALUES (?, ?, true, ?), (?, ?, false, false)",
                [i.record_id, f"{i.record_id}-p", i.jailbreak, i.record_id, f"{i.record_id}-a"])


def add_usage_row(con: duckdb.DuckDBPyConnection, upn: str, last_activity: date | None, *,
                  refreshed: date, concealed: bool = False) -> None:
    con.execute("""
        INSERT INTO usage_report_rows (run_id, source, report_refresh_date, report_period, user_principal_name,
                                       display_name, names_concealed, last_activity_date,
                                       word_copilot_last_activity_date, collected_at)
        VALUES (?, 'graph-v1.0', ?, 30, ?, '', ?, ?, ?, ?)""",
                [RUN, refreshed, upn, concealed, last_activity, last_activity, datetime.now(UTC)])


def add_label_catalogue(con: duckdb.DuckDBPyConnection) -> None:
    for n, label in enumerate(cat.LABELS):
        con.execute("INSERT INTO sensitivity_label_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                    [label.label_id, label.name, label.name, label.sensitivity, label.parent_id, label.is_active,
                     label.has_protection, n, datetime(2026, 1, 1, tzinfo=UTC), RUN])
