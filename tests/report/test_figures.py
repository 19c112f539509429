"""The report's figures equal the same figures computed directly in SQL over the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from m365audit.report.safety import spreadsheet_safe
from tests.report.conftest import PRICE, read_csv, scalar
from tests.report.tenant_data import REFRESH

SEAT_PLANS = "('a62f8878-de10-42f3-b68f-6149a25ceb97', 'b95945de-b3bd-46db-8437-f2beb6ea2347', " \
             "'3f30311c-6b1e-48a4-ab79-725b469da960')"
TS = "(SELECT max(taken_at) FROM snapshots)"
HOLDERS = "(SELECT DISTINCT user_id FROM licence_assignments WHERE holds_copilot_seat)"
APP = """CASE lower(app_host) WHEN 'word' THEN 'Word' WHEN 'excel' THEN 'Excel' WHEN 'powerpoint' THEN 'PowerPoint'
         WHEN 'outlook' THEN 'Outlook' WHEN 'teams' THEN 'Teams' WHEN 'bizchat' THEN 'Copilot Chat'
         WHEN 'bing' THEN 'Copilot Chat' ELSE 'Other' END"""
# Seat holders whose last activity by either source is 30 or more days old and who held the seat that long.
IDLE = f"""
WITH since AS (SELECT user_id, min(assigned_at) AS s FROM assigned_plan_versions
               WHERE valid_to IS NULL AND service_plan_id IN {SEAT_PLANS} GROUP BY 1),
audit_last AS (SELECT user_id, max(created_at)::DATE AS d FROM copilot_interactions GROUP BY 1),
usage_last AS (SELECT u.user_id, c.last_activity_date AS d FROM copilot_usage c
               JOIN users u ON lower(u.user_principal_name) = lower(c.user_principal_name))
SELECT h.user_id FROM {HOLDERS} h
LEFT JOIN since USING (user_id) LEFT JOIN audit_last a USING (user_id) LEFT JOIN usage_last u USING (user_id)
WHERE coalesce(greatest(a.d, u.d), DATE '1900-01-01') <= {TS}::DATE - 30
  AND (since.s IS NULL OR since.s <= {TS} - INTERVAL 30 DAY)
"""


def active(days: int) -> str:
    return f"""SELECT count(*) FROM {HOLDERS} h WHERE EXISTS (
        SELECT 1 FROM copilot_interactions i WHERE i.user_id = h.user_id
        AND i.created_at > {TS} - INTERVAL {days} DAY AND i.created_at <= {TS})"""


@pytest.fixture
def headline(report_dir: Path) -> dict[str, float | None]:
    rows = read_csv(report_dir / "csv" / "headline.csv")
    return {r["measure"]: float(r["value"]) if r["value"] else None for r in rows}


def test_headline_figures_equal_sql(headline, con) -> None:
    purchased = scalar(con, "SELECT sum(purchased) FROM skus WHERE is_copilot")
    assigned = scalar(con, "SELECT sum(assigned) FROM skus WHERE is_copilot")
    holders = scalar(con, f"SELECT count(*) FROM {HOLDERS}")
    idle_holders = scalar(con, f"SELECT count(*) FROM ({IDLE})")
    assert headline["seats_purchased"] == purchased
    assert headline["seats_assigned"] == assigned
    assert headline["seats_unassigned"] == purchased - assigned
    assert headline["seat_holders"] == holders
    for days in (7, 30, 90):
        assert headline[f"active_{days}_days"] == scalar(con, active(days))
    assert headline["utilisation_30_days"] == pytest.approx(scalar(con, active(30)) / holders)
    assert 0 < idle_holders < holders
    idle = purchased - holders + idle_holders
    assert headline["idle_seats"] == idle
    assert headline["idle_monthly_cost"] == pytest.approx(idle * PRICE)  # the price in force on the snapshot date
    assert headline["idle_annual_cost"] == pytest.approx(idle * PRICE * 12)
    # Copilot Chat is not a seat: everyone with an enabled member account may use it, licensed or not.
    members = scalar(con, "SELECT count(*) FROM users WHERE account_enabled AND user_type = 'Member'")
    assert headline["copilot_chat_may_use"] == members > holders


def test_departments_equal_sql(report_dir, con) -> None:
    rows = {r["department"]: r for r in read_csv(report_dir / "csv" / "departments.csv")}
    expected = con.execute(f"""
        SELECT coalesce(u.department, '(no department)'), count(*),
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM copilot_interactions i WHERE i.user_id = h.user_id
                   AND i.created_at > {TS} - INTERVAL 30 DAY AND i.created_at <= {TS})),
               count(*) FILTER (WHERE h.user_id IN (SELECT user_id FROM ({IDLE})))
        FROM {HOLDERS} h JOIN users u USING (user_id) GROUP BY 1""").fetchall()
    assert set(rows) == {spreadsheet_safe(e[0]) for e in expected}  # the planted formula is quoted in CSV
    for department, licensed, active_users, idle in expected:
        row = rows[spreadsheet_safe(department)]
        assert (int(row["licensed_users"]), int(row["active_users"]), int(row["idle_seats"])) == \
            (licensed, active_users, idle), department
        assert float(row["utilisation"]) == pytest.approx(active_users / licensed)
        assert float(row["idle_monthly_cost"]) == pytest.approx(idle * PRICE)


def test_reclaim_list_is_the_idle_seat_holders(report_dir, con) -> None:
    rows = read_csv(report_dir / "csv" / "reclaim.csv")
    expected = {r[0] for r in con.execute(
        f"SELECT u.user_principal_name FROM ({IDLE}) i JOIN users u USING (user_id)").fetchall()}
    assert {r["user_principal_name"] for r in rows} == expected
    days = [int(r["days_idle"]) for r in rows if r["days_idle"]]
    assert days == sorted(days, reverse=True)  # longest idle first
    assert all(float(r["monthly_cost"]) == PRICE for r in rows)
    never = [r for r in rows if r["reason"] == "never used Copilot"]
    assert never and all(r["last_activity"] == "" for r in never)


def test_adoption_by_app_equals_sql(report_dir, con) -> None:
    rows = {r["app"]: r for r in read_csv(report_dir / "csv" / "adoption_apps.csv")}
    assert list(rows) == ["Word", "Excel", "PowerPoint", "Outlook", "Teams", "Copilot Chat", "Other"]
    expected = dict(con.execute(f"""
        SELECT {APP}, count(DISTINCT lower(user_principal_name)) FROM copilot_interactions
        WHERE created_at > {TS} - INTERVAL 30 DAY AND created_at <= {TS} GROUP BY 1""").fetchall())
    assert {app: int(r["active_users"]) for app, r in rows.items()} == {a: expected.get(a, 0) for a in rows}
    interactions = scalar(con, f"SELECT count(*) FROM copilot_interactions WHERE created_at > {TS} - INTERVAL 30 DAY")
    assert sum(int(r["interactions"]) for r in rows.values()) == interactions
    assert int(rows["Copilot Chat"]["without_seat"]) > 0  # the planted unlicensed Copilot Chat users


def test_adoption_by_week_equals_sql(report_dir, con) -> None:
    rows = read_csv(report_dir / "csv" / "adoption_weeks.csv")
    expected = con.execute("""
        SELECT date_trunc('week', created_at)::DATE::VARCHAR, count(DISTINCT lower(user_principal_name)),
               count(*) FROM copilot_interactions GROUP BY 1 ORDER BY 1""").fetchall()
    assert [(r["week_start"], int(r["all_apps"]), int(r["interactions"])) for r in rows] == expected


def test_trend_has_one_point_per_snapshot(report_dir, con) -> None:
    rows = read_csv(report_dir / "csv" / "trend.csv")
    snapshots = [r[0] for r in con.execute("SELECT taken_at FROM snapshots ORDER BY 1").fetchall()]
    assert len(rows) == len(snapshots) == 3
    for row, ts in zip(rows, snapshots, strict=True):
        assert row["snapshot_at"] == f"{ts:%Y-%m-%dT%H:%M:%SZ}"
        holders = scalar(con, "SELECT count(DISTINCT user_id) FROM licence_assignments_at(?) WHERE holds_copilot_seat",
                         [ts])
        active_then = scalar(con, """
            SELECT count(DISTINCT a.user_id) FROM licence_assignments_at($1) a WHERE a.holds_copilot_seat
            AND a.user_id IN (SELECT user_id FROM copilot_interactions
                              WHERE created_at > $1 - INTERVAL 30 DAY AND created_at <= $1)""", [ts])
        assert (int(row["seat_holders"]), int(row["active_seat_holders"])) == (holders, active_then)
        assert int(row["purchased"]) == scalar(con, "SELECT sum(purchased) FROM skus_at(?) WHERE is_copilot", [ts])


def test_unlabelled_share_equals_sql(report_dir, con) -> None:
    rows = {r["kind"]: r for r in read_csv(report_dir / "csv" / "labels_unlabelled.csv")}
    # Unlabelled: no label on any read (the view copilot_read_items defines it once).
    files, unlabelled = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE never_labelled) FROM (
            SELECT resource_id, bool_and(sensitivity_label_id IS NULL) AS never_labelled
            FROM copilot_accessed_resources WHERE resource_type = 'docx' GROUP BY resource_id)""").fetchone()
    assert (int(rows["Files"]["resources"]), int(rows["Files"]["unlabelled"])) == (files, unlabelled)
    assert float(rows["Files"]["unlabelled_share"]) == pytest.approx(unlabelled / files)
    assert int(rows["Web results"]["resources"]) > 0


def test_accesses_by_label_equal_sql(report_dir, con) -> None:
    rows = {r["label"]: int(r["accesses"]) for r in read_csv(report_dir / "csv" / "labels_by_label.csv")}
    expected = dict(con.execute("""
        SELECT CASE WHEN r.sensitivity_label_id IS NULL THEN 'Unlabelled'
                    ELSE coalesce(l.name, 'Unknown label ' || r.sensitivity_label_id) END, count(*)
        FROM copilot_accessed_resources r LEFT JOIN sensitivity_labels l ON l.label_id = r.sensitivity_label_id
        GROUP BY 1""").fetchall())
    assert rows == expected
    assert "Unknown label a-label-not-in-the-catalogue" in rows


def test_reconciliation_equals_sql(report_dir, con) -> None:
    rows = {r["measure"]: int(r["users"]) for r in read_csv(report_dir / "csv" / "reconciliation.csv")}
    window = [REFRESH.toordinal() - 29, REFRESH.toordinal()]
    report_active = scalar(con, "SELECT count(*) FROM copilot_usage WHERE last_activity_date BETWEEN ? AND ?",
                           [REFRESH.fromordinal(window[0]), REFRESH])
    audit = con.execute(f"""
        SELECT count(DISTINCT lower(user_principal_name)),
               count(DISTINCT lower(user_principal_name)) FILTER (WHERE user_id IN {HOLDERS})
        FROM copilot_interactions WHERE created_at::DATE BETWEEN ? AND ?""",
                        [REFRESH.fromordinal(window[0]), REFRESH]).fetchone()
    assert rows["usage_report_active"] == report_active
    assert rows["audit_active"] == audit[0]
    assert rows["audit_active_with_seat"] == audit[1]
    assert rows["audit_active_without_seat"] == audit[0] - audit[1] > 0
    # The planted usage report is derived from the same audit records, so seat holders match one to one.
    assert rows["in_both"] == report_active == audit[1]
    assert rows["audit_only_with_seat"] == rows["usage_report_only"] == 0


def test_first_use_equals_sql(report_dir, con) -> None:
    rows = {r["department"]: r for r in read_csv(report_dir / "csv" / "first_use.csv")}
    median = scalar(con, f"""
        WITH since AS (SELECT user_id, min(assigned_at) AS s FROM assigned_plan_versions
                       WHERE valid_to IS NULL AND service_plan_id IN {SEAT_PLANS} GROUP BY 1)
        SELECT median(round(epoch(
            (SELECT min(created_at) FROM copilot_interactions i WHERE i.user_id = h.user_id AND i.created_at >= s)
            - s) / 86400.0, 1))
        FROM {HOLDERS} h JOIN since USING (user_id)
        WHERE s >= (SELECT min(created_at) FROM copilot_interactions)""")
    overall = rows["All departments"]
    assert int(overall["seat_holders"]) == scalar(con, f"SELECT count(*) FROM {HOLDERS}")
    assert float(overall["median_days"]) == pytest.approx(median)
