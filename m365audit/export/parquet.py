"""``export parquet``: the public views as date-partitioned Parquet datasets.

Each public view becomes a folder of Hive-partitioned Parquet files named
after it, so Spark, Trino or Microsoft Fabric can register one table per
folder and run the same SQL as against the DuckDB file:

- snapshot views (``skus``, ``users``, ``licence_assignments``) hold one
  partition ``snapshot_date=YYYY-MM-DD`` per day with a snapshot (the day's
  last one), each the whole state as of that snapshot (``*_at(ts)``);
- audit views hold ``created_date=YYYY-MM-DD`` partitions: the date of the
  interaction (for the per-resource, message, context and plugin views, the
  date of the interaction they belong to);
- any other view is one unpartitioned dataset.

The export is written to a temporary folder beside the target and renamed
into place at the end: readers see the old export or the new one, never half.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from m365audit import __version__
from m365audit.errors import DatabaseError, UsageError
from m365audit.outputs import OutputError, cause, check_folder, protected_paths
from m365audit.store.db import open_db, storage_cause
from m365audit.store.scope import current_scope
from m365audit.store.spooled import sql_path

SNAPSHOT_VIEWS = {"skus": "skus_at", "users": "users_at", "licence_assignments": "licence_assignments_at"}
INTERACTION_VIEW = "copilot_interactions"
DATED_VIEWS = (INTERACTION_VIEW, "copilot_use", "ai_app_use")  # views with the record's created_at
PER_INTERACTION_VIEWS = ("copilot_accessed_resources", "copilot_messages", "copilot_contexts", "copilot_plugins",
                         "copilot_models", "copilot_record_admin_units")
MANIFEST = "_m365audit_export.json"


@dataclass(frozen=True)
class Dataset:
    name: str
    partition_by: str | None
    rows: int


def export_parquet(db: Path, target: Path, *, replace: bool = False, latest_only: bool = False,
                   memory_limit: str = "512MB") -> list[Dataset]:
    """Write every public view of ``db`` under ``target``; return what was written."""
    target = Path(os.path.abspath(target))
    # The export replaces the whole folder: nothing protected may be in it (outputs.py).
    check_folder(target, option="DIR", replace=True, protected=protected_paths(db), removes_folder=True)
    if target.exists() and not replace and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} already exists; pass --replace to replace the export there.")
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.export-", dir=target.parent))
    except OSError as exc:
        raise OutputError(f"Cannot export to {target}: {cause(exc)}.") from None
    try:
        with open_db(db, read_only=True, memory_limit=memory_limit) as con:
            datasets = [_export_view(con, view, work, latest_only) for view in _public_views(con)]
            _write_manifest(con, work, datasets)
        _swap_into_place(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return datasets


def _public_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary "
                       "AND schema_name = 'main' AND database_name = current_database() ORDER BY view_name")
    return [r[0] for r in rows.fetchall()]


def _snapshot_times(con: duckdb.DuckDBPyConnection, latest_only: bool) -> list[datetime]:
    """The last snapshot of each day (or only the latest one)."""
    rows = con.execute("SELECT max(taken_at) FROM snapshots GROUP BY CAST(timezone('UTC', taken_at) AS DATE) "
                       "ORDER BY 1").fetchall()
    times = [r[0] for r in rows]
    return times[-1:] if latest_only else times


def _export_view(con: duckdb.DuckDBPyConnection, view: str, work: Path, latest_only: bool) -> Dataset:
    query, partition = _view_query(con, view, latest_only)
    folder = work / view
    options = "FORMAT parquet, COMPRESSION zstd"
    if partition:
        options += f", PARTITION_BY ({partition}), FILENAME_PATTERN 'part-{{i}}'"
        target = folder
    else:
        folder.mkdir()
        target = folder / "part-0.parquet"
    try:
        con.execute(f"COPY ({query}) TO '{sql_path(target)}' ({options})")
        if not any(folder.rglob("*.parquet")):
            # Nothing to partition: one empty file still tells readers the columns.
            folder.mkdir(exist_ok=True)
            empty = sql_path(folder / "part-0.parquet")
            con.execute(f"COPY (SELECT * FROM ({query}) LIMIT 0) TO '{empty}' (FORMAT parquet)")
    except duckdb.Error as exc:
        words = storage_cause(exc)
        if words is not None:
            raise OutputError(f"Cannot export to {work.parent}: {words}; nothing was written.") from None
        raise DatabaseError(f"Cannot export the view {view}: {str(exc).strip().splitlines()[0]}") from None
    row = con.execute(f"SELECT count(*) FROM read_parquet('{sql_path(folder)}/**/*.parquet')").fetchone()
    return Dataset(view, partition, int(row[0]) if row else 0)


def _view_query(con: duckdb.DuckDBPyConnection, view: str, latest_only: bool) -> tuple[str, str | None]:
    if view in SNAPSHOT_VIEWS:
        macro = SNAPSHOT_VIEWS[view]
        parts = [f"SELECT *, DATE '{ts.astimezone(UTC):%Y-%m-%d}' AS snapshot_date FROM {macro}("
                 f"TIMESTAMPTZ '{ts.astimezone(UTC).isoformat()}')" for ts in _snapshot_times(con, latest_only)]
        if not parts:  # no snapshot yet: an empty dataset with the right columns
            parts = [f"SELECT *, NULL::DATE AS snapshot_date FROM {_ident(view)} LIMIT 0"]
        return " UNION ALL ".join(parts), "snapshot_date"
    if view in DATED_VIEWS:
        query = f"SELECT *, CAST(timezone('UTC', created_at) AS DATE) AS created_date FROM {_ident(view)}"
        return query, "created_date"
    if view in PER_INTERACTION_VIEWS:
        return (f"SELECT v.*, CAST(timezone('UTC', i.created_at) AS DATE) AS created_date FROM {_ident(view)} v "
                f"LEFT JOIN (SELECT DISTINCT record_id, created_at FROM {INTERACTION_VIEW}) i USING (record_id)",
                "created_date")
    return f"SELECT * FROM {_ident(view)}", None


def _write_manifest(con: duckdb.DuckDBPyConnection, work: Path, datasets: list[Dataset]) -> None:
    scope = current_scope(con)
    manifest = {
        "exported_at": datetime.now(UTC).isoformat(), "tool_version": __version__,
        "scope": scope.scope if scope else None,
        "datasets": [asdict(d) for d in datasets],
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _swap_into_place(work: Path, target: Path) -> None:
    """Rename the finished export into place; an old export is moved aside first, then removed."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{datetime.now(UTC):%Y%m%dT%H%M%S%f}")
        target.rename(old)
    work.rename(target)
    if old is not None:
        shutil.rmtree(old) if old.is_dir() else old.unlink()


def _ident(name: str) -> str:
    """A quoted identifier: view names come from the database, where an analyst may have added any."""
    return '"' + name.replace('"', '""') + '"'
