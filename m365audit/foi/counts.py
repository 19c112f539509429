"""The exact counts behind an FOI answer, before any disclosure control.

Everything is counted in SQL over the licence history at one snapshot; only
aggregates come back to Python. Nothing here returns a name, a user
principal name, a user id or a job title.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

from m365audit.foi.periods import end_of_day

ACTIVE_DAYS = 28  # four whole weeks, so every weekday counts the same number of times
NO_DEPARTMENT = "(no department recorded)"
WITHHELD_DEPARTMENT = "(department name withheld)"


@dataclass(frozen=True)
class SnapshotInfo:
    taken_at: datetime  # the snapshot the licence counts come from
    count: int
    first: datetime
    last: datetime
    longest_gap_days: int
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class ActivityWindow:
    start: date  # inclusive
    end: date  # inclusive (the as-of date)
    held: bool  # audit records reach into the window
    first_record: datetime | None
    last_record: datetime | None
    last_collection: datetime | None


@dataclass(frozen=True)
class LicenceRow:
    sku_id: str
    sku_part_number: str
    purchased: int
    assigned: int
    is_copilot_seat: bool


@dataclass(frozen=True)
class DepartmentRow:
    department: str
    licensed: int
    active: int | None


@dataclass(frozen=True)
class RawCounts:
    copilot_licensed: int
    copilot_active: int | None
    chat_entitled: int
    chat_active: int | None  # users without a Copilot licence who used Copilot (Chat)
    licences: list[LicenceRow]
    departments: list[DepartmentRow]
    users: int  # accounts in the snapshot: an upper bound for every count


def snapshot_info(con: duckdb.DuckDBPyConnection, taken_at: datetime) -> SnapshotInfo:
    row = con.execute("""
        SELECT count(*), min(taken_at), max(taken_at),
               coalesce(max(date_diff('day', previous, taken_at)), 0)
        FROM (SELECT taken_at, lag(taken_at) OVER (ORDER BY taken_at) AS previous FROM snapshots)""").fetchone()
    assert row is not None
    scopes = tuple(r[0] for r in con.execute(
        "SELECT DISTINCT scope FROM snapshots WHERE scope IS NOT NULL ORDER BY 1").fetchall())
    return SnapshotInfo(taken_at, int(row[0]), row[1], row[2], int(row[3]), scopes)


def ai_sku_ids(con: duckdb.DuckDBPyConnection, extra: list[str]) -> list[str]:
    """SKUs an FOI answer lists and prices: any SKU that has ever carried a Copilot seat
    or Copilot feature plan, the known Copilot SKUs, and the policy's ``[foi] ai_skus``."""
    rows = con.execute("""
        SELECT DISTINCT p.sku_id FROM sku_plan_versions p
        JOIN reference_service_plans r
          ON r.service_plan_id = p.service_plan_id AND r.role IN ('copilot_seat', 'copilot_feature')
        UNION SELECT sku_id FROM reference_copilot_skus
        UNION SELECT sku_id FROM sku_versions
        WHERE list_contains($extra, lower(sku_id)) OR list_contains($extra, lower(sku_part_number))""",
                       {"extra": [e.casefold() for e in extra]}).fetchall()
    return sorted(r[0] for r in rows)


def activity_window(con: duckdb.DuckDBPyConnection, as_of: date) -> ActivityWindow:
    start = as_of - timedelta(days=ACTIVE_DAYS - 1)
    first, last = con.execute(
        "SELECT min(created_at), max(created_at) FROM copilot_use").fetchone() or (None, None)
    collected = con.execute("""
        SELECT max(coalesce(finished_at, started_at)) FROM runs
        WHERE status = 'succeeded' AND json_exists(counts, '$.audit')""").fetchone()
    landed = con.execute("SELECT max(created_at) FROM audit_records").fetchone()
    earliest = con.execute("SELECT min(created_at) FROM audit_records").fetchone()
    starts = [t for t in (first, earliest[0] if earliest else None) if t]
    reach = [t for t in (last, collected[0] if collected else None, landed[0] if landed else None) if t]
    # Held when the audit data overlaps the window; a collection that found nothing still counts.
    held = (bool(reach) and max(reach) >= end_of_day(start - timedelta(days=1))
            and (not starts or min(starts) < end_of_day(as_of)))
    return ActivityWindow(start, as_of, held, first, last, collected[0] if collected else None)


_FLAGS = """
WITH named AS (
    SELECT lower(display_name) AS text FROM user_versions WHERE display_name IS NOT NULL
    UNION SELECT lower(user_principal_name) FROM user_versions WHERE user_principal_name IS NOT NULL
    UNION SELECT lower(mail) FROM user_versions WHERE mail IS NOT NULL
    UNION SELECT lower(user_id) FROM user_versions
),
u AS (
    SELECT user_id, lower(user_principal_name) AS upn,
           CASE WHEN department IS NULL THEN $no_dept
                WHEN lower(department) IN (SELECT text FROM named) THEN $withheld
                ELSE department END AS department
    FROM users_at($ts)
),
seat AS (SELECT DISTINCT user_id FROM licence_assignments_at($ts) WHERE holds_copilot_seat),
chat AS (SELECT user_id FROM copilot_chat_entitlement_at($ts)),  -- no licence: queries/views/036_copilot_chat.sql
window_hits AS (  -- "used Copilot" is the view copilot_use (queries/views/025_copilot_use.sql)
    SELECT user_id, lower(user_principal_name) AS upn FROM copilot_use
    WHERE created_at >= $from AND created_at < $to
),
active AS (
    SELECT user_id FROM window_hits WHERE user_id IS NOT NULL
    UNION SELECT u.user_id FROM window_hits h JOIN u ON h.user_id IS NULL AND h.upn = u.upn
),
flags AS (
    SELECT u.department, seat.user_id IS NOT NULL AS seat, chat.user_id IS NOT NULL AS chat,
           active.user_id IS NOT NULL AS active
    FROM u LEFT JOIN seat USING (user_id) LEFT JOIN chat USING (user_id) LEFT JOIN active USING (user_id)
)
SELECT grouping(department) = 1 AS is_total, department,
       count(*) FILTER (WHERE seat) AS licensed,
       count(*) FILTER (WHERE seat AND active) AS seat_active,
       count(*) FILTER (WHERE chat) AS chat_entitled,
       -- Active people are split in two that add up (the disclosure audit relies on it): seat holders are
       -- counted under Microsoft 365 Copilot, everyone else under Copilot Chat, the only Copilot they may use.
       count(*) FILTER (WHERE NOT seat AND active) AS chat_active,
       count(*) FILTER (WHERE active) AS active,
       count(*) AS users
FROM flags
GROUP BY GROUPING SETS ((department), ())
"""


def raw_counts(con: duckdb.DuckDBPyConnection, ts: datetime, window: ActivityWindow,
               ai_skus: list[str]) -> RawCounts:
    rows = con.execute(_FLAGS, {
        "ts": ts, "from": end_of_day(window.start - timedelta(days=1)), "to": end_of_day(window.end),
        "no_dept": NO_DEPARTMENT, "withheld": WITHHELD_DEPARTMENT,
    }).fetchall()
    total = next((r for r in rows if r[0]), None)
    held = window.held
    departments = sorted(
        (DepartmentRow(r[1], int(r[2]), int(r[6]) if held else None)
         for r in rows if not r[0] and (r[2] or (held and r[6]))),
        key=lambda d: (d.department in (NO_DEPARTMENT, WITHHELD_DEPARTMENT), d.department.casefold()))
    return RawCounts(
        copilot_licensed=int(total[2]) if total else 0,
        copilot_active=(int(total[3]) if total else 0) if held else None,
        chat_entitled=int(total[4]) if total else 0,
        chat_active=(int(total[5]) if total else 0) if held else None,
        licences=licence_rows(con, ts, ai_skus),
        departments=departments,
        users=int(total[7]) if total else 0,
    )


def licence_rows(con: duckdb.DuckDBPyConnection, ts: datetime, ai_skus: list[str]) -> list[LicenceRow]:
    rows = con.execute("""
        SELECT sku_id, coalesce(sku_part_number, sku_id), coalesce(purchased, 0), coalesce(assigned, 0), is_copilot
        FROM skus_at($ts) WHERE list_contains($skus, sku_id)
        ORDER BY 2""", {"ts": ts, "skus": ai_skus}).fetchall()
    return [LicenceRow(r[0], r[1], int(r[2]), int(r[3]), bool(r[4])) for r in rows]
