"""Loading the Copilot usage report (CSV from Graph v1.0 or the admin centre, JSON from beta).

Columns are matched by their header names, so the v1.0 order, the legacy
order and the admin-centre export all load through the same SQL. A row whose
user principal name is a 32-hex hash (or every row, when the tenant's report
setting conceals names) is marked ``names_concealed``: such names are never
joined to users.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from m365audit.errors import UsageError
from m365audit.resources import read_query

# Header (lower case, without "(UTC)") -> usage_report_rows column.
CSV_COLUMNS = {
    "report refresh date": "report_refresh_date",
    "report period": "report_period",
    "user principal name": "user_principal_name",
    "display name": "display_name",
    "last activity date": "last_activity_date",
    "copilot chat last activity date": "copilot_chat_last_activity_date",
    "microsoft teams copilot last activity date": "teams_copilot_last_activity_date",
    "word copilot last activity date": "word_copilot_last_activity_date",
    "excel copilot last activity date": "excel_copilot_last_activity_date",
    "powerpoint copilot last activity date": "powerpoint_copilot_last_activity_date",
    "outlook copilot last activity date": "outlook_copilot_last_activity_date",
    "onenote copilot last activity date": "onenote_copilot_last_activity_date",
    "loop copilot last activity date": "loop_copilot_last_activity_date",
}
JSON_FIELDS = {
    "reportRefreshDate": "report_refresh_date", "userPrincipalName": "user_principal_name",
    "displayName": "display_name", "lastActivityDate": "last_activity_date",
    "copilotChatLastActivityDate": "copilot_chat_last_activity_date",
    "microsoftTeamsCopilotLastActivityDate": "teams_copilot_last_activity_date",
    "wordCopilotLastActivityDate": "word_copilot_last_activity_date",
    "excelCopilotLastActivityDate": "excel_copilot_last_activity_date",
    "powerPointCopilotLastActivityDate": "powerpoint_copilot_last_activity_date",
    "outlookCopilotLastActivityDate": "outlook_copilot_last_activity_date",
    "oneNoteCopilotLastActivityDate": "onenote_copilot_last_activity_date",
    "loopCopilotLastActivityDate": "loop_copilot_last_activity_date",
}
CSV_COLUMNS_ORDER = tuple(c for c in CSV_COLUMNS.values() if c != "report_period")
REQUIRED = ("report_refresh_date", "user_principal_name")
CONCEALED_HELP = (
    "The Copilot usage report hides user names (the tenant's report privacy setting conceals them), so "
    "per-person usage cannot be matched to users and is shown by hashed name only. To show names, in the "
    "Microsoft 365 admin centre go to Settings > Org settings > Reports and clear \"Display concealed "
    "user, group, and site names in all reports\", then collect again."
)


@dataclass(frozen=True)
class UsageCounts:
    rows: int
    concealed: int

    def notices(self) -> list[str]:
        return [CONCEALED_HELP] if self.concealed else []


def csv_header(path: Path, delimiter: str = ",") -> list[str]:
    """The header names of a report CSV (UTF-8, with or without a byte-order mark)."""
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        line = f.readline()
    return next(csv.reader(io.StringIO(line), delimiter=delimiter), [])


def _normal(name: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\(utc\)", "", name.strip().lower())).strip()


def stage_csv(con: duckdb.DuckDBPyConnection, path: Path, *, name: str | None = None,
              delimiter: str = ",") -> None:
    """usage_staged from a report CSV (UTF-8), columns matched by header name."""
    header = csv_header(path, delimiter)
    targets = [CSV_COLUMNS.get(_normal(h)) for h in header]
    missing = [c for c in REQUIRED if c not in targets]
    if missing:
        raise UsageError(f"{name or path.name} is not a Copilot usage report: it has no "
                         f"{' or '.join(c.replace('_', ' ') for c in missing)} column.")
    names = [t if t and t not in targets[:i] else f"ignored_{i}" for i, t in enumerate(targets)]
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    sql_path = str(path).replace("'", "''")
    delim = "\\t" if delimiter == "\t" else ","
    selected = ", ".join(_text(c, c in names) for c in ("report_period", *CSV_COLUMNS_ORDER))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE usage_staged AS
        SELECT row_number() OVER () + 1 AS line, {selected}
        FROM read_csv('{sql_path}', header=true, auto_detect=false, delim=E'{delim}',
                      quote='"', escape='"',
                      columns={columns}, encoding='utf-8', strict_mode=true)""")  # noqa: S608 - names from a fixed map


def stage_json(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """usage_staged from beta JSON rows spooled one per line."""
    sql_path = str(path).replace("'", "''")
    columns = {field: "VARCHAR" for field in JSON_FIELDS}
    columns["copilotActivityUserDetailsByPeriod"] = "STRUCT(reportPeriod VARCHAR)[]"
    spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
    selected = ", ".join(f'"{field}" AS {target}' for field, target in JSON_FIELDS.items())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE usage_staged AS
        SELECT row_number() OVER () AS line, copilotActivityUserDetailsByPeriod[1].reportPeriod AS report_period,
               {selected}
        FROM read_json('{sql_path}', format='newline_delimited', columns={spec})""")  # noqa: S608 - fixed map


def _text(column: str, present: bool) -> str:
    return column if present else f"NULL::VARCHAR AS {column}"


def bad_dates(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    """(line, column) of cells that hold something other than an ISO date (empty is fine)."""
    template = ("SELECT line, '{c}' FROM usage_staged WHERE nullif(trim({c}), '') IS NOT NULL "
                "AND try_cast(trim({c}) AS DATE) IS NULL")
    checks = " UNION ALL ".join(template.format(c=c) for c in CSV_COLUMNS_ORDER if c.endswith("_date"))
    return [(int(line), str(col)) for line, col in con.execute(f"{checks} ORDER BY 1 LIMIT 5").fetchall()]


def land(con: duckdb.DuckDBPyConnection, *, run_id: str, source: str,
         concealed_setting: bool | None) -> UsageCounts:
    """Insert usage_staged into usage_report_rows (queries/usage/land.sql)."""
    con.execute("SET VARIABLE usage_run_id = ?", [run_id])
    con.execute("SET VARIABLE usage_source = ?", [source])
    con.execute("SET VARIABLE usage_concealed = ?", [bool(concealed_setting)])
    con.execute("SET VARIABLE usage_collected_at = ?::TIMESTAMPTZ", [datetime.now(UTC)])
    con.execute(read_query("usage/land.sql"))
    row = con.execute("SELECT count(*), count(*) FILTER (WHERE names_concealed) FROM usage_report_rows "
                      "WHERE run_id = ? AND source = ?", [run_id, source]).fetchone()
    con.execute("DROP TABLE usage_staged")
    return UsageCounts(int(row[0]), int(row[1])) if row else UsageCounts(0, 0)
