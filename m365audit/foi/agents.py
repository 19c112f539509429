"""Agents in use, by kind, for the FOI answer's "AI systems in use": counts only, never a name.

An agent is in use when a person used it (agent_interactions.by_person, queries/views/025_copilot_use.sql)
within the answer's activity window. Users are people and go through the same disclosure control as
every other count of people (suppression.protect); the number of agents counts systems, not people.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import duckdb

from m365audit.foi.counts import ActivityWindow
from m365audit.foi.periods import end_of_day
from m365audit.foi.suppression import Table, display, protect

# Kinds in the order they are published, with how the answer names them.
KINDS = {
    "microsoft": "Microsoft's own agents (e.g. Researcher, Analyst)",
    "declarative": "Agents built on Copilot Chat by staff (declarative agents)",
    "copilot studio": "Agents built in Copilot Studio",
    "third party": "Third-party agents",
    "unknown": "Agents of a kind the audit log does not say",
}
PURPOSE = ("An agent answers questions or carries out tasks in Copilot, grounded in the content, sites or "
           "systems it was built on; it can read only what the person using it can open.")

_COUNTS = """
SELECT kind, count(DISTINCT agent_key) AS agents,
       count(DISTINCT coalesce(user_id, lower(user_principal_name))) AS users
FROM agent_interactions
WHERE by_person AND created_at >= $from AND created_at < $to
GROUP BY kind
"""


def agents_in_use(con: duckdb.DuckDBPyConnection, window: ActivityWindow, threshold: int,
                  method: str, cap: int) -> list[dict[str, Any]]:
    """One entry per kind of agent used in the window: agents in use, and people who used them (protected)."""
    if not window.held:
        return []
    rows = {str(r[0]): (int(r[1]), int(r[2])) for r in con.execute(_COUNTS, {
        "from": end_of_day(window.start - timedelta(days=1)), "to": end_of_day(window.end)}).fetchall()}
    table = Table()
    for kind, (_, users) in rows.items():
        table.rows.append([table.add(kind, users)])
    protect(table, threshold, method, cap=max(cap, 1))  # no relations: a person may use agents of several kinds
    return [{"kind": kind, "name": KINDS[kind], "agents_in_use": rows[kind][0],
             "active_users": display(table.cells[kind], threshold)}
            for kind in KINDS if kind in rows]
