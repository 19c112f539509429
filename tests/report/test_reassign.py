"""Who should get the next seat, and what decided each seat to reclaim, on the report database (usage report v1)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.report.conftest import read_csv


def test_reassign_lists_chat_users_without_a_seat_by_use(report_dir: Path, con: duckdb.DuckDBPyConnection) -> None:
    rows = read_csv(report_dir / "csv" / "reassign.csv")
    as_of = con.execute("SELECT max(taken_at) FROM snapshots").fetchone()[0]  # type: ignore[index]
    expected = {r[0]: (r[1], r[2]) for r in con.execute("""
        SELECT u.user_principal_name, count(DISTINCT c.created_at::DATE), count(*)
        FROM copilot_use c JOIN users_at(?) u
          ON u.user_id = c.user_id OR (c.user_id IS NULL AND lower(u.user_principal_name) = c.user_principal_name)
        WHERE c.created_at > ?::TIMESTAMPTZ - INTERVAL 30 DAY AND c.created_at <= ?
          AND u.account_enabled AND u.user_type = 'Member'
          AND u.user_id NOT IN (SELECT user_id FROM copilot_seat_holders)
        GROUP BY 1""", [as_of, as_of, as_of]).fetchall()}
    assert {r["user_principal_name"]: (int(r["days_active"]), int(r["prompts"])) for r in rows} == expected
    assert {(r["signal"], r["training"], r["action"]) for r in rows} == {
        ("audit log", "no training requirement", "reassign a seat")}  # the test policy names no training group
    ranks = [(int(r["rank"]), -int(r["days_active"]), -int(r["prompts"])) for r in rows]
    assert ranks == sorted(ranks) and ranks[0][0] == 1


def test_each_seat_to_reclaim_names_the_signal_that_decided_it(report_dir: Path) -> None:
    rows = read_csv(report_dir / "csv" / "reclaim.csv")
    assert rows
    for r in rows:
        if r["account_enabled"] == "false":
            assert r["decided_by"] == "account disabled"
        elif r["last_activity"]:
            assert r["decided_by"] in (f"audit log: last use {r['last_activity']}",
                                       f"usage report: last activity {r['last_activity']}"), r
        else:
            assert r["decided_by"] == "no use in the audit log or the usage report"
        assert r["active_usage_days"] == r["prompts"] == ""  # a v1 report has neither
