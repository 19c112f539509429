"""``m365audit import``: exported files into the same tables, through the same SQL.

An import is all or nothing: any bad row stops it with the row's line number
and nothing is written, unless ``skip_bad_rows`` is set, when the good rows
are imported and the bad ones written to a reject file with their line and
reason. Imported records dedupe against everything already stored (collected
or imported); the source is recorded per record and per run.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from m365audit import environment
from m365audit.csv_output import csv_bytes
from m365audit.errors import UsageError
from m365audit.outputs import check_file, protected_paths, write_atomically
from m365audit.progress import Progress
from m365audit.scope import parse_scope
from m365audit.store import audit as audit_store
from m365audit.store import pseudonym, purview_csv
from m365audit.store import usage as usage_store
from m365audit.store.csv_text import BadFile, CsvText, prepare
from m365audit.store.db import open_db, rollback
from m365audit.store.lock import writer_lock
from m365audit.store.purview_csv import BadRow
from m365audit.store.runs import finish_run, start_run
from m365audit.store.scope import current_scope, known_users, record_filter_sql

PURVIEW_SOURCE = "purview-csv"
USAGE_SOURCE = "admin-centre-csv"
_SHOWN_ERRORS = 1000  # bad rows counted in the refusal without --skip-bad-rows
IMPORT_MEMORY_LIMIT = audit_store.LOAD_MEMORY_LIMIT  # DuckDB spills to disk beyond this


@dataclass
class ImportSummary:
    file: str
    run_id: str | None = None
    imported: int = 0
    already_present: int = 0
    skipped_types: Counter[str] = field(default_factory=Counter)
    bad_rows: int = 0
    reject_file: str | None = None
    notices: list[str] = field(default_factory=list)
    scope: str | None = None  # the database's scope in words; None = the whole tenant
    out_of_scope: int = 0  # rows of users outside the scope, dropped before anything was written
    usage: dict[str, Any] | None = None  # usage report imports: what was written, dropped or kept

    def as_dict(self) -> dict[str, Any]:
        extra = {"usage_report": self.usage} if self.usage is not None else {}
        return {"file": self.file, "run_id": self.run_id, "imported": self.imported,
                "already_present": self.already_present, "skipped_rows": sum(self.skipped_types.values()),
                "skipped_record_types": dict(self.skipped_types), "bad_rows": self.bad_rows,
                "reject_file": self.reject_file, "notices": self.notices, "scope": self.scope,
                "out_of_scope": self.out_of_scope, **extra}


REJECT_HEADER = ["line", "reason", "record_id", "audit_data", "unsplit_line"]


def import_purview_audit(db: Path, file: Path, *, skip_bad_rows: bool = False,
                         reject_file: Path | None = None, force: bool = False,
                         progress: Progress | None = None) -> ImportSummary:
    summary = ImportSummary(str(file))
    progress = progress or Progress("import")
    reject_path = reject_file or default_reject_file(file)
    if skip_bad_rows:
        # Checked before anything is read or written: the reject file may replace only a
        # reject file (or, with --force, another regular file), never the data.
        check_file(reject_path, option="--reject-file", force=force, protected=protected_paths(db, [file]),
                   ours=csv_bytes(REJECT_HEADER, []))
    # One writer per file (store/lock.py): a nightly run and an import never interleave.
    with writer_lock(db, "import"), tempfile.TemporaryDirectory(prefix="m365audit-import-") as work, \
            open_db(db, memory_limit=IMPORT_MEMORY_LIMIT) as con, progress.steps("import", 3) as step:
        step("reading and parsing the file", 1)
        text = prepare(file, Path(work), check_utf8=False)  # DuckDB's reader checks UTF-8 as it reads
        bad = _parse_purview(con, text, file, skip_bad_rows, summary)
        step("importing", 1)
        progress.advance("import", rows=_count(con, "audit_parsed"), bad_rows=len(bad))
        con.execute("BEGIN TRANSACTION")
        try:
            _land_purview(con, summary, bad, reject_path)
            con.execute("COMMIT")
        except BaseException:
            rollback(con)
            raise
        step("imported", 1)
        progress.advance("import", imported=summary.imported)
    return summary


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _parse_purview(con: duckdb.DuckDBPyConnection, text: CsvText, file: Path, skip_bad_rows: bool,
                   summary: ImportSummary) -> list[BadRow]:
    """Read and parse the whole export into audit_parsed; the bad rows, or refuse the file.

    Parsed before the transaction: rows a transaction appends get provisional rowids,
    and the records' ordinals (for line numbers) come from audit_parsed's rowids. Only
    temporary tables are written, so a refusal leaves the database as it was. DuckDB
    streams the file and spills past its memory cap, so memory stays flat whatever
    the file's size.
    """
    audit_store.prepare(con)
    purview_csv.stage(con, text)
    audit_store.parse_staged(con, number_rows=True)
    _drop_out_of_scope(con, summary)
    line = purview_csv.encoding_error(con)
    if line is not None:
        raise BadFile(f"{file.name} line {line}: the file is not UTF-8 text (it may use another encoding; "
                      "save it as CSV UTF-8 and try again).")
    rejected = purview_csv.rejected_rows(con)
    problems = purview_csv.problem_rows(con, [r.line for r in rejected], None if skip_bad_rows else _SHOWN_ERRORS)
    bad = sorted(rejected + problems, key=lambda r: r.line)
    if bad and not skip_bad_rows:
        _refuse(file, bad)
    return bad


def _drop_out_of_scope(con: duckdb.DuckDBPyConnection, summary: ImportSummary) -> None:
    """A scoped database keeps only its organisation's records: the others go before anything is written.

    A domain scope needs nothing stored; a company or unit scope keeps the users its
    collected directory has ever held (an import cannot ask Graph), so it needs one.
    """
    record = current_scope(con)
    scope = parse_scope(record.scope) if record is not None else None
    if record is None or scope is None:
        return
    summary.scope = record.description
    hidden = pseudonym.is_pseudonymised(con)
    if scope.kind != "domain":
        if not known_users(con):
            raise UsageError(f"The database holds {record.description} but no directory to tell its users "
                             "by; collect licences first, then import. Nothing was imported.")
        if hidden:
            pseudonym.install(con, pseudonym.key_from_env())  # to compare pseudonymised UPNs
    summary.out_of_scope = audit_store.drop_out_of_scope(
        con, record_filter_sql(scope, imported=True, pseudonymised=hidden))


def _land_purview(con: duckdb.DuckDBPyConnection, summary: ImportSummary, bad: list[BadRow],
                  reject_path: Path) -> None:
    run_id = start_run(con, "import", graph_url=None)
    counts = audit_store.land_parsed(con, source=PURVIEW_SOURCE, run_id=run_id)
    audit_store.finish(con)
    summary.run_id = run_id
    summary.imported = counts.new
    summary.already_present = counts.duplicates
    summary.skipped_types = Counter({_type_label(k): v for k, v in counts.skipped_types.items()})
    summary.bad_rows = len(bad)
    if bad:
        # Inside the transaction: a reject file that cannot be written rolls the import back.
        write_atomically(reject_path, reject_bytes(bad), option="--reject-file")
        summary.reject_file = str(reject_path)
    pseudonym.pseudonymise_if_required(con, run_id)
    finish_run(con, run_id, status="succeeded", counts={"source": PURVIEW_SOURCE, **summary.as_dict()})


def _refuse(file: Path, bad: list[BadRow]) -> None:
    more = f" (and {len(bad) - 1} more bad rows)" if len(bad) > 1 else ""
    raise UsageError(f"{file.name} line {bad[0].line}: {bad[0].reason}{more}; nothing was imported. Fix the "
                     "file, or pass --skip-bad-rows to import the good rows and write the bad ones aside.")


def default_reject_file(file: Path) -> Path:
    """``<name>.rejected.csv`` in the current folder (the export's own folder may be read-only)."""
    return Path.cwd() / f"{file.stem}.rejected.csv"


def reject_bytes(rows: list[BadRow]) -> bytes:
    """The reject file: each bad row with its line and reason, through the one CSV writer."""
    return csv_bytes(REJECT_HEADER, ([row.line, row.reason, row.record_id, row.audit_data, row.raw] for row in rows))


def import_usage_report(db: Path, file: Path, progress: Progress | None = None) -> ImportSummary:
    """The admin centre's (or Graph's) Copilot usage CSV, v1 or v2 columns, into usage_report_rows.

    Checked whole before anything is written; in a scoped database only the scope's
    users' rows are written; a report older than the stored one is not written.
    """
    summary = ImportSummary(str(file))
    progress = progress or Progress("import")
    with writer_lock(db, "import"), tempfile.TemporaryDirectory(prefix="m365audit-import-") as work, \
            open_db(db) as con, progress.steps("import", 3) as step:
        step("reading the file", 1)
        text = prepare(file, Path(work))
        version = usage_store.stage_csv(con, text.path, name=file.name, delimiter=text.delimiter)
        usage_store.refuse_bad_rows(con, file.name)
        step("importing", 1)
        progress.advance("import", rows=_count(con, "usage_staged"))
        con.execute("BEGIN TRANSACTION")
        try:
            _install_name_macros(con)
            run_id = start_run(con, "import", graph_url=None)
            counts = usage_store.land(con, run_id=run_id, source=USAGE_SOURCE, concealed_setting=None,
                                      version=version)
            summary.run_id = run_id
            summary.imported = counts.rows
            summary.usage = counts.as_dict()
            summary.scope, summary.out_of_scope = counts.scope, counts.out_of_scope + counts.concealed_dropped
            summary.notices = counts.notices()
            pseudonym.pseudonymise_if_required(con, run_id)
            finish_run(con, run_id, status="succeeded", counts={"source": USAGE_SOURCE, **summary.as_dict()})
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        step("imported", 1)
        progress.advance("import", imported=summary.imported)
    return summary


def _install_name_macros(con: duckdb.DuckDBPyConnection) -> None:
    """m365_upn and friends, keyed from the environment when the database stores pseudonyms
    (refused without the key, so nothing is imported), else the identity."""
    key = pseudonym.key_from_env() if pseudonym.is_pseudonymised(con) and \
        environment.STORAGE_KEY.raw() else None
    pseudonym.install(con, key)


_KNOWN_TYPES = {
    "1": "ExchangeAdmin", "2": "ExchangeItem", "3": "ExchangeItemGroup", "4": "SharePoint",
    "6": "SharePointFileOperation", "8": "AzureActiveDirectory", "14": "SharePointSharingOperation",
    "15": "AzureActiveDirectoryStsLogon", "25": "MicrosoftTeams", "36": "SharePointListOperation",
    "43": "MIPLabel", "362": "AIInteractionsExport",
}


def _type_label(value: str) -> str:
    name = _KNOWN_TYPES.get(value.strip())
    return f"{name} ({value})" if name else value
