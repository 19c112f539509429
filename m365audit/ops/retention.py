"""Data minimisation: keep raw audit JSON and per-user activity only as long as configured.

Two settings (``[retention]`` in the run configuration):

- ``raw_audit_days``: after this many days an audit record's raw JSON
  (``audit_records.audit_data``) is set to NULL. The normalised facts derived
  from it stay, so checks and reports keep working.
- ``activity_days``: after this many days activity no longer says who: the
  rows about to be stripped are first added up per day, department, app and
  record type (``copilot_activity_daily_totals``; the ``copilot_activity_daily``
  view keeps counting them), then the user principal name, user id and user
  key are removed from the audit and interaction rows, personal OneDrive
  paths are cut from resource and context URLs, and usage-report rows older
  than that are deleted (the latest report is kept).

Everything happens in one transaction, in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from m365audit.store.db import rollback

_PERSONAL_PATH = r"/personal/[^/]+"
_REMOVED_PATH = "/personal/[removed]"


@dataclass(frozen=True)
class RetentionSettings:
    raw_audit_days: int | None = None
    activity_days: int | None = None

    @property
    def enabled(self) -> bool:
        return self.raw_audit_days is not None or self.activity_days is not None


def apply_retention(con: duckdb.DuckDBPyConnection, settings: RetentionSettings, now: datetime,
                    run_id: str) -> dict[str, Any]:
    """Purge what is older than the settings allow; returns counts. Owns its transaction."""
    counts: dict[str, Any] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        if settings.raw_audit_days is not None:
            counts["raw_audit_purged"] = _changed(con, """
                UPDATE audit_records SET audit_data = NULL
                WHERE audit_data IS NOT NULL AND created_at < ?""", [now - timedelta(days=settings.raw_audit_days)])
        if settings.activity_days is not None:
            counts.update(_strip_activity(con, now - timedelta(days=settings.activity_days), run_id))
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return counts


def _strip_activity(con: duckdb.DuckDBPyConnection, cutoff: datetime, run_id: str) -> dict[str, int]:
    # Rows that pass the cutoff since the last run, and older rows that still
    # say who (they arrived late); everything older was summarised before.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _expiring AS
        SELECT record_id FROM copilot_interaction_facts
        WHERE created_at < $cutoff
          AND (created_at >= coalesce((SELECT max(try_cast(value AS TIMESTAMPTZ)) FROM collection_state
                                        WHERE source = 'retention' AND key = 'activity_purged_before'),
                                       TIMESTAMPTZ '1970-01-01')
               OR user_principal_name IS NOT NULL OR user_id IS NOT NULL)""", {"cutoff": cutoff})
    con.execute("""
        INSERT INTO copilot_activity_daily_totals
            (day, department, app_host, record_type, active_users, interactions, run_id, app)
        SELECT (f.created_at AT TIME ZONE 'UTC')::DATE, d.department, f.app_host, f.record_type,
               count(DISTINCT coalesce(f.user_id, f.user_principal_name)), count(*), ?, f.app
        FROM copilot_interaction_facts f
        LEFT JOIN (SELECT user_id, arg_max(department, valid_from) AS department
                   FROM user_versions GROUP BY user_id) d ON d.user_id = f.user_id
        WHERE f.record_id IN (SELECT record_id FROM _expiring)
        GROUP BY ALL""", [run_id])
    counts = {"activity_summarised": _count(con, "SELECT count(*) FROM _expiring")}
    counts["activity_stripped"] = _changed(con, """
        UPDATE copilot_interaction_facts SET user_principal_name = NULL, user_id = NULL, client_ip = NULL
        WHERE record_id IN (SELECT record_id FROM _expiring)""")
    _changed(con, """
        UPDATE audit_records SET user_principal_name = NULL, user_key = NULL, audit_data = NULL
        WHERE created_at < ? AND (user_principal_name IS NOT NULL OR user_key IS NOT NULL
                                  OR audit_data IS NOT NULL)""", [cutoff])
    _cut_personal_paths(con)
    counts["usage_rows_deleted"] = _changed(con, """
        DELETE FROM usage_report_rows
        WHERE collected_at < ?
          AND run_id IS DISTINCT FROM (SELECT run_id FROM usage_report_current)""", [cutoff])  # the report shown
    # The boundary never moves back (a longer setting later cannot restore what
    # was stripped, and the view must not count those rows twice).
    con.execute("""
        INSERT OR REPLACE INTO collection_state
        SELECT 'retention', 'activity_purged_before',
               CAST(greatest($cutoff, coalesce(max(try_cast(value AS TIMESTAMPTZ)), $cutoff)) AS VARCHAR),
               $run_id, now()
        FROM collection_state WHERE source = 'retention' AND key = 'activity_purged_before'""",
                {"cutoff": cutoff, "run_id": run_id})
    con.execute("DROP TABLE _expiring")
    return counts


def _cut_personal_paths(con: duckdb.DuckDBPyConnection) -> None:
    """OneDrive URLs name their owner (/personal/jane_smith_example_gov_uk/): cut that part."""
    for table, columns in (("copilot_accessed_resource_facts", ("site_url", "resource_id")),
                           ("copilot_context_facts", ("context_id",))):
        for column in columns:
            con.execute(f"""
                UPDATE {table} SET {column} = regexp_replace({column}, '{_PERSONAL_PATH}', '{_REMOVED_PATH}')
                WHERE record_id IN (SELECT record_id FROM _expiring)
                  AND regexp_matches({column}, '{_PERSONAL_PATH}')""")  # noqa: S608 - names from this module


def _changed(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> int:
    row = con.execute(sql, params or []).fetchone()
    return int(row[0]) if row else 0


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0
