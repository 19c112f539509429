"""Loading a directory snapshot (spooled Graph pages) into the history tables, in SQL.

The whole snapshot is one transaction: after a failure nothing of it is
visible, and the previous snapshot stays the latest.

Raw pages are kept as received for the small sources (SKUs, groups,
members) and for the user pages of an unscoped snapshot up to
``RAW_USER_PAGES_LIMIT`` bytes. Above that (a million users send 1.8 GB)
DuckDB cannot hold the page bodies within bounded memory, and a scoped
snapshot must not keep other organisations' users, so those user pages are
kept as envelopes: the page's own fields with ``value`` replaced by
``"m365audit.records"``, the number of users it held. With pseudonymised
storage user pages are always kept as envelopes (they carry names).

Users come either as the whole population (a full round) or as the changes
since the stored delta link (``users_full=False``): then only the users seen
are merged, and users reported ``@removed`` (or changed out of the scope)
have their open rows closed. Names pass through the pseudonym macros of
``m365audit.store.pseudonym`` (the identity unless pseudonymised storage is on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from m365audit.store import pseudonym
from m365audit.store.db import connection_config
from m365audit.store.history import merge_snapshot
from m365audit.store.spooled import envelope_path, matching, read_pages, sql_path, total_size

# read_json column types: only the fields the tables need are typed.
_SKU = ("STRUCT(skuId VARCHAR, skuPartNumber VARCHAR, capabilityStatus VARCHAR, appliesTo VARCHAR,"
        " consumedUnits BIGINT, prepaidUnits STRUCT(enabled BIGINT, suspended BIGINT, warning BIGINT,"
        " lockedOut BIGINT), servicePlans STRUCT(servicePlanId VARCHAR, servicePlanName VARCHAR,"
        " provisioningStatus VARCHAR, appliesTo VARCHAR)[])")
_USER = ("STRUCT(\"@removed\" STRUCT(reason VARCHAR),"
         " id VARCHAR, userPrincipalName VARCHAR, displayName VARCHAR, mail VARCHAR,"
         " department VARCHAR, companyName VARCHAR, jobTitle VARCHAR, officeLocation VARCHAR,"
         " accountEnabled BOOLEAN, userType VARCHAR, createdDateTime VARCHAR,"
         " assignedPlans STRUCT(assignedDateTime VARCHAR, capabilityStatus VARCHAR, service VARCHAR,"
         " servicePlanId VARCHAR)[],"
         " licenseAssignmentStates STRUCT(skuId VARCHAR, assignedByGroup VARCHAR, state VARCHAR,"
         " error VARCHAR, disabledPlans VARCHAR[], lastUpdatedDateTime VARCHAR)[])")
_GROUP = "STRUCT(id VARCHAR, displayName VARCHAR, assignedLicenses STRUCT(skuId VARCHAR)[])"
_MEMBER = 'STRUCT("@odata.type" VARCHAR, id VARCHAR)'


RAW_USER_PAGES_LIMIT = 64 * 2**20


@dataclass(frozen=True)
class DirectoryFiles:
    skus: Path
    users: Path
    groups: Path
    members: Path
    longest_line: int | None = None  # longest spooled line, if known: sizes DuckDB's read buffers
    users_staged: Path | None = None  # Parquet (a glob) of the typed user rows, from stage_user_pages


@dataclass(frozen=True)
class SnapshotCounts:
    users: int  # current users after the merge
    assignments: int
    skus: int
    groups: int
    members: int
    changed_users: int = 0  # users in this round's pages (all of them on a full round)
    removed_users: int = 0  # users whose rows were closed as deleted or out of scope (delta rounds)
    full: bool = True


def _read(path: Path, value_type: str, extra: str = "", longest: int | None = None) -> str:
    """SQL reading a spool file: one row per page with its typed ``value`` list."""
    columns = f"{{'page_no': 'INTEGER', 'url': 'VARCHAR', 'body': 'STRUCT(value {value_type}[]{extra})'}}"
    return read_pages(path, columns, longest)


def _timestamp(expr: str) -> str:
    # Graph writes UTC with Z; older payloads omit the offset: both are UTC.
    return f"try_cast(CASE WHEN {expr} ~ '(Z|[+-]\\d\\d:?\\d\\d)$' THEN {expr} ELSE {expr} || 'Z' END AS TIMESTAMPTZ)"


def stage_user_pages(pages: Path, out: Path, longest_line: int | None = None) -> None:
    """Write the typed user rows of spooled pages to Parquet, in a private in-memory DuckDB.

    The collector runs this in a worker thread on each finished chunk of user
    pages while the next pages arrive: DuckDB parses JSON without the GIL, so
    the parsing (the largest part of loading a million users) overlaps the
    fetching instead of following it.
    """
    # Spilling, if ever needed, goes to the spool's own private folder, not the working directory.
    with duckdb.connect(config=connection_config(threads=1, memory_limit="256MB",
                                                      temp_directory=str(out.parent))) as con:
        con.execute(f"""
            COPY (SELECT u.* FROM (SELECT unnest(body.value) AS u FROM {_read(pages, _USER, longest=longest_line)}))
            TO '{sql_path(out)}' (FORMAT parquet)""")


def load_directory_snapshot(con: duckdb.DuckDBPyConnection, files: DirectoryFiles, *,
                            run_id: str, taken_at: datetime, scope: str | None,
                            user_filter_sql: str | None = None, users_full: bool = True) -> SnapshotCounts:
    """Stage the spooled pages and merge them into the history tables.

    The caller owns the transaction. ``user_filter_sql`` (a boolean SQL
    expression over the staged user columns, built by ``m365audit.collect.scope``
    from validated or quoted literals) limits the snapshot to an organisation's users.
    """
    if not _has_macros(con):
        pseudonym.install(con, None)
    _stage(con, files, user_filter_sql, users_full)
    _incoming_views(con)
    for table, incoming, columns in _MERGES:
        # On a delta round every user seen (changed, removed or out of scope) is
        # "touched": its open rows that the round does not repeat are closed.
        user_keyed = columns[0] == "user_id"
        merge_snapshot(con, table=table, incoming=incoming, columns=columns, taken_at=taken_at, run_id=run_id,
                       full=users_full or not user_keyed, removed=None if users_full else "seen_users")
    _keep_raw_pages(con, files, run_id, users_full=users_full, scoped=scope is not None,
                    verbatim_users=scope is None and not pseudonym.is_pseudonymised(con))
    counts = SnapshotCounts(
        users=_count(con, "user_versions WHERE valid_to IS NULL"),
        assignments=_count(con, "licence_assignment_versions WHERE valid_to IS NULL"),
        skus=_count(con, "staged_skus"), groups=_count(con, "staged_groups"),
        members=_count(con, "group_member_versions WHERE valid_to IS NULL"),
        changed_users=_count(con, "staged_users"), full=users_full,
        removed_users=0 if users_full else _count(con, "removed_users"))
    con.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?)",
                [run_id, taken_at, scope, counts.users, counts.assignments, counts.skus])
    for name in ("staged_skus", "staged_users", "staged_groups", "staged_members", "seen_users", "removed_users"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return counts


def _has_macros(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = 'm365_upn'").fetchone()
    return bool(row and row[0])


def _stage(con: duckdb.DuckDBPyConnection, files: DirectoryFiles, user_filter_sql: str | None,
           users_full: bool) -> None:
    longest = files.longest_line
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE staged_skus AS
        SELECT unnest(body.value, recursive := false) AS s FROM {_read(files.skus, _SKU, longest=longest)}""")
    _stage_users(con, files, user_filter_sql, users_full)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE staged_groups AS
        SELECT g.* FROM (SELECT unnest(body.value) AS g FROM {_read(files.groups, _GROUP, longest=longest)})""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE staged_members AS
        SELECT DISTINCT body."m365audit.groupId" AS group_id, m.id AS user_id
        FROM (SELECT body, unnest(body.value) AS m
              FROM {_read(files.members, _MEMBER, ', "m365audit.groupId" VARCHAR', longest)})
        WHERE m."@odata.type" IS NULL OR m."@odata.type" = '#microsoft.graph.user'""")


def _stage_users(con: duckdb.DuckDBPyConnection, files: DirectoryFiles, user_filter_sql: str | None,
                 users_full: bool) -> None:
    """One pass: unnest, drop removed entries, apply the scope, and keep only the assignedPlans
    entries that are Copilot plans (a million users hold about seven million plans, a few of
    them Copilot's): the staged table stays small enough to hold in memory."""
    if files.users_staged and users_full:
        source = f"read_parquet('{sql_path(files.users_staged)}')"
    else:  # pages; a delta round may carry a user twice, and the later page wins
        source = (f"(SELECT u.* FROM (SELECT page_no, unnest(body.value) AS u FROM "
                  f"{_read(files.users, _USER, longest=files.longest_line)}) WHERE u.id IS NOT NULL "
                  "QUALIFY row_number() OVER (PARTITION BY u.id ORDER BY page_no DESC) = 1)")
    if not users_full:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _delta_users AS SELECT * FROM {source}")
        source = "_delta_users"
        con.execute("CREATE OR REPLACE TEMP TABLE seen_users AS SELECT id AS key FROM _delta_users")
    where = f"AND ({user_filter_sql})" if user_filter_sql else ""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE staged_users AS
        SELECT users.* EXCLUDE ("@removed") REPLACE (
                   list_filter(users.assignedPlans, lambda p: list_contains(ref.ids, lower(p.servicePlanId)))
                   AS assignedPlans)
        FROM {source} users, (SELECT list(service_plan_id) AS ids FROM reference_service_plans) ref
        WHERE users.id IS NOT NULL AND users."@removed" IS NULL {where}""")
    if not users_full:
        # Seen but not staged: deleted, or no longer in the scope. Their open rows close.
        con.execute("""
            CREATE OR REPLACE TEMP TABLE removed_users AS
            SELECT key FROM seen_users EXCEPT SELECT id FROM staged_users""")
        con.execute("DROP TABLE _delta_users")


def _incoming_views(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE OR REPLACE TEMP VIEW incoming_skus AS
        SELECT s.skuId AS sku_id, s.skuPartNumber AS sku_part_number,
               s.capabilityStatus AS capability_status, s.appliesTo AS applies_to,
               s.prepaidUnits.enabled AS prepaid_enabled, s.prepaidUnits.suspended AS prepaid_suspended,
               s.prepaidUnits.warning AS prepaid_warning, s.prepaidUnits.lockedOut AS prepaid_locked_out,
               s.consumedUnits AS consumed_units
        FROM staged_skus""")
    con.execute("""
        CREATE OR REPLACE TEMP VIEW incoming_sku_plans AS
        SELECT sku_id, p.servicePlanId AS service_plan_id, p.servicePlanName AS service_plan_name,
               p.appliesTo AS applies_to, p.provisioningStatus AS provisioning_status
        FROM (SELECT s.skuId AS sku_id, unnest(s.servicePlans) AS p FROM staged_skus)""")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW incoming_users AS
        SELECT id AS user_id, m365_upn(userPrincipalName) AS user_principal_name,
               m365_person(userPrincipalName, displayName) AS display_name, m365_upn(mail) AS mail,
               nullif(trim(department), '') AS department, nullif(trim(companyName), '') AS company_name,
               jobTitle AS job_title, officeLocation AS office_location, accountEnabled AS account_enabled,
               userType AS user_type, {_timestamp('createdDateTime')} AS created_at
        FROM staged_users""")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW incoming_assignments AS
        SELECT user_id, lower(a.skuId) AS sku_id, lower(a.assignedByGroup) AS assigned_by_group, a.state,
               CASE WHEN a.error IS NULL OR a.error = 'None' THEN NULL ELSE a.error END AS error,
               list_sort(list_transform(coalesce(a.disabledPlans, []), lambda p: lower(p))) AS disabled_plans,
               {_timestamp('a.lastUpdatedDateTime')} AS last_updated_at
        FROM (SELECT id AS user_id, unnest(licenseAssignmentStates) AS a FROM staged_users)""")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW incoming_assigned_plans AS
        SELECT user_id, lower(p.servicePlanId) AS service_plan_id, p.service, p.capabilityStatus AS capability_status,
               min({_timestamp('p.assignedDateTime')}) AS assigned_at
        FROM (SELECT id AS user_id, unnest(assignedPlans) AS p FROM staged_users)
        WHERE lower(p.servicePlanId) IN (SELECT service_plan_id FROM reference_service_plans)
        GROUP BY ALL""")
    con.execute("""
        CREATE OR REPLACE TEMP VIEW incoming_groups AS
        SELECT id AS group_id, displayName AS display_name,
               list_sort(list_transform(coalesce(assignedLicenses, []), lambda l: lower(l.skuId))) AS assigned_sku_ids
        FROM staged_groups""")
    # Members are kept for current users; read when merged, after the users are,
    # so on a delta round the unchanged users count too.
    con.execute("""
        CREATE OR REPLACE TEMP VIEW incoming_members AS
        SELECT group_id, user_id FROM staged_members
        WHERE user_id IN (SELECT user_id FROM user_versions WHERE valid_to IS NULL)""")



def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    return int(row[0]) if row else 0


# (history table, incoming view, columns with the key first). Order matters: members are
# filtered by the users merged before them.
_MERGES = (
    ("sku_versions", "incoming_skus", ["sku_id", "sku_part_number", "capability_status", "applies_to",
                                       "prepaid_enabled", "prepaid_suspended", "prepaid_warning",
                                       "prepaid_locked_out", "consumed_units"]),
    ("sku_plan_versions", "incoming_sku_plans", ["sku_id", "service_plan_id", "service_plan_name",
                                                 "applies_to", "provisioning_status"]),
    ("user_versions", "incoming_users", ["user_id", "user_principal_name", "display_name", "mail",
                                         "department", "company_name", "job_title", "office_location",
                                         "account_enabled", "user_type", "created_at"]),
    ("licence_assignment_versions", "incoming_assignments",
     ["user_id", "sku_id", "assigned_by_group", "state", "error", "disabled_plans", "last_updated_at"]),
    ("assigned_plan_versions", "incoming_assigned_plans",
     ["user_id", "service_plan_id", "service", "capability_status", "assigned_at"]),
    ("group_versions", "incoming_groups", ["group_id", "display_name", "assigned_sku_ids"]),
    ("group_member_versions", "incoming_members", ["group_id", "user_id"]),
)


def _keep_raw_pages(con: duckdb.DuckDBPyConnection, files: DirectoryFiles, run_id: str, *,
                    users_full: bool, verbatim_users: bool, scoped: bool) -> None:
    """Raw pages of this run (history lives in the versions); see the module docstring.

    User pages are ``users`` on a full round and ``userChanges`` on a delta round. A scoped
    snapshot keeps group member pages as envelopes too: a tenant-wide group lists the
    members of every organisation.
    """
    con.execute("DELETE FROM raw_pages WHERE source IN "
                "('subscribedSkus', 'users', 'userChanges', 'groups', 'groupMembers')")
    users = files.users
    if not verbatim_users or total_size(users) > RAW_USER_PAGES_LIMIT:
        users = envelope_path(users)
    columns = "{'page_no': 'INTEGER', 'url': 'VARCHAR', 'fetched_at': 'TIMESTAMPTZ', 'body': 'JSON'}"
    for source, path in (("subscribedSkus", files.skus), ("users" if users_full else "userChanges", users),
                         ("groups", files.groups), ("groupMembers", files.members)):
        if not matching(path):  # a caller that spooled users without envelopes
            continue
        body = _MEMBER_ENVELOPE if scoped and source == "groupMembers" else "body"
        con.execute(f"""
            INSERT INTO raw_pages
            SELECT ?, ?, page_no, url, fetched_at, {body}
            FROM {read_pages(path, columns, files.longest_line)}""", [run_id, source])


# A member page without its members: ``value`` replaced by their number, as user page envelopes are.
_MEMBER_ENVELOPE = ("json_merge_patch(body, json_object('value', NULL, "
                    "'m365audit.records', json_array_length(body, '$.value')))")
