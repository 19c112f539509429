"""Loading the Copilot usage report (CSV from Graph v1.0 or the admin centre, JSON from beta).

Columns are matched by their header names, so the v1.0 order, the legacy
order, the admin-centre export and version 2 (more columns) all load through
the same SQL. A row whose user principal name is a 32-hex hash (or every row,
when the tenant's report setting conceals names) is marked ``names_concealed``:
such names are never joined to users.

Everything is checked before anything is written: a row DuckDB cannot split
into the header's columns, a date that is not a calendar date, a count that is
not a whole number, or two different rows for the same user and period stop
the load with the line number. In a database collected for a ``--scope``, only
rows of the scope's users are written (concealed rows cannot be matched, so
none is written), and a report older than the stored one is not written.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from m365audit.errors import UsageError
from m365audit.resources import read_query
from m365audit.store.scope import current_scope

# Microsoft's header names (getMicrosoft365CopilotUsageUserDetail, "Report versions") -> our column.
HEADERS = {
    "Report Refresh Date": "report_refresh_date",
    "Report Period": "report_period",
    "User Principal Name": "user_principal_name",
    "Display Name": "display_name",
    "Last Activity Date": "last_activity_date",
    "Copilot Chat Last Activity Date": "copilot_chat_last_activity_date",
    "Microsoft Teams Copilot Last Activity Date": "teams_copilot_last_activity_date",
    "Word Copilot Last Activity Date": "word_copilot_last_activity_date",
    "Excel Copilot Last Activity Date": "excel_copilot_last_activity_date",
    "PowerPoint Copilot Last Activity Date": "powerpoint_copilot_last_activity_date",
    "Outlook Copilot Last Activity Date": "outlook_copilot_last_activity_date",
    "OneNote Copilot Last Activity Date": "onenote_copilot_last_activity_date",
    "Loop Copilot Last Activity Date": "loop_copilot_last_activity_date",
}
V2_HEADERS = {
    "Prompts submitted for all apps": "prompts_submitted",
    "Prompts submitted for Copilot Chat (work)": "copilot_chat_work_prompts_submitted",
    "Prompts submitted for Copilot Chat (web)": "copilot_chat_web_prompts_submitted",
    "Active Usage Days for all apps": "active_usage_days",
    "Copilot Chat (work) Last Activity Date": "copilot_chat_work_last_activity_date",
    "Copilot Chat (web) Last Activity Date": "copilot_chat_web_last_activity_date",
    "Microsoft 365 Copilot Last Activity Date": "microsoft_365_copilot_last_activity_date",
    "Edge Last Activity Date": "edge_copilot_last_activity_date",
    "Copilot Agent Last Activity Date": "agent_last_activity_date",
}
TITLES = {column: header for header, column in {**HEADERS, **V2_HEADERS}.items()}
STAGED = tuple(TITLES)  # every column of usage_staged after its line number
DATES = tuple(c for c in STAGED if c.endswith("_date"))
COUNTS = ("prompts_submitted", "copilot_chat_work_prompts_submitted", "copilot_chat_web_prompts_submitted",
          "active_usage_days")
# beta JSON (v1 fields only: Microsoft documents no JSON names for the v2 columns).
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
REQUIRED = ("report_refresh_date", "user_principal_name")
MAX_LINE = 1 << 20  # a report row is a few hundred bytes; a longer line is not a usage report row
CONCEALED_HELP = (
    "The Copilot usage report hides user names (the tenant's report privacy setting conceals them), so "
    "per-person usage cannot be matched to users and is shown by hashed name only. To show names, in the "
    "Microsoft 365 admin centre go to Settings > Org settings > Reports and clear \"Display concealed "
    "user, group, and site names in all reports\", then collect again."
)


@dataclass(frozen=True)
class UsageCounts:
    rows: int  # rows written
    concealed: int  # of which with concealed names
    duplicates: int = 0  # identical rows given more than once, written once
    out_of_scope: int = 0  # rows of users outside the database's scope, not written
    concealed_dropped: int = 0  # concealed rows not written because the database is scoped
    scope: str | None = None  # the scope's description, when scoped
    refresh_date: date | None = None
    newer_stored: date | None = None  # set when nothing was written: the stored report is newer

    def notices(self) -> list[str]:
        notes = []
        if self.newer_stored is not None:
            notes.append(f"This usage report (refreshed {self.refresh_date}) is older than the one already "
                         f"stored (refreshed {self.newer_stored}); the newer report was kept and nothing was "
                         "written.")
        if self.concealed_dropped:
            notes.append(f"{self.concealed_dropped:,} usage report rows had concealed names, so they could not be "
                         f"shown to belong to the scope ({self.scope}) and were not stored. {CONCEALED_HELP}")
        elif self.concealed:
            notes.append(CONCEALED_HELP)
        if self.out_of_scope:
            notes.append(f"{self.out_of_scope:,} usage report rows of people outside the scope ({self.scope}) were "
                         "dropped and not stored.")
        return notes

    def as_dict(self) -> dict[str, object]:
        return {"rows": self.rows, "names_concealed": self.concealed, "duplicates": self.duplicates,
                "dropped_out_of_scope": self.out_of_scope, "dropped_concealed": self.concealed_dropped,
                "report_refresh_date": self.refresh_date.isoformat() if self.refresh_date else None,
                "newer_report_kept": self.newer_stored.isoformat() if self.newer_stored else None}


def csv_header(path: Path, delimiter: str = ",") -> list[str]:
    """The header names of a report CSV (UTF-8, with or without a byte-order mark)."""
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        line = f.readline(MAX_LINE)
    return next(csv.reader(io.StringIO(line), delimiter=delimiter), [])


def normal(name: str) -> str:
    """A header name compared without case, spacing or a "(UTC)" suffix."""
    return re.sub(r"\s+", " ", re.sub(r"\(utc\)", "", name.strip().lower())).strip()


_BY_NORMAL = {normal(h): c for h, c in {**HEADERS, **V2_HEADERS}.items()}


def stage_csv(con: duckdb.DuckDBPyConnection, path: Path, *, name: str | None = None,
              delimiter: str = ",") -> str:
    """usage_staged from a report CSV (UTF-8), columns matched by header name; returns v1 or v2.

    Rows DuckDB cannot split into the header's columns (too many or too few cells, an
    unclosed quote, a line over 1 MiB) are refused with their line number.
    """
    label = name or path.name
    header = csv_header(path, delimiter)
    targets = [_BY_NORMAL.get(normal(h)) for h in header]
    missing = [c for c in REQUIRED if c not in targets]
    if missing:
        raise UsageError(f"{label} is not a Copilot usage report: it has no "
                         f"{' or '.join(TITLES[c] for c in missing)} column.")
    names = [t if t and t not in targets[:i] else f"ignored_{i}" for i, t in enumerate(targets)]
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    sql_path = str(path).replace("'", "''")
    delim = "\\t" if delimiter == "\t" else ","
    selected = ", ".join(c if c in names else f"NULL::VARCHAR AS {c}" for c in STAGED)
    for table in ("usage_reject_errors", "usage_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE usage_staged AS
            SELECT row_number() OVER () + 1 AS line, {selected}
            FROM read_csv('{sql_path}', header=true, auto_detect=false, delim=E'{delim}',
                          quote='"', escape='"', columns={columns}, encoding='utf-8', strict_mode=true,
                          store_rejects=true, rejects_table='usage_reject_errors',
                          rejects_scan='usage_reject_scans', max_line_size={MAX_LINE})""")  # noqa: S608 - fixed map
    except duckdb.InvalidInputException as exc:
        # What the reader cannot attribute to one row (its state machine stops; lines that end
        # in LF and in CR LF in one file do this): the whole file, in one sentence.
        first = str(exc).splitlines()[0].removeprefix("Invalid Input Error: ").strip().rstrip(".")
        raise UsageError(f"{label} is not a well-formed CSV file ({first}; lines ending in both LF and CR LF, "
                         "or a stray quote, are the usual causes); nothing was imported.") from None
    _refuse_rejected(con, label)
    return "v2" if any(c in names for c in V2_HEADERS.values()) else "v1"


def _refuse_rejected(con: duckdb.DuckDBPyConnection, label: str) -> None:
    row = con.execute("""
        SELECT line, error_type, (SELECT count(DISTINCT line) FROM usage_reject_errors)
        FROM usage_reject_errors ORDER BY line, column_idx LIMIT 1""").fetchone()
    if row is None:
        return
    line, kind, count = row
    reason = {"TOO MANY COLUMNS": "has more cells than the header has columns",
              "MISSING COLUMNS": "has fewer cells than the header has columns (it may be cut short)",
              "UNQUOTED VALUE": "has a quoted value that is not closed",
              "LINE SIZE OVER MAXIMUM": f"is longer than {MAX_LINE // 1024} KiB, far more than a report row",
              "INVALID ENCODING": "is not UTF-8 text"}.get(str(kind), f"cannot be read ({str(kind).lower()})")
    more = f" (and {int(count) - 1} more bad lines)" if int(count) > 1 else ""
    raise UsageError(f"{label} line {int(line)} {reason}{more}; nothing was imported.")


def stage_json(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """usage_staged from beta JSON rows spooled one per line (always the v1 columns)."""
    sql_path = str(path).replace("'", "''")
    columns = {field: "VARCHAR" for field in JSON_FIELDS}
    columns["copilotActivityUserDetailsByPeriod"] = "STRUCT(reportPeriod VARCHAR)[]"
    spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
    picked = {target: f'"{field}"' for field, target in JSON_FIELDS.items()}
    picked["report_period"] = "copilotActivityUserDetailsByPeriod[1].reportPeriod"
    selected = ", ".join(f"{picked[c]} AS {c}" if c in picked else f"NULL::VARCHAR AS {c}" for c in STAGED)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE usage_staged AS
        SELECT row_number() OVER () AS line, {selected}
        FROM read_json('{sql_path}', format='newline_delimited', columns={spec})""")  # noqa: S608 - fixed map
    return "v1"


# A calendar date as the reports write it; years outside 2000-2999 are not report dates
# (DuckDB would otherwise accept 'infinity', BC dates and years beyond 9999).
_DATE_OK = ("(regexp_full_match(trim({c}), '2[0-9]{{3}}-[0-9]{{2}}-[0-9]{{2}}') "
            "AND try_cast(trim({c}) AS DATE) IS NOT NULL)")
_COUNT_OK = "regexp_full_match(trim({c}), '[0-9]{{1,15}}')"


def refuse_bad_rows(con: duckdb.DuckDBPyConnection, label: str) -> None:
    """Refuse usage_staged (UsageError naming the first bad line) unless every cell is sound."""
    checks = ["SELECT line, 'the Report Refresh Date is empty' FROM usage_staged "
              "WHERE nullif(trim(report_refresh_date), '') IS NULL AND nullif(trim(user_principal_name), '') "
              "IS NOT NULL"]
    checks += [f"SELECT line, '{TITLES[c]} is not a date like 2026-03-31' FROM usage_staged "
               f"WHERE nullif(trim({c}), '') IS NOT NULL AND NOT {_DATE_OK.format(c=c)}" for c in DATES]
    checks.append("SELECT line, 'the Report Period is not a whole number of days' FROM usage_staged "
                  "WHERE nullif(trim(report_period), '') IS NOT NULL AND NOT (regexp_full_match(trim(report_period), "
                  "'[0-9]{1,4}') AND try_cast(trim(report_period) AS INTEGER) > 0)")
    checks += [f"SELECT line, '{TITLES[c]} is not a whole number' FROM usage_staged "
               f"WHERE nullif(trim({c}), '') IS NOT NULL AND NOT {_COUNT_OK.format(c=c)}" for c in COUNTS]
    row = con.execute(" UNION ALL ".join(checks) + " ORDER BY 1 LIMIT 1").fetchone()
    if row is not None:
        raise UsageError(f"{label} line {int(row[0])}: {row[1]}; nothing was imported.")
    values = ", ".join(f"nullif(trim({c}), '')" for c in STAGED if c != "user_principal_name")
    clash = con.execute(f"""
        SELECT max(line), min(line) FROM (
            SELECT line, lower(trim(user_principal_name)) AS who, nullif(trim(report_period), '') AS period,
                   hash({values}) AS content
            FROM usage_staged WHERE nullif(trim(user_principal_name), '') IS NOT NULL)
        GROUP BY who, period HAVING count(DISTINCT content) > 1
        ORDER BY 1 LIMIT 1""").fetchone()  # noqa: S608 - fixed column names
    if clash is not None:
        raise UsageError(f"{label} line {int(clash[0])} gives different figures for the same user and Report "
                         f"Period as line {int(clash[1])}; nothing was imported.")


def land(con: duckdb.DuckDBPyConnection, *, run_id: str, source: str, concealed_setting: bool | None,
         version: str = "v1") -> UsageCounts:
    """Write usage_staged to usage_report_rows (queries/usage/land.sql) in the caller's transaction.

    The database's scope (store/scope.py) decides which rows may be written; the
    ``m365_upn`` macro (store/pseudonym.py) must be installed on ``con``.
    """
    scope = current_scope(con)
    scoped = scope is not None and scope.scope is not None
    con.execute("SET VARIABLE usage_run_id = ?", [run_id])
    con.execute("SET VARIABLE usage_source = ?", [source])
    con.execute("SET VARIABLE usage_version = ?", [version])
    con.execute("SET VARIABLE usage_concealed = ?", [bool(concealed_setting)])
    con.execute("SET VARIABLE usage_scoped = ?", [scoped])
    con.execute("SET VARIABLE usage_collected_at = ?::TIMESTAMPTZ", [datetime.now(UTC)])
    con.execute(read_query("usage/prepare.sql"))
    row = con.execute("""
        SELECT count(*) FILTER (WHERE in_scope), count(*) FILTER (WHERE in_scope AND concealed),
               (SELECT count(*) FROM usage_staged WHERE nullif(trim(user_principal_name), '') IS NOT NULL)
                 - count(*),
               count(*) FILTER (WHERE NOT in_scope AND NOT concealed),
               count(*) FILTER (WHERE NOT in_scope AND concealed),
               max(report_refresh_date), (SELECT report_refresh_date FROM usage_report_current)
        FROM usage_prepared""").fetchone()
    assert row is not None
    rows, concealed, duplicates, outside, concealed_dropped, refresh, stored = row
    counts = UsageCounts(int(rows), int(concealed), int(duplicates), int(outside), int(concealed_dropped),
                         scope.description if scoped and scope else None, refresh)
    if stored is not None and refresh is not None and refresh < stored:
        counts = UsageCounts(0, 0, counts.duplicates, refresh_date=refresh, newer_stored=stored)
    else:
        con.execute(read_query("usage/land.sql"))
    con.execute("DROP TABLE usage_staged")
    con.execute("DROP TABLE usage_prepared")
    return counts
