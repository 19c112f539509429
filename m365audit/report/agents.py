"""Agents: the inventory (`m365audit agents`) and the report's section, each agent with a verdict.

The inventory is the SQL macro copilot_agents_at (queries/views/050_agents.sql); which labels are
restricted is the policy's to say, so the policy's labels are passed to it here. The verdict and
its rule are the macros agent_verdict and agent_verdict_rule in the same file.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import duckdb

from m365audit.policy import Policy
from m365audit.report.charts import bar_chart
from m365audit.report.context import ReportContext
from m365audit.report.model import Section
from m365audit.report.queries import run_table

TOP_AGENTS = 15
COLUMNS = ("agent_id", "agent_name", "kind", "first_seen", "last_seen", "users_30d", "interactions_30d", "apps",
           "resources_read", "labelled_resources_read", "restricted_resources_read", "verdict", "rule")
INVENTORY = """
SELECT agent_id, agent_name, kind, first_seen, last_seen, users_30d, interactions_30d, apps, resources_read,
       labelled_resources_read, restricted_resources_read,
       agent_verdict(users_30d, restricted_resources_read) AS verdict,
       agent_verdict_rule(users_30d, restricted_resources_read) AS rule
FROM copilot_agents_at(?::TIMESTAMPTZ, ?::VARCHAR[])
ORDER BY users_30d DESC, interactions_total DESC, agent_name, agent_id
"""


def inventory(con: duckdb.DuckDBPyConnection, policy: Policy | None, as_of: datetime) -> list[dict[str, Any]]:
    """Every agent the audit log names up to ``as_of``; restricted reads counted when a policy is given."""
    restricted = [n.casefold() for n in policy.restricted_labels] if policy is not None else None
    rows = con.execute(INVENTORY, [as_of, restricted]).fetchall()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def agents_section(ctx: ReportContext) -> Section:
    table = run_table(ctx.con, "agents")
    section = Section("agents", "Agents", tables=[table])
    if not ctx.coverage.has_audit:
        section.available = False
        section.notes.append("Agents are read from the audit log, which has not been collected "
                             "(run `m365audit collect --only audit`).")
        return section
    verdicts = Counter(table.frame["verdict"].to_list())
    kinds = Counter(table.frame["kind"].to_list())
    in_use = int((table.frame["users_30d"] > 0).sum()) if table.frame.height else 0
    section.summary.append(
        f"{table.frame.height:,} agents appear in the audit log ({_counted(kinds)}); {in_use:,} were used by "
        f"someone in the last 30 days. Verdicts: {verdicts.get('Keep', 0):,} keep, "
        f"{verdicts.get('Review', 0):,} review, {verdicts.get('Retire', 0):,} retire.")
    section.notes.append("Verdict rule: Review when the agent read content with one of the policy's restricted "
                         "labels ([labels] restricted); else Retire when nobody used it in the last 30 days; "
                         "else Keep. Whether the policy approves each agent is the check agents_approved.")
    top = table.frame.filter(table.frame["users_30d"] + table.frame["users_prev_30d"] > 0).head(TOP_AGENTS)
    if top.height:
        section.charts.append(bar_chart(
            f"People using each agent (the {TOP_AGENTS} most used)" if table.frame.height > TOP_AGENTS
            else "People using each agent", top["agent_name"].to_list(),
            [("Last 30 days", top["users_30d"].to_list()), ("30 days before", top["users_prev_30d"].to_list())]))
    if ctx.department:
        section.notes.append("Agents are listed for the whole organisation: an agent serves every department.")
    return section


def _counted(counts: Counter[str]) -> str:
    return ", ".join(f"{n:,} {kind}" for kind, n in sorted(counts.items())) or "none"
