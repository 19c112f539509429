"""Staging a Purview audit search CSV export for the shared audit loading path.

Layouts: ``RecordId, CreationDate, RecordType, Operation, UserId, AuditData,
AssociatedAdminUnits, AssociatedAdminUnitsNames`` (current) and ``CreationDate,
UserIds, Operations, AuditData`` (older). CreationDate follows the exporting
browser's locale and is ignored: the time comes from AuditData.CreationTime.
DuckDB reads the file in one parallel pass, straight into the loader's parsed
table; rows it cannot split into the header's columns are kept aside with their
line numbers (DuckDB's rejects).

Line numbers count one line per CSV record with the header as line 1, which
is the file's own line number unless a quoted field spans several lines.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import duckdb

from m365audit.store.audit import drop_relation
from m365audit.store.csv_text import BadFile, CsvText

# Our staging column -> the export's column names (lower case), in order of preference.
COLUMNS = {
    "fallback_id": ("recordid",),
    "fallback_type": ("recordtype",),
    "fallback_operation": ("operation", "operations"),
    "fallback_upn": ("userid", "userids"),
    "audit_data": ("auditdata",),
    "admin_units": ("associatedadminunits",),
}


# The longest CSV record read. Purview caps an audit record well below this; DuckDB
# holds a read buffer of twice this per thread, within the import's memory cap.
MAX_LINE = 16 * 2**20


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str
    raw: str = ""  # the line as read, when the row could not be split into columns
    record_id: str = ""
    audit_data: str = ""


def stage(con: duckdb.DuckDBPyConnection, text: CsvText) -> None:
    """staged_audit: a view reading the export, for the shared loader's one parsing pass.

    Nothing is materialised here: ``audit_store.parse_staged`` reads the file once,
    in parallel and in the file's order, straight into audit_parsed, and numbers the
    rows from their position there (``number_rows``). Rows DuckDB cannot split
    into the header's columns land in csv_reject_errors as that pass runs.
    """
    lower = [h.lower() for h in text.header]
    if "auditdata" not in lower:
        raise BadFile(f"{text.path.name} is not a Purview audit log export: its header has no AuditData column "
                      f"(it has {', '.join(text.header[:8]) or 'nothing'}).")
    names = [f"c{i}" for i in range(len(text.header))]
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    picked = []
    for target, candidates in COLUMNS.items():
        source = next((names[lower.index(c)] for c in candidates if c in lower), None)
        picked.append(f"{source or 'NULL::VARCHAR'} AS {target}")
    path = str(text.path).replace("'", "''")
    delim = "\\t" if text.delimiter == "\t" else ","
    # buffer_size: DuckDB's default is 16 x max_line_size (1 GiB), one allocation that
    # fails under the import's memory cap for any file larger than that; two lines' worth
    # is enough and reads faster. encoding='utf-8' makes the reader check the text; rows
    # that are not UTF-8 are rejected as INVALID ENCODING (see encoding_error).
    for table in ("csv_reject_errors", "csv_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    drop_relation(con, "staged_audit")
    con.execute(f"""
        CREATE TEMP VIEW staged_audit AS
        SELECT NULL::BIGINT AS ordinal, fallback_id, NULL::VARCHAR AS fallback_time, fallback_type,
               fallback_operation, fallback_upn, audit_data,
               CASE WHEN audit_data IS NULL OR (length(audit_data) < 64 AND trim(audit_data) = '')
                    THEN 'AuditData is empty' END AS staged_problem,
               -- AssociatedAdminUnits: the record's administrative unit ids, as a list in one cell
               list_filter(regexp_split_to_array(trim(regexp_replace(coalesce(admin_units, ''), '[\\[\\]"]', '', 'g')),
                                                 '\\s*[,;]\\s*'), lambda u: trim(u) <> '') AS fallback_admin_units
        FROM (SELECT {', '.join(picked)}
              FROM read_csv('{path}', header=true, auto_detect=false, columns={columns}, delim=E'{delim}',
                            quote='"', escape='"', strict_mode=true, store_rejects=true,
                            rejects_table='csv_reject_errors', rejects_scan='csv_reject_scans',
                            max_line_size={MAX_LINE}, buffer_size={2 * MAX_LINE},
                            encoding='utf-8'))""")  # noqa: S608 - names we made; escaped path


def encoding_error(con: duckdb.DuckDBPyConnection) -> int | None:
    """The first line DuckDB rejected as not UTF-8, if any (the whole file is then refused)."""
    row = con.execute("SELECT min(line) FROM csv_reject_errors WHERE error_type = 'INVALID ENCODING'").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def rejected_rows(con: duckdb.DuckDBPyConnection) -> list[BadRow]:
    """Rows DuckDB could not split into the header's columns, one per line."""
    rows = con.execute("""
        SELECT line, first(error_type ORDER BY column_idx), first(error_message ORDER BY column_idx),
               first(csv_line)
        FROM csv_reject_errors GROUP BY line ORDER BY line""").fetchall()
    return [BadRow(int(line), _reason(kind, message), (raw or "").strip("\r\n")) for line, kind, message, raw in rows]


def _reason(kind: str, message: str) -> str:
    if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
        return f"wrong number of columns ({message.strip().rstrip('.')})"
    if kind == "UNQUOTED VALUE":
        return "a quoted value is not closed"
    if kind == "INVALID ENCODING":
        return "the row is not UTF-8 text"
    return f"{kind.lower()}: {message.strip().rstrip('.')}"


def problem_rows(con: duckdb.DuckDBPyConnection, rejected_lines: list[int], limit: int | None) -> list[BadRow]:
    """Rows that split fine but cannot be loaded (audit_parsed.problem), with their line numbers.

    audit_parsed must have been parsed with ``number_rows`` (see ``stage``).
    """
    sql = """
        SELECT ordinal, problem, fallback_id, audit_data FROM audit_parsed
        WHERE problem IS NOT NULL ORDER BY ordinal"""
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [BadRow(line_of(int(k), rejected_lines), str(problem), record_id=rid or "", audit_data=data or "")
            for k, problem, rid, data in con.execute(sql).fetchall()]


def line_of(ordinal: int, rejected_lines: list[int]) -> int:
    """The line of the ``ordinal``-th readable record, given the (sorted) lines of rejected ones."""
    line = ordinal + 1
    counted = 0
    while True:
        before = bisect_right(rejected_lines, line)
        if before == counted:
            return line
        line += before - counted
        counted = before
