"""Reading AuditData keys case-insensitively, fast.

DuckDB's JSON functions match keys exactly, and AuditData spells some keys
differently between revisions and exporters (``isPrompt`` / ``IsPrompt``).
Rewriting every record's keys would double the cost of loading, so the
loader first looks for other spellings of the keys it reads (all lower case,
all upper case, or the first letter's case flipped: one cheap scan), and
rewrites every case variant of those keys to the documented spelling only in
the records that need it. Records missing a key the views need are rewritten
too, which catches any remaining spelling.
"""

from __future__ import annotations

import re

import duckdb

# The keys the normalised tables read, spelt as Microsoft documents them.
KEYS = (
    "Id", "RecordType", "CreationTime", "Operation", "UserId", "UserKey", "OrganizationId",
    "ClientRegion", "AppIdentity", "AgentId", "AgentName", "CopilotEventData", "AppHost", "ThreadId",
    "Contexts", "Messages", "MessageIds", "AccessedResources", "AISystemPlugin", "Type", "isPrompt",
    "JailbreakDetected", "Name", "SiteUrl", "SensitivityLabelId", "Action", "Status", "XPIADetected",
    "Version", "UserType", "AgentVersion", "TargetAgentName", "ClientIP", "PolicyDetails",
    "ModelTransparencyDetails", "ModelName", "ModelProviderName", "ModelVersion",
)

# json_transform's target: only the fields the views need are typed.
AUDIT_DATA_TYPE = (
    '{"Id":"VARCHAR","RecordType":"VARCHAR","CreationTime":"VARCHAR","Operation":"VARCHAR",'
    '"UserId":"VARCHAR","UserKey":"VARCHAR","OrganizationId":"VARCHAR","ClientRegion":"VARCHAR",'
    '"AppIdentity":"VARCHAR","AgentId":"VARCHAR","AgentName":"VARCHAR","AgentVersion":"VARCHAR",'
    '"TargetAgentName":"VARCHAR","UserType":"VARCHAR","ClientIP":"VARCHAR",'
    '"CopilotEventData":{"AppHost":"VARCHAR","ThreadId":"VARCHAR","AgentId":"VARCHAR","AgentName":"VARCHAR",'
    '"AgentVersion":"VARCHAR","TargetAgentName":"VARCHAR",'
    '"Contexts":[{"Id":"VARCHAR","Type":"VARCHAR"}],'
    '"Messages":[{"Id":"VARCHAR","isPrompt":"BOOLEAN","JailbreakDetected":"BOOLEAN"}],'
    '"MessageIds":["VARCHAR"],'
    '"AccessedResources":[{"Id":"VARCHAR","Name":"VARCHAR","Type":"VARCHAR","SiteUrl":"VARCHAR",'
    '"SensitivityLabelId":"VARCHAR","Action":"VARCHAR","Status":"VARCHAR","XPIADetected":"BOOLEAN",'
    '"PolicyDetails":"JSON"}],'
    '"AISystemPlugin":[{"Id":"VARCHAR","Name":"VARCHAR","Version":"VARCHAR"}],'
    '"ModelTransparencyDetails":[{"ModelName":"VARCHAR","ModelProviderName":"VARCHAR","ModelVersion":"VARCHAR"}]}}'
)


def _variants(key: str) -> set[str]:
    return {v for v in (key.lower(), key.upper(), key[0].swapcase() + key[1:]) if v != key}


def variant_pattern() -> str:
    """A regex matching the usual other spellings of the keys, as object keys."""
    variants = sorted({v for key in KEYS for v in _variants(key)})
    return '"(?:' + "|".join(re.escape(v) for v in variants) + r')"\s*:'


def rewrite_sql(expr: str) -> str:
    """SQL rewriting every case variant of each key in ``expr`` (a JSON text) to its documented spelling."""
    out = expr
    for key in KEYS:
        out = f"regexp_replace({out}, '\"(?i:{key.lower()})\"(\\s*):', '\"{key}\"\\1:', 'g')"
    return out


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Temporary macros used by queries/audit/*.sql on this connection."""
    pattern = variant_pattern().replace("'", "''")
    con.execute(f"CREATE OR REPLACE TEMP MACRO audit_key_variants(t) AS regexp_matches(t, '{pattern}')")
    con.execute(f"CREATE OR REPLACE TEMP MACRO audit_canonical_keys(t) AS {rewrite_sql('t')}")
    con.execute(f"CREATE OR REPLACE TEMP MACRO audit_parse(t) AS json_transform(t, '{AUDIT_DATA_TYPE}')")
    # CreationTime comes with or without an offset; without one it is UTC. DuckDB reads at
    # most 6 fractional digits, .NET writes 7. String tests, not regexes: this runs per record.
    con.execute(r"""
        CREATE OR REPLACE TEMP MACRO audit_instant(t) AS try_cast(
            (CASE WHEN length(t) > 26 AND contains(t, '.') THEN regexp_replace(t, '(\.\d{6})\d+', '\1') ELSE t END)
            || (CASE WHEN right(t, 1) IN ('Z', 'z') OR contains(substr(t, 11), '+') OR contains(substr(t, 11), '-')
                     THEN '' ELSE 'Z' END)
            AS TIMESTAMPTZ)""")
