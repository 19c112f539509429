"""The scope a database holds, and the SQL that applies a scope to users and audit records.

A database holds one scope (the whole tenant, or one organisation in it):
mixing two would merge one organisation's history into another's. The
current scope and when it was set live in ``collection_state`` (source
``scope``); a run for another scope is refused unless the operator asks to
start over, which discards the collected data in the same transaction as the
new scope's first load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from m365audit.errors import UsageError
from m365audit.scope import Scope, parse_scope
from m365audit.store.runs import set_state
from m365audit.store.spooled import read_pages

# Tables that describe the database or the tool, not a tenant: kept when starting over.
# audit_queries is the tenant's query budget ledger (issue 15), m365audit_application the file's marker.
_KEPT_TABLES = ("schema_migrations", "runs", "reference_service_plans", "reference_copilot_skus",
                "m365audit_application", "audit_queries")


@dataclass(frozen=True)
class ScopeRecord:
    scope: str | None  # canonical --scope text; None = the whole tenant
    since: datetime  # when collection with this scope began
    label: str | None = None  # the administrative unit's display name, when known

    @property
    def description(self) -> str:
        parsed = parse_scope(self.scope)
        return "the whole tenant" if parsed is None else parsed.describe(self.label)


def current_scope(con: duckdb.DuckDBPyConnection) -> ScopeRecord | None:
    """The scope of the data in the database and since when; None when nothing was collected yet."""
    rows = dict(con.execute(
        "SELECT key, value FROM collection_state WHERE source = 'scope'").fetchall())
    if "current" in rows:
        since = con.execute("SELECT updated_at FROM collection_state WHERE source = 'scope' AND key = 'current'"
                            ).fetchone()
        return ScopeRecord(rows["current"], since[0] if since else datetime.min, rows.get("label"))
    # Databases written before scopes were recorded: the scope of their collection runs.
    row = con.execute("""
        SELECT scope, min(started_at) OVER (PARTITION BY scope) FROM runs
        WHERE command = 'collect' AND status = 'succeeded' ORDER BY started_at DESC LIMIT 1""").fetchone()
    return None if row is None else ScopeRecord(row[0], row[1])


def check_scope(con: duckdb.DuckDBPyConnection, scope: str | None, *, replace: bool, db: Path) -> bool:
    """Whether collecting ``scope`` must first discard the data of another scope; refuse when not allowed."""
    current = current_scope(con)
    if current is None or current.scope == scope:
        return False
    if replace:
        return True
    wanted = "the whole tenant" if scope is None else f"--scope {scope}"
    held = "the whole tenant" if current.scope is None else f"scope {current.scope}"
    raise UsageError(f"{db} holds data collected for {held} since {current.since:%Y-%m-%d}; collecting {wanted} "
                     "into it would mix organisations, so use another --db or pass --replace-scope to discard "
                     "that data and start again.")


def discard_collected_data(con: duckdb.DuckDBPyConnection) -> None:
    """Empty every table of tenant data (runs, migrations and reference data stay). Caller owns the transaction."""
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT temporary").fetchall()]
    for table in tables:
        if table not in _KEPT_TABLES:
            con.execute(f'DELETE FROM "{table}"')


def record_scope(con: duckdb.DuckDBPyConnection, scope: str | None, label: str | None, run_id: str) -> None:
    """Record the scope when it is new to the database (so ``since`` keeps its first date)."""
    current = current_scope(con)
    if current is not None and current.scope == scope and "current" in _state_keys(con):
        if label and label != current.label:
            set_state(con, "scope", "label", label, run_id)
        return
    set_state(con, "scope", "current", scope, run_id)
    set_state(con, "scope", "label", label, run_id)


def _state_keys(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT key FROM collection_state WHERE source = 'scope'").fetchall()}


def _literal(text: str) -> str:
    """A SQL string literal (DuckDB strings have no backslash escapes: only quotes need doubling)."""
    return "'" + text.replace("'", "''") + "'"


def user_filter_sql(con: duckdb.DuckDBPyConnection, scope: Scope | None, members: Path | None) -> str | None:
    """A boolean SQL expression over staged Graph user columns selecting the scope's users.

    For an administrative unit the spooled member pages (``members``) are
    staged into ``scope_members`` first. Domains are validated by the parser
    and the company name is quoted, so the expression is safe to embed.
    """
    if scope is None:
        return None
    if scope.kind == "au":
        if members is None:
            raise ValueError("an administrative unit scope needs its spooled members")
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE scope_members AS
            SELECT DISTINCT m.id AS user_id
            FROM (SELECT unnest(body.value) AS m FROM {read_pages(members, _MEMBER_COLUMNS)})
            WHERE m."@odata.type" IS NULL OR m."@odata.type" = '#microsoft.graph.user'""")
        return "id IN (SELECT user_id FROM scope_members)"
    if scope.kind == "domain":
        domains = ", ".join(_literal(d) for d in scope.values)
        return f"regexp_extract(lower(userPrincipalName), '@([^@]+)$', 1) IN ({domains})"
    return f"lower(trim(companyName)) = lower({_literal(scope.values[0])})"


_MEMBER_COLUMNS = """{'page_no': 'INTEGER', 'body': 'STRUCT(value STRUCT("@odata.type" VARCHAR, id VARCHAR)[])'}"""


def record_filter_sql(scope: Scope | str | None, upn_column: str = "user_principal_name", *,
                      imported: bool = False, pseudonymised: bool = False) -> str | None:
    """A SQL condition on an audit record's UPN column that holds for the scope's records; None: keep all.

    - ``domain:``: the UPN's domain is one of the scope's (exact, needs nothing stored);
    - ``company:``: the UPN is one of a user the scoped directory has ever held with that
      company name (``user_versions``, so leavers' older records stay); collect the
      directory first;
    - ``au:``: collected records were filtered by Graph (``administrativeUnitIdFilters``),
      so None; an imported export (``imported``) keeps the users the scoped directory has
      ever held.

    ``pseudonymised``: stored UPNs are keyed pseudonyms, so the record's UPN is compared
    through the same ``m365_upn`` macro (installed on the connection).
    """
    parsed = scope if isinstance(scope, Scope) or scope is None else parse_scope(scope)
    if parsed is None or (parsed.kind == "au" and not imported):
        return None
    if parsed.kind == "domain":
        domains = ", ".join(_literal(d) for d in parsed.values)
        return f"regexp_extract(lower({upn_column}), '@([^@]+)$', 1) IN ({domains})"
    upn = f"lower(m365_upn({upn_column}))" if pseudonymised else f"lower({upn_column})"
    company = "" if parsed.kind == "au" else f" WHERE lower(company_name) = lower({_literal(parsed.values[0])})"
    return f"{upn} IN (SELECT lower(user_principal_name) FROM user_versions{company})"


def known_users(con: duckdb.DuckDBPyConnection) -> int:
    """How many users the directory has ever held (a company or unit scope filters records by them)."""
    row = con.execute("SELECT count(DISTINCT user_id) FROM user_versions").fetchone()
    return int(row[0]) if row else 0


def scope_upns(con: duckdb.DuckDBPyConnection, limit: int) -> list[str] | None:
    """The current users' UPNs when there are at most ``limit`` (for userPrincipalNameFilters), else None."""
    rows = con.execute("SELECT user_principal_name FROM users WHERE user_principal_name IS NOT NULL "
                       "ORDER BY 1 LIMIT ?", [limit + 1]).fetchall()
    return [r[0] for r in rows] if 0 < len(rows) <= limit else None
