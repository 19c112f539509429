"""Loading the Copilot user-count reports: enabled and active users per app.

``getMicrosoft365CopilotUserCountSummary`` (one row per period) and
``...UserCountTrend`` (one row per day) answer CSV on v1.0 (columns "<App>
Enabled Users" and "<App> Active Users", plus v2's prompt totals) and JSON on
beta (``adoptionByProduct`` / ``adoptionByDate`` with camel-case keys such as
``wordEnabledUsers``). Both are reshaped in SQL to one row per app into
``usage_user_counts``. They are tenant-wide aggregates: a scoped collection
does not load them (``m365audit.collect.usage``).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from m365audit.errors import CollectionError
from m365audit.store.usage import csv_header, normal

# beta JSON key prefix -> Microsoft's product name as the v1.0 CSV writes it.
JSON_APPS = {
    "anyApp": "Any App", "microsoftTeams": "Microsoft Teams", "word": "Word", "powerPoint": "PowerPoint",
    "outlook": "Outlook", "excel": "Excel", "oneNote": "OneNote", "loop": "Loop", "copilotChat": "Copilot Chat",
}
_COUNT = re.compile(r"^(.+) (enabled|active) users$")
_ANY_APP = "Any App"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def stage_csv(con: duckdb.DuckDBPyConnection, path: Path, report: str) -> str:
    """usage_counts_staged from a v1.0 CSV (one row per app); returns v1 or v2."""
    header = csv_header(path)
    names = [f"c{i}" for i in range(len(header))]
    by_normal = {normal(h): names[i] for i, h in enumerate(header)}
    apps: dict[str, dict[str, str]] = {}
    for i, h in enumerate(header):
        match = _COUNT.match(normal(h))
        if match:
            title = h.strip()[: -len(" Enabled Users")].strip()  # Microsoft's own spelling of the app
            apps.setdefault(match.group(1), {"title": title})[match.group(2)] = names[i]
    if "report refresh date" not in by_normal or not apps:
        raise CollectionError(f"The Copilot user-count {report} report has an unexpected header "
                              f"({', '.join(header[:4])}, ...).")

    def col(key: str) -> str:
        return by_normal.get(key, "NULL::VARCHAR")

    parts = []
    for app in apps.values():
        is_any = app["title"].lower() == _ANY_APP.lower()
        prompts = (col("total prompts submitted") if report == "summary" else col("prompts submitted")) \
            if is_any else "NULL::VARCHAR"
        average = col("average prompts submitted") if is_any else "NULL::VARCHAR"
        parts.append(f"SELECT line, {col('report refresh date')} AS report_refresh_date, "
                     f"{col('report period')} AS report_period, {col('report date')} AS report_date, "
                     f"{_literal(_ANY_APP if is_any else app['title'])} AS app, "
                     f"{app.get('enabled', 'NULL::VARCHAR')} AS enabled_users, "
                     f"{app.get('active', 'NULL::VARCHAR')} AS active_users, "
                     f"{prompts} AS prompts_submitted, {average} AS average_prompts FROM src")
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    sql_path = str(path).replace("'", "''")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE usage_counts_staged AS
        WITH src AS (
            SELECT row_number() OVER () + 1 AS line, *
            FROM read_csv('{sql_path}', header=true, auto_detect=false, columns={columns}, quote='"',
                          escape='"', strict_mode=true, encoding='utf-8', max_line_size=1048576))
        {' UNION ALL '.join(parts)}""")  # noqa: S608 - column names we made, quoted literals
    v2 = any(k in by_normal for k in ("total prompts submitted", "prompts submitted")) or \
        any(a not in {normal(t) for t in JSON_APPS.values()} for a in apps)
    return "v2" if v2 else "v1"


def stage_json(con: duckdb.DuckDBPyConnection, path: Path, report: str) -> str:
    """usage_counts_staged from beta JSON report rows spooled one per line (v1 keys)."""
    sql_path = str(path).replace("'", "''")
    inner = "adoptionByProduct" if report == "summary" else "adoptionByDate"
    parts = [f"""SELECT line, report_refresh_date, coalesce(json_extract_string(item, '$.reportPeriod'), period)
                        AS report_period, json_extract_string(item, '$.reportDate') AS report_date,
                        {_literal(title)} AS app,
                        json_extract_string(item, '$.{prefix}EnabledUsers') AS enabled_users,
                        json_extract_string(item, '$.{prefix}ActiveUsers') AS active_users,
                        NULL::VARCHAR AS prompts_submitted, NULL::VARCHAR AS average_prompts
                 FROM items""" for prefix, title in JSON_APPS.items()]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE usage_counts_staged AS
        WITH rows AS (
            SELECT row_number() OVER () AS line, json AS row FROM read_json_objects('{sql_path}',
                                                                                    format='newline_delimited')),
        items AS (
            SELECT line, json_extract_string(row, '$.reportRefreshDate') AS report_refresh_date,
                   json_extract_string(row, '$.reportPeriod') AS period,
                   unnest(json_extract(row, '$.{inner}[*]')) AS item
            FROM rows)
        {' UNION ALL '.join(parts)}""")  # noqa: S608 - fixed keys, quoted literals
    return "v1"


def land(con: duckdb.DuckDBPyConnection, *, run_id: str, source: str, report: str, version: str) -> int:
    """Check and write usage_counts_staged to usage_user_counts; the number of rows written."""
    bad = con.execute("""
        SELECT line FROM usage_counts_staged
        WHERE try_cast(report_refresh_date AS DATE) IS NULL
           OR NOT regexp_full_match(trim(report_refresh_date), '2[0-9]{3}-[0-9]{2}-[0-9]{2}')
           OR (report_date IS NOT NULL AND try_cast(report_date AS DATE) IS NULL)
           OR (nullif(trim(enabled_users), '') IS NOT NULL AND try_cast(enabled_users AS UBIGINT) IS NULL)
           OR (nullif(trim(active_users), '') IS NOT NULL AND try_cast(active_users AS UBIGINT) IS NULL)
           OR (nullif(trim(report_period), '') IS NOT NULL AND try_cast(report_period AS UINTEGER) IS NULL)
        ORDER BY line LIMIT 1""").fetchone()
    if bad is not None:
        raise CollectionError(f"The Copilot user-count {report} report has an unreadable value in row "
                              f"{int(bad[0])}; nothing of it was stored.")
    con.execute("""
        INSERT INTO usage_user_counts
        SELECT ?, ?, ?, ?, trim(report_refresh_date)::DATE, nullif(trim(report_period), '')::INTEGER,
               trim(report_date)::DATE, app, nullif(trim(enabled_users), '')::BIGINT,
               nullif(trim(active_users), '')::BIGINT, try_cast(nullif(trim(prompts_submitted), '') AS BIGINT),
               try_cast(nullif(trim(average_prompts), '') AS DOUBLE), now()
        FROM usage_counts_staged
        WHERE enabled_users IS NOT NULL OR active_users IS NOT NULL""", [run_id, source, report, version])
    row = con.execute("SELECT count(*) FROM usage_user_counts WHERE run_id = ? AND report = ?",
                      [run_id, report]).fetchone()
    con.execute("DROP TABLE usage_counts_staged")
    return int(row[0]) if row else 0
