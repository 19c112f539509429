"""Opening the DuckDB file, applying migrations and (re)creating public views.

Connections are always closed (duckdb 2.x warns about leaked connections at
exit), so every caller uses ``open_db`` as a context manager.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from m365audit import environment
from m365audit.errors import DatabaseError
from m365audit.resources import queries_dir

DEFAULT_DB = Path("m365audit.duckdb")
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def _migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration shipped with the package, in order."""
    found = []
    for entry in (Path(__file__).parent / "migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


def latest_schema_version() -> int:
    return max(v for v, _, _ in _migrations())


def applied_migrations(con: duckdb.DuckDBPyConnection) -> set[int]:
    if schema_version(con) == 0:
        return set()
    return {int(r[0]) for r in con.execute("SELECT version FROM schema_migrations").fetchall()}


DEFAULT_WAIT = 30.0  # seconds to wait for another process's brief hold on the file


def lock_wait(default: float = DEFAULT_WAIT) -> float:
    """How long to wait for the file: M365AUDIT_DB_WAIT seconds, else ``default``."""
    wait = environment.DB_WAIT.read()
    return default if wait is None else wait


DEFAULT_MEMORY_LIMIT = "512MB"


def memory_limit_setting() -> str:
    """DuckDB's memory cap for every connection: ``M365AUDIT_MEMORY_LIMIT`` or 512MB.

    Without a cap DuckDB keeps up to 80% of the machine's memory as its buffer pool;
    capped, it spills to a folder beside the database and a nightly job's memory stays
    bounded on a shared server (docs/performance.md).
    """
    return environment.MEMORY_LIMIT.read() or DEFAULT_MEMORY_LIMIT


def connection_config(**settings: str | bool | int | float) -> dict[str, str | bool | int | float | list[str]]:
    """Settings for every DuckDB connection m365audit opens: never load or install an extension.

    DuckDB otherwise downloads an extension it thinks a file or a query needs (the
    sqlite scanner for a SQLite file given as --db); m365audit needs none, and a
    nightly job must not fetch code from the network.
    """
    return {"autoload_known_extensions": False, "autoinstall_known_extensions": False, **settings}


_SQLITE_MAGIC = b"SQLite format 3\x00"
_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def recognise_file(path: Path) -> None:
    """Refuse, before DuckDB opens it, a path that is not a regular DuckDB database file."""
    if path.is_symlink() and not path.exists():
        raise DatabaseError(f"--db {path} is a symbolic link to a file that does not exist.")
    if not path.is_file():
        raise DatabaseError(f"--db {path} is not a regular file; give the DuckDB database file.")
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise DatabaseError(f"The database {path} cannot be read: {exc.strerror or exc}.") from None
    if head.startswith(_SQLITE_MAGIC):
        raise DatabaseError(f"{path} is a SQLite database, not an m365audit (DuckDB) database; m365audit "
                            "leaves it unchanged.")
    if head[8:12] != _DUCKDB_MAGIC:
        raise DatabaseError(f"{path} is not a DuckDB database file (m365audit leaves it unchanged); pass --db "
                            "with an m365audit database or a new file name.")


def recognise_database(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """True for an m365audit database, False for an empty file; DatabaseError for another program's.

    Recognised: the application marker (migration 035), or, from earlier
    versions, schema_migrations shaped as m365audit writes it with its first
    migration ``001 core`` recorded.
    """
    names = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal AND database_name = current_database()"
    ).fetchall()}
    if not names:
        return False
    if "m365audit_application" in names:
        row = con.execute("SELECT count(*) FROM m365audit_application WHERE application = 'm365audit'").fetchone()
        if row and row[0]:
            return True
    elif "schema_migrations" in names and _legacy_migrations(con):
        return True
    raise DatabaseError(f"{path} is a DuckDB database of another program, not m365audit's; m365audit leaves "
                        "it unchanged. Pass --db with an m365audit database or a new file name.")


def _legacy_migrations(con: duckdb.DuckDBPyConnection) -> bool:
    columns = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'schema_migrations' "
        "AND database_name = current_database() ORDER BY column_index").fetchall()]
    if columns != ["version", "name", "applied_at"]:
        return False
    row = con.execute("SELECT count(*) FROM schema_migrations WHERE version = 1 AND name = 'core'").fetchone()
    return bool(row and row[0])


def _connect(path: Path, read_only: bool, memory_limit: str | None,
             wait: float) -> duckdb.DuckDBPyConnection:
    """Connect, waiting up to ``wait`` s while another process has the file open.

    DuckDB allows one read-write process or several readers. The collector
    holds the file only for each commit and readers only while they query,
    so a short wait lets a nightly run and a report share the file.
    """
    config = connection_config(memory_limit=memory_limit or memory_limit_setting())
    deadline = time.monotonic() + wait
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" not in text.lower():
                raise DatabaseError(f"The database {path} cannot be opened: {_first_line(text)}") from None
            if time.monotonic() >= deadline:
                holder = re.search(r"PID (\d+)", text)
                who = f" by process {holder.group(1)}" if holder else ""
                raise DatabaseError(
                    f"The database {path} is locked{who}; another program has it open."
                ) from None
            time.sleep(0.2)
        except (duckdb.Error, OSError) as exc:
            raise DatabaseError(
                f"{path} is not a usable m365audit database: {_first_line(str(exc))}"
            ) from None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


@contextmanager
def open_db(
    path: Path | str = DEFAULT_DB,
    *,
    read_only: bool = False,
    memory_limit: str | None = None,
    wait: float | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database, migrating it first when opened for writing.

    Read-only opens refuse a file that does not exist or was never migrated,
    so ``check`` on a missing file says so instead of creating an empty one.
    """
    path = Path(path)
    if read_only and not path.exists() and not path.is_symlink():
        raise DatabaseError(
            f"No database at {path}: run `m365audit collect` (or `m365audit demo`) first, "
            "or pass --db."
        )
    if not read_only:
        _private_files()
    created = not path.exists() and not path.is_symlink()
    if created and not path.parent.exists():
        raise DatabaseError(f"Cannot create {path}: the folder {path.parent} does not exist.")
    if not created:
        recognise_file(path)
    con = _connect(path, read_only, memory_limit, lock_wait() if wait is None else wait)
    try:
        if created:
            # Tenant data is personal data: the file is readable by its owner only.
            os.chmod(path, 0o600)
        recognise_database(con, path)
        if read_only:
            _require_current(con, path)
        else:
            migrate(con, path)
        yield con
    except (duckdb.Error, OSError) as exc:
        words = storage_cause(exc)
        if words is None:
            raise
        raise DatabaseError(f"Cannot write the database {path}: {words}; the last committed data is "
                            "unchanged.") from None
    finally:
        con.close()


def _private_files() -> None:
    """Files this process creates from now on are readable by their owner only.

    The database, its write-ahead log and DuckDB's spill folder all hold
    tenant data, and DuckDB creates the last two itself; a process-wide umask
    is the one setting that covers them (and the reports written later).
    """
    current = os.umask(0o077)
    os.umask(current | 0o077)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or exists[0] == 0:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def _require_current(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    applied = applied_migrations(con)
    known = {v for v, _, _ in _migrations()}
    if not applied:
        raise DatabaseError(f"{path} holds no m365audit data: run `m365audit collect` first.")
    if applied - known:
        raise DatabaseError(
            f"{path} was written by a newer m365audit (schema {max(applied)}, this version knows "
            f"{max(known)}); upgrade m365audit to read it."
        )
    if known - applied:
        raise DatabaseError(
            f"{path} uses an older schema; run any writing command (collect, import) once to upgrade it."
        )


def migrate(con: duckdb.DuckDBPyConnection, path: Path | str = "database") -> None:
    """Apply pending migrations in one transaction, and recreate the views when they changed.

    A migration is pending when its number is not recorded, so migrations
    written on parallel branches apply whichever lands first.
    """
    version = schema_version(con)
    migrations = _migrations()
    applied = applied_migrations(con)
    unknown = applied - {v for v, _, _ in migrations}
    if unknown:
        raise DatabaseError(
            f"{path} was written by a newer m365audit (schema {max(unknown)}, this version knows "
            f"{max(v for v, _, _ in migrations)}); upgrade m365audit to use it."
        )
    pending = [m for m in migrations if m[0] not in applied]
    digest = views_digest()
    if not pending and _stored_views_digest(con) == digest:
        return  # schema and views are current: nothing to write
    con.execute("BEGIN TRANSACTION")
    try:
        if version == 0:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL)"
            )
        for number, name, sql in pending:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [number, name, datetime.now(UTC)],
            )
        create_views(con)
        con.execute("DELETE FROM view_digest")
        con.execute("INSERT INTO view_digest VALUES (?, ?)", [digest, datetime.now(UTC)])
        con.execute("COMMIT")
    except Exception:
        rollback(con)
        raise


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back, keeping the error that made it necessary.

    A COMMIT that failed (a full disk) has already ended the transaction; DuckDB's
    "cannot rollback - no transaction is active" would then replace the real cause.
    """
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


# DuckDB's words for a storage failure, and what they mean to the operator.
_STORAGE_CAUSES = (("no space left on device", "the disk is full"),
                   ("disk quota exceeded", "the disk quota is exceeded"),
                   ("read-only file system", "the file system is read-only"),
                   ("permission denied", "permission denied"),
                   ("could not write", "it cannot be written"), ("could not allocate", "the disk is full"))


def storage_cause(exc: BaseException) -> str | None:
    """The storage failure behind ``exc`` (or an exception it happened during), in words."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen).lower()
        for fragment, words in _STORAGE_CAUSES:
            if fragment in text:
                return words
        seen = seen.__cause__ or seen.__context__
    return None


def view_files() -> list[Path]:
    return sorted((queries_dir() / "views").glob("*.sql"))


def views_digest() -> str:
    """SHA-256 over the view files' names and text, in the order they are created."""
    digest = hashlib.sha256()
    for file in view_files():
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _stored_views_digest(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT max(digest) FROM view_digest").fetchone()
    return row[0] if row else None


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create every public view from queries/views/*.sql, in file-name order."""
    for file in view_files():
        con.execute(file.read_text(encoding="utf-8"))
