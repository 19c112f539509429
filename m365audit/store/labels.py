"""Loading the sensitivity label catalogue (spooled Graph pages) into its history table, in SQL.

The two API shapes differ (see ``m365audit.simulator.labels``), so each
field is read from whichever the page carries: ``sensitivity`` (beta) or
else ``priority`` (v1.0: the label order, higher = more sensitive);
``isActive`` (beta) or else ``isEnabled`` (v1.0); the parent from the
``parent`` object (beta) or from nesting under another label's
``sublabels`` (v1.0). Label ids are lower-cased: GUIDs compare without case,
and audit records' ``SensitivityLabelId`` join on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from m365audit.store.history import merge_snapshot
from m365audit.store.spooled import read_pages

_RAW_COLUMNS = "{'page_no': 'INTEGER', 'url': 'VARCHAR', 'fetched_at': 'TIMESTAMPTZ', 'body': 'JSON'}"
COLUMNS = ["label_id", "name", "display_name", "sensitivity", "parent_id", "is_active", "has_protection"]


@dataclass(frozen=True)
class LabelCounts:
    labels: int
    changed: int  # new or changed versions written


def _stage(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    # Labels nest one level deep (Purview allows one level of sublabels).
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE staged_labels AS
        WITH top AS (
            SELECT unnest(body.value) AS label
            FROM {read_pages(path, "{'page_no': 'INTEGER', 'body': 'STRUCT(value JSON[])'}")}
        ),
        flat AS (
            SELECT label, NULL::VARCHAR AS nested_in FROM top
            UNION ALL
            SELECT unnest(coalesce(json_extract(label, '$.sublabels[*]'), [])) AS label,
                   label->>'id' AS nested_in
            FROM top
        )
        SELECT
            lower(label->>'id') AS label_id,
            label->>'name' AS name,
            coalesce(label->>'displayName', label->>'name') AS display_name,
            TRY_CAST(coalesce(label->>'sensitivity', label->>'priority') AS INTEGER) AS sensitivity,
            lower(coalesce(label->'parent'->>'id', nested_in)) AS parent_id,
            TRY_CAST(coalesce(label->>'isActive', label->>'isEnabled') AS BOOLEAN) AS is_active,
            TRY_CAST(label->>'hasProtection' AS BOOLEAN) AS has_protection
        FROM flat
        WHERE label->>'id' IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY lower(label->>'id') ORDER BY parent_id NULLS LAST) = 1""")


def load_labels(con: duckdb.DuckDBPyConnection, path: Path, *, run_id: str, taken_at: datetime) -> LabelCounts:
    """Merge the spooled label pages into ``sensitivity_label_versions``. The caller owns the transaction."""
    _stage(con, path)
    merged = merge_snapshot(con, table="sensitivity_label_versions", incoming="staged_labels", columns=COLUMNS,
                            taken_at=taken_at, run_id=run_id)
    con.execute("DELETE FROM raw_pages WHERE source = 'sensitivityLabels'")
    con.execute(f"""
        INSERT INTO raw_pages
        SELECT ?, 'sensitivityLabels', page_no, url, fetched_at, body
        FROM {read_pages(path, _RAW_COLUMNS)}""", [run_id])
    row = con.execute("SELECT count(*) FROM staged_labels").fetchone()
    con.execute("DROP TABLE staged_labels")
    return LabelCounts(labels=int(row[0]) if row else 0, changed=merged.inserted)
