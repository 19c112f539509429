"""Comparing two m365audit databases row for row, ignoring what differs by run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

# Differ between two runs that collected the same data: run ids and wall-clock times.
RUN_COLUMNS = {"run_id", "collected_at", "ingested_at", "fetched_at", "updated_at", "started_at",
               "finished_at"}
HISTORY_TABLES = ("sku_versions", "sku_plan_versions", "user_versions", "licence_assignment_versions",
                  "assigned_plan_versions", "group_versions", "group_member_versions")
# A run retried (or killed after committing its snapshot) at the same fixed time adds a second
# snapshot row for that time: compare the distinct snapshots.
SNAPSHOTS = "(SELECT DISTINCT taken_at, scope, users, assignments, skus FROM snapshots)"


def _rows(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[Any, ...]]:
    columns = [r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall()]
    kept = [c for c in columns if c not in RUN_COLUMNS]
    select = ", ".join(f'"{c}"' for c in kept)
    rows = con.execute(f"SELECT {select} FROM {relation}").fetchall()
    return sorted(rows, key=repr)


def public_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' ORDER BY 1").fetchall()]


def snapshot_of(db: Path, tables: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every public view (and ``tables``), rows sorted, run columns left out."""
    with duckdb.connect(str(db), read_only=True) as con:
        return {name: _rows(con, name) for name in [*public_views(con), *tables]}


def assert_same_database(a: Path, b: Path, tables: tuple[str, ...] = (*HISTORY_TABLES, SNAPSHOTS)) -> None:
    left, right = snapshot_of(a, tables), snapshot_of(b, tables)
    assert sorted(left) == sorted(right)
    for name in left:
        assert left[name] == right[name], f"{name} differs: {len(left[name])} vs {len(right[name])} rows"
