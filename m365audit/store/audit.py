"""Loading audit records into DuckDB: one path for Graph pages and Purview CSV exports.

Both sources stage their rows into the temp table ``staged_audit`` (one row per
record: raw AuditData text plus what the source says outside it), then
``queries/audit/parse.sql`` types the fields once and ``land.sql`` inserts the
records not stored yet and derives the normalised tables, all in SQL. The
caller owns the transaction; staging and landing run per batch (a slice's
spool file) so memory stays flat however many records a run brings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from m365audit.resources import read_query
from m365audit.store.audit_keys import create_macros

# Record types this tool audits (Graph's auditLogRecordType names) and their numbers in CSV exports.
AUDITED_TYPES = {
    "CopilotInteraction": 261,
    "AIAppInteraction": 284,
    "ConnectedAIAppInteraction": 328,
    "TeamCopilotInteraction": 334,
}
STAGED_COLUMNS = (
    "ordinal BIGINT, fallback_id VARCHAR, fallback_time VARCHAR, fallback_type VARCHAR, "
    "fallback_operation VARCHAR, fallback_upn VARCHAR, audit_data VARCHAR, staged_problem VARCHAR, "
    "fallback_admin_units VARCHAR[]"
)
BATCH_BYTES = 128 * 2**20  # spooled JSON per load batch
LOAD_MEMORY_LIMIT = "700MB"  # DuckDB's share; the collector's own Python objects come on top
_GRAPH_COLUMNS = ("{'id': 'VARCHAR', 'createdDateTime': 'VARCHAR', 'auditLogRecordType': 'VARCHAR',"
                  " 'operation': 'VARCHAR', 'userPrincipalName': 'VARCHAR', 'auditData': 'JSON',"
                  " 'administrativeUnits': 'VARCHAR[]'}")


@dataclass
class LandCounts:
    received: int = 0  # records read from the source
    new: int = 0  # landed now
    duplicates: int = 0  # already stored, or repeated within the batch
    unreadable: int = 0  # audited record types that could not be read (no Id, no time, ...)
    skipped_types: Counter[str] = field(default_factory=Counter)  # record types not audited
    out_of_scope: int = 0  # records of users outside the database's scope, dropped before landing

    def add(self, other: LandCounts) -> None:
        self.received += other.received
        self.new += other.new
        self.duplicates += other.duplicates
        self.unreadable += other.unreadable
        self.skipped_types.update(other.skipped_types)
        self.out_of_scope += other.out_of_scope

    def as_dict(self) -> dict[str, object]:
        return {"received": self.received, "new": self.new, "duplicates": self.duplicates,
                "unreadable": self.unreadable, "skipped_other_types": sum(self.skipped_types.values()),
                "out_of_scope": self.out_of_scope}


def prepare(con: duckdb.DuckDBPyConnection, record_types: dict[str, int] | None = None) -> None:
    """Macros and lookup tables the audit SQL uses; once per load on a connection.

    ``record_types``: auditLogRecordType names (and numbers) collected on purpose
    (``--record-types``) that land with their type name even where the views know
    nothing more of them.
    """
    create_macros(con)
    audited = {**AUDITED_TYPES, **{t: int(c) for t, c in (record_types or {}).items() if t.isalnum()}}
    names = ", ".join(f"'{name}'" for name in audited)
    con.execute(f"CREATE OR REPLACE TEMP MACRO audit_is_audited(t) AS t IN ({names})")  # noqa: S608 - constant names
    cases = " ".join(f"WHEN '{code}' THEN '{name}' WHEN lower('{name}') THEN '{name}'"
                     for name, code in audited.items())
    con.execute(f"CREATE OR REPLACE TEMP MACRO audit_record_type(x) AS "
                f"CASE lower(trim(x::VARCHAR)) {cases} ELSE nullif(trim(x::VARCHAR), '') END")
    con.execute(read_query("audit/macros.sql"))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE audit_user_map AS
        SELECT lower(user_principal_name) AS upn, arg_max(user_id, valid_from) AS user_id
        FROM user_versions WHERE user_principal_name IS NOT NULL GROUP BY 1""")


def stage_graph_records(con: duckdb.DuckDBPyConnection, spools: list[Path]) -> None:
    """staged_audit from spool files holding an auditLogRecord per line.

    Records are spooled one per line, not one page per line: DuckDB parses a
    file of small JSON documents many times faster than one of megabyte pages.
    """
    paths = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in spools) + "]"
    drop_relation(con, "staged_audit")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE staged_audit AS
        SELECT NULL::BIGINT AS ordinal, id AS fallback_id, createdDateTime AS fallback_time,
               auditLogRecordType AS fallback_type, operation AS fallback_operation,
               userPrincipalName AS fallback_upn, auditData::VARCHAR AS audit_data,
               NULL::VARCHAR AS staged_problem, administrativeUnits AS fallback_admin_units
        FROM read_json({paths}, format='newline_delimited', columns={_GRAPH_COLUMNS},
                       maximum_object_size=16777216)""")  # noqa: S608 - our own temp files


def parse_staged(con: duckdb.DuckDBPyConnection, *, number_rows: bool = False) -> None:
    """audit_parsed from staged_audit (queries/audit/parse.sql, then rescue.sql).

    ``number_rows`` sets each record's ordinal from its position in staged_audit. It
    needs audit_parsed made outside a transaction (a transaction's appended rows have
    provisional rowids), and is done before rescue.sql: DuckDB updates rows with
    nested columns by deleting and appending them, which changes their rowids.
    """
    con.execute(read_query("audit/parse.sql"))
    if number_rows:
        con.execute("UPDATE audit_parsed SET ordinal = rowid + 1")
    con.execute(read_query("audit/rescue.sql"))


def drop_out_of_scope(con: duckdb.DuckDBPyConnection, keep_sql: str | None) -> int:
    """Delete from audit_parsed the records of users outside the scope; how many were dropped.

    ``keep_sql`` is a condition on ``user_principal_name`` (``m365audit.store.scope.record_filter_sql``).
    A record without a user cannot be shown to be in the scope and goes too, unless it is a
    record that cannot be loaded anyway (it is then counted, or rejected, as unreadable). Runs on
    the temporary staging table, inside the caller's transaction: a dropped record never reaches
    a table of the database file.
    """
    if keep_sql is None:
        return 0
    outside = f"NOT coalesce(({keep_sql}), false) AND (user_principal_name IS NOT NULL OR problem IS NULL)"
    dropped = _scalar(con, f"SELECT count(*) FROM audit_parsed WHERE {outside}")  # noqa: S608 - quoted literals
    if dropped:
        con.execute(f"DELETE FROM audit_parsed WHERE {outside}")  # noqa: S608 - quoted literals
    return dropped


def land_parsed(con: duckdb.DuckDBPyConnection, *, source: str, run_id: str) -> LandCounts:
    """Insert the loadable records of audit_parsed that are not stored yet; derive the facts."""
    counts = LandCounts(received=_scalar(con, "SELECT count(*) FROM audit_parsed"))
    counts.unreadable = _scalar(con, "SELECT count(*) FROM audit_parsed WHERE problem IS NOT NULL")
    for name, n in con.execute("""
            SELECT coalesce(record_type, 'unknown'), count(*) FROM audit_parsed
            WHERE NOT coalesce(audited, false) AND problem IS NULL GROUP BY 1""").fetchall():
        counts.skipped_types[name] = n
    con.execute("""
        CREATE OR REPLACE TEMP TABLE audit_keep AS
        SELECT rowid AS row_id, record_id, created_at FROM audit_parsed WHERE audited AND problem IS NULL
        QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY ordinal NULLS LAST, rowid) = 1""")
    loadable = _scalar(con, "SELECT count(*) FROM audit_parsed WHERE audited AND problem IS NULL")
    _drop_stored(con)
    counts.new = _scalar(con, "SELECT count(*) FROM audit_keep")
    counts.duplicates = loadable - counts.new
    # Landing filters audit_parsed by the rows to skip, not by a join with the rows to keep:
    # the skipped are usually none, and a join would carry every record's raw text through it.
    skip = "rowid NOT IN (SELECT row_id FROM audit_keep)" if counts.duplicates else "false"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE audit_skip AS
        SELECT rowid AS row_id FROM audit_parsed WHERE audited AND problem IS NULL AND {skip}""")  # noqa: S608 - constant
    con.execute("SET VARIABLE audit_source = ?", [source])
    con.execute("SET VARIABLE audit_run_id = ?", [run_id])
    con.execute("SET VARIABLE audit_ingested_at = ?::TIMESTAMPTZ", [datetime.now(UTC)])
    con.execute(read_query("audit/land.sql"))
    con.execute("DROP TABLE audit_keep")
    con.execute("DROP TABLE audit_skip")
    return counts


def _drop_stored(con: duckdb.DuckDBPyConnection) -> None:
    """Remove from audit_keep the records already stored.

    A record's CreationTime never changes, so only stored records from around the
    batch's time range are compared: the scan skips the rest of a large table.
    """
    row = con.execute("SELECT min(created_at), max(created_at) FROM audit_keep").fetchone()
    if row is None or row[0] is None:
        return
    low, high = row[0] - timedelta(days=2), row[1] + timedelta(days=2)
    con.execute("""
        DELETE FROM audit_keep WHERE record_id IN (
            SELECT record_id FROM audit_records WHERE created_at BETWEEN ? AND ?)""", [low, high])


def finish(con: duckdb.DuckDBPyConnection) -> None:
    """After all batches: give records their user ids where the user is now known."""
    con.execute(read_query("audit/user_ids.sql"))
    for name in ("staged_audit", "audit_parsed"):
        drop_relation(con, name)


def land_graph_spools(con: duckdb.DuckDBPyConnection, spools: list[Path], *, run_id: str,
                      batch_bytes: int = BATCH_BYTES, keep_sql: str | None = None,
                      record_types: dict[str, int] | None = None) -> LandCounts:
    """The collector's path: spool files in batches of about ``batch_bytes``, one transaction (the caller's).

    Batches keep memory flat however many records a run brings, and are large
    enough that the per-statement costs (regex and JSON type compilation) vanish.
    """
    prepare(con, record_types)
    # Without a cap DuckDB keeps up to 80% of RAM in its buffer pool; capped, it spills to disk
    # and a run's peak memory stays flat however many records it brings.
    con.execute(f"SET memory_limit = '{LOAD_MEMORY_LIMIT}'")
    total = LandCounts()
    for batch in _batches(spools, batch_bytes):
        stage_graph_records(con, batch)
        parse_staged(con)
        dropped = drop_out_of_scope(con, keep_sql)
        total.add(land_parsed(con, source="graph", run_id=run_id))
        total.out_of_scope += dropped
    finish(con)
    return total


def _batches(spools: list[Path], limit: int) -> list[list[Path]]:
    batches: list[list[Path]] = []
    size = 0
    for spool in spools:
        length = spool.stat().st_size
        if not batches or size + length > limit:
            batches.append([])
            size = 0
        batches[-1].append(spool)
        size += length
    return batches


def drop_relation(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temp table or view ``name`` if it exists (staged_audit is either).

    Looked up, not tried: a failed DROP would abort the caller's transaction.
    """
    for (kind,) in con.execute("""
            SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ?
            UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?""",
                               [name, name]).fetchall():
        con.execute(f"DROP {kind} {name}")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
