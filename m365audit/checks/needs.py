"""What data a check needs before its answer means anything.

A check's header lists its needs. When one is not met the check reports
``not_checked`` with the reason, never ``pass``: an empty result over data
that was never collected would otherwise look like compliance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from m365audit.policy import Policy

Probe = Callable[[duckdb.DuckDBPyConnection, Policy], "str | None"]

# What counts as Copilot use, and as third-party AI app use, is defined once: the views
# copilot_use and ai_app_use (queries/views/025_copilot_use.sql).
_COPILOT_RECORDS = "SELECT count(*) FROM copilot_use"
_AI_APP_RECORDS = "SELECT count(*) FROM ai_app_use"
# Which of the wanted names (lower-cased) match a group by display name or id.
_FOUND_IN = {
    "groups": "SELECT DISTINCT wanted FROM unnest(?::VARCHAR[]) AS t(wanted) JOIN groups g"
              " ON lower(g.group_name) = wanted OR lower(g.group_id) = wanted",
    "group_members": "SELECT DISTINCT wanted FROM unnest(?::VARCHAR[]) AS t(wanted) JOIN group_members g"
                     " ON lower(g.group_name) = wanted OR lower(g.group_id) = wanted",
}


@dataclass(frozen=True)
class Need:
    name: str
    unmet_when: str  # for docs/checks.md: "not checked when ..."
    probe: Probe  # returns the reason it is unmet, or None


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _licence_snapshot(con: duckdb.DuckDBPyConnection, policy: Policy) -> str | None:
    if _count(con, "SELECT count(*) FROM users") == 0:
        return "no licence snapshot has been collected (run `m365audit collect`)"
    return None


def _audit_records(con: duckdb.DuckDBPyConnection, policy: Policy) -> str | None:
    if _count(con, _COPILOT_RECORDS) == 0:
        return ("no Copilot audit records have been collected (run `m365audit collect --only audit` "
                "or `m365audit import purview-audit FILE`)")
    return None


def _ai_app_records(con: duckdb.DuckDBPyConnection, policy: Policy) -> str | None:
    if _count(con, _AI_APP_RECORDS) == 0:
        return ("no third-party AI app audit records (AIAppInteraction, ConnectedAIAppInteraction) have been "
                "collected, so unapproved apps cannot be ruled out")
    return None


def _copilot_activity(con: duckdb.DuckDBPyConnection, policy: Policy) -> str | None:
    if _audit_records(con, policy) is None:
        return None
    usage = con.execute("SELECT count(*), count(*) FILTER (WHERE names_concealed) FROM copilot_usage").fetchone()
    total, concealed = (int(usage[0]), int(usage[1])) if usage else (0, 0)
    if total == 0:
        return ("neither Copilot audit records nor a Copilot usage report have been collected "
                "(run `m365audit collect --only audit,usage`)")
    if concealed == total:
        return ("no Copilot audit records have been collected and the usage report conceals user names "
                "(turn off 'Display concealed user, group, and site names in all reports' in the "
                "Microsoft 365 admin centre, Settings > Org settings > Reports)")
    return None


def _missing_groups(con: duckdb.DuckDBPyConnection, names: tuple[str, ...], view: str) -> list[str]:
    found = {str(r[0]) for r in con.execute(_FOUND_IN[view], [[n.casefold() for n in names]]).fetchall()}
    return [n for n in names if n.casefold() not in found]


def _copilot_groups(con: duckdb.DuckDBPyConnection, policy: Policy) -> str | None:
    if not policy.copilot_groups:
        return "the policy names no [licences] copilot_groups"
    missing = _missing_groups(con, policy.copilot_groups, "groups")
    if missing:
        return f"copilot group {_names(missing)} not found among the collected groups"
    return None


def _training_group(con: duckdb.DuckDBPyConnection, policy: Policy) -> str | None:
    if not policy.training_group:
        return "the policy names no [usage] training_group"
    if _missing_groups(con, (policy.training_group,), "group_members"):
        return (f"training group {_names([policy.training_group])} not found among the collected groups "
                f"(collect its members with `m365audit collect --group {_shell_quote(policy.training_group)}`)")
    return None


def _restricted_labels(con: duckdb.DuckDBPyConnection, policy: Policy) -> str | None:
    if not policy.restricted_labels:
        return "the policy names no [labels] restricted labels"
    wanted = [n.casefold() for n in policy.restricted_labels]
    found = {str(r[0]) for r in con.execute(
        "SELECT DISTINCT wanted FROM unnest(?::VARCHAR[]) AS t(wanted) JOIN sensitivity_labels l "
        "ON lower(l.name) = wanted OR lower(l.label_id) = wanted", [wanted]).fetchall()}
    missing = [n for n in policy.restricted_labels if n.casefold() not in found]
    if missing:
        return f"restricted label {_names(missing)} not found in the collected sensitivity label catalogue"
    return None


def _reviewed_on(con: duckdb.DuckDBPyConnection, policy: Policy) -> str | None:
    if policy.reviewed_on is None:
        return "the policy file gives no [policy] reviewed_on date"
    return None


def _names(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


NEEDS: dict[str, Need] = {n.name: n for n in (
    Need("licence_snapshot", "no licence snapshot has been collected", _licence_snapshot),
    Need("audit_records", "no Copilot audit records have been collected", _audit_records),
    Need("ai_app_records", "no third-party AI app audit records have been collected", _ai_app_records),
    Need("copilot_activity", "neither audit records nor a usage report with user names have been collected",
         _copilot_activity),
    Need("copilot_groups", "the policy names no copilot_groups, or one is not among the collected groups",
         _copilot_groups),
    Need("training_group", "the policy names no training_group, or its members were not collected",
         _training_group),
    Need("restricted_labels", "the policy names no restricted labels, or one is not in the label catalogue",
         _restricted_labels),
    Need("reviewed_on", "the policy file gives no reviewed_on date", _reviewed_on),
)}


def unmet(con: duckdb.DuckDBPyConnection, needs: tuple[str, ...], policy: Policy) -> str | None:
    """The first unmet need's reason, or None when the check can run."""
    for name in needs:
        reason = NEEDS[name].probe(con, policy)
        if reason:
            return reason
    return None
