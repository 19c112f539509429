"""``export parquet``: the public views as date-partitioned Parquet datasets.

Each public view becomes a folder of Hive-partitioned Parquet files named
after it, so Spark, Trino or Microsoft Fabric can register one table per
folder and run the same SQL as against the DuckDB file:

the layout (which views are partitioned by ``snapshot_date`` or ``created_date``) is
shared with the Delta export, see ``m365audit.export.views``.

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
from m365audit.export.views import layout_of, layout_query, public_views, snapshot_times
from m365audit.outputs import OutputError, cause, check_folder, protected_paths
from m365audit.store.db import open_db, storage_cause
from m365audit.store.scope import current_scope
from m365audit.store.spooled import sql_path

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
            datasets = [_export_view(con, view, work, latest_only) for view in public_views(con)]
            _write_manifest(con, work, datasets)
        _swap_into_place(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return datasets


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
    layout = layout_of(con, view)
    times = snapshot_times(con) if layout.kind == "snapshot" else []
    return layout_query(layout, snapshots=times[-1:] if latest_only else times), layout.partition_by


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

