"""The licence summary behind `m365audit licences`: per SKU, and Copilot seats by department."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from m365audit.errors import UsageError


def snapshot_time(con: duckdb.DuckDBPyConnection, as_of: datetime | None = None) -> datetime:
    """The latest snapshot at or before ``as_of`` (default: the latest)."""
    if as_of is None:
        row = con.execute("SELECT max(taken_at) FROM snapshots").fetchone()
    else:
        row = con.execute("SELECT max(taken_at) FROM snapshots WHERE taken_at <= ?", [as_of]).fetchone()
    if not row or row[0] is None:
        when = f" on or before {as_of:%Y-%m-%d %H:%M}" if as_of else ""
        raise UsageError(f"The database holds no licence snapshot{when}; run `m365audit collect` first.")
    return row[0]  # type: ignore[no-any-return]


def licence_summary(con: duckdb.DuckDBPyConnection, as_of: datetime | None = None) -> dict[str, Any]:
    ts = snapshot_time(con, as_of)
    skus = [
        {"sku_id": r[0], "sku_part_number": r[1], "purchased": int(r[2] or 0), "assigned": int(r[3] or 0),
         "available": int(r[2] or 0) - int(r[3] or 0), "is_copilot": bool(r[4])}
        for r in con.execute(
            "SELECT sku_id, sku_part_number, purchased, assigned, is_copilot FROM skus_at(?) "
            "ORDER BY sku_part_number", [ts]).fetchall()
    ]
    by_department = [
        {"department": r[0], "licensed_users": int(r[1])}
        for r in con.execute("""
            SELECT u.department, count(DISTINCT a.user_id) AS licensed_users
            FROM licence_assignments_at(?) a JOIN users_at(?) u USING (user_id)
            WHERE a.holds_copilot_seat
            GROUP BY u.department
            ORDER BY licensed_users DESC, coalesce(u.department, '')""", [ts, ts]).fetchall()
    ]
    row = con.execute(
        "SELECT count(DISTINCT user_id) FROM licence_assignments_at(?) WHERE holds_copilot_seat", [ts]
    ).fetchone()
    copilot_skus = [s for s in skus if s["is_copilot"]]
    return {
        "as_of": ts.isoformat(),
        "skus": skus,
        "copilot": {
            "purchased": sum(s["purchased"] for s in copilot_skus),
            "assigned": sum(s["assigned"] for s in copilot_skus),
            "licensed_users": int(row[0]) if row else 0,
            "by_department": by_department,
        },
    }
