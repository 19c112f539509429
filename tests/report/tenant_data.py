"""A report-ready database: a simulated tenant collected at three snapshots, plus planted activity.

Licences come through the real collector over a socket. Activity (audit facts,
usage report rows, the label catalogue) is planted straight into the tables,
as the audit collector would leave them, from a seeded random generator, so the
data is the same on every run and the tests compute their expectations from it
in SQL of their own.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import duckdb
import polars as pl

from m365audit.simulator import SimulatorServer, Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, collect_from

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_DEPARTMENT = '=HYPERLINK("http://evil.example/x","Click")'
HOSTILE_FILE = "=cmd|' /C calc'!A0.docx"
NUMERIC_LOOKING_NAME = "-2+3"
HOSTS = ("Word", "Excel", "PowerPoint", "Outlook", "Teams", "BizChat", "Bing", "bizchat", "Loop", "OneNote",
         "NewAppHost")
WEIGHTS = (20, 10, 6, 14, 16, 20, 3, 2, 3, 2, 1)
REFRESH = (ANCHOR - timedelta(days=2)).date()  # Microsoft's report lags the snapshot
SEED = 5


def plant_hostile_users(tenant: Tenant) -> list[int]:
    """Give two seat holders hostile names; return their indexes."""
    holders = [u.index for u in tenant.iter_users() if u.holds_copilot_seat() and u.account_enabled]
    tenant.override_user(holders[0], display_name=HOSTILE_NAME, department=HOSTILE_DEPARTMENT)
    tenant.override_user(holders[1], display_name=NUMERIC_LOOKING_NAME)
    return holders[:2]


def build_database(db: Path, users: int = 400, hostile: bool = True, seed: int = SEED) -> Path:
    tenant = Tenant(TenantConfig(users=users, anchor=ANCHOR, seed=seed))
    if hostile:
        plant_hostile_users(tenant)
    with SimulatorServer(tenant) as server:
        for days_before in (14, 7, 0):
            collect_from(server, db, now=ANCHOR - timedelta(days=days_before))
    with open_db(db) as con:
        plant_activity(con)
    return db


def _interaction_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    rng = random.Random(SEED)
    holders = con.execute(
        "SELECT DISTINCT a.user_id, u.user_principal_name, u.display_name FROM licence_assignments a "
        "JOIN users u USING (user_id) WHERE a.holds_copilot_seat ORDER BY 1").fetchall()
    others = con.execute(
        "SELECT user_id, user_principal_name FROM users WHERE user_id NOT IN "
        "(SELECT user_id FROM licence_assignments WHERE holds_copilot_seat) ORDER BY 1 LIMIT 25").fetchall()
    rows: list[dict[str, object]] = []
    for user_id, upn, name in holders:
        pattern = rng.random()
        if name in (HOSTILE_NAME, NUMERIC_LOOKING_NAME) or pattern < 0.15:
            continue  # never uses Copilot
        first, last = (40, 60) if pattern < 0.30 else (0, 60)  # some stopped a while ago
        for _ in range(rng.randint(1, 12)):
            rows.append(_record(rng, user_id, upn, rng.uniform(first, last), rng.choices(HOSTS, WEIGHTS)[0]))
    for user_id, upn in others:  # unlicensed people using the free Copilot Chat
        for _ in range(rng.randint(1, 3)):
            rows.append(_record(rng, None if rng.random() < 0.5 else user_id, upn, rng.uniform(0, 30), "BizChat"))
    return rows


def _record(rng: random.Random, user_id: str | None, upn: str, days_ago: float, host: str) -> dict[str, object]:
    return {"record_id": f"rec-{rng.getrandbits(64):016x}", "created_at": ANCHOR - timedelta(days=days_ago),
            "user_principal_name": upn.lower(), "user_id": user_id, "record_type": "CopilotInteraction",
            "operation": "CopilotInteraction", "app_host": host}


def _resource_rows(rng: random.Random, records: list[dict[str, object]]) -> list[dict[str, object]]:
    labels = [label.label_id for label in cat.LABELS] + [None] * 4 + ["a-label-not-in-the-catalogue"]
    out: list[dict[str, object]] = []
    for rec in records:
        for n in range(rng.choice((0, 0, 1, 2))):
            site = rng.choice(cat.SITES)
            web = rng.random() < 0.1
            number = rng.randint(1, 300)
            name = HOSTILE_FILE if n == 0 and rng.random() < 0.02 else f"Document {number}.docx"
            out.append({
                "record_id": rec["record_id"], "resource_id": None if web else f"res-{number}",
                "resource_name": name, "resource_type": "WebSearch" if web else "docx",
                "site_url": f"https://www.example.org/{n}" if web else f"https://examplegovuk.sharepoint.com/sites/{site}",
                "sensitivity_label_id": None if web else rng.choice(labels),
            })
    return out


def plant_activity(con: duckdb.DuckDBPyConnection) -> None:
    records = _interaction_rows(con)
    interactions = pl.DataFrame(records)  # noqa: F841 - read by DuckDB below
    resources = pl.DataFrame(_resource_rows(random.Random(SEED + 1), records))  # noqa: F841
    con.execute("INSERT INTO copilot_interaction_facts (record_id, created_at, user_principal_name, user_id, "
                "record_type, operation, app_host, app, actor_type) "
                "SELECT *, copilot_app(app_host, NULL, NULL), 'person' FROM interactions")  # as the loader derives
    con.execute("INSERT INTO copilot_accessed_resource_facts (record_id, resource_id, resource_name, "
                "resource_type, site_url, sensitivity_label_id) SELECT * FROM resources")
    con.execute("INSERT INTO audit_records (record_id, created_at, record_type, operation, user_principal_name, "
                "source, run_id, ingested_at) SELECT record_id, created_at, record_type, operation, "
                "user_principal_name, 'graph', 'planted', ? FROM interactions", [ANCHOR])
    for label in cat.LABELS:
        con.execute("INSERT INTO sensitivity_label_versions (label_id, name, display_name, sensitivity, parent_id, "
                    "is_active, has_protection, row_hash, valid_from, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, "
                    "'planted')", [label.label_id, label.name, label.name, label.sensitivity, label.parent_id,
                                   label.is_active, label.has_protection, ANCHOR])
    plant_usage_report(con)


def plant_usage_report(con: duckdb.DuckDBPyConnection) -> None:
    """Microsoft's report as it would read on REFRESH: licensed users, per-app last dates up to that day."""
    con.execute("""
        INSERT INTO usage_report_rows (run_id, source, report_refresh_date, report_period, user_principal_name,
            display_name, names_concealed, last_activity_date, copilot_chat_last_activity_date,
            teams_copilot_last_activity_date, word_copilot_last_activity_date, excel_copilot_last_activity_date,
            powerpoint_copilot_last_activity_date, outlook_copilot_last_activity_date,
            onenote_copilot_last_activity_date, loop_copilot_last_activity_date, collected_at)
        WITH seat AS (SELECT DISTINCT a.user_id, u.user_principal_name, u.display_name
                      FROM licence_assignments a JOIN users u USING (user_id) WHERE a.holds_copilot_seat),
        act AS (SELECT user_id, lower(app_host) AS host, max(created_at)::DATE AS last_on
                FROM copilot_interaction_facts WHERE created_at::DATE <= $refresh GROUP BY ALL)
        SELECT 'usage-planted', 'graph-v1.0', $refresh, 30, s.user_principal_name, s.display_name, false,
               max(a.last_on), max(a.last_on) FILTER (WHERE a.host IN ('bizchat', 'bing')),
               max(a.last_on) FILTER (WHERE a.host = 'teams'), max(a.last_on) FILTER (WHERE a.host = 'word'),
               max(a.last_on) FILTER (WHERE a.host = 'excel'), max(a.last_on) FILTER (WHERE a.host = 'powerpoint'),
               max(a.last_on) FILTER (WHERE a.host = 'outlook'), max(a.last_on) FILTER (WHERE a.host = 'onenote'),
               max(a.last_on) FILTER (WHERE a.host = 'loop'), $collected
        FROM seat s LEFT JOIN act a USING (user_id)
        GROUP BY ALL
    """, {"refresh": REFRESH, "collected": datetime.combine(REFRESH, time(6), UTC)})


__all__ = ["ANCHOR", "HOSTILE_DEPARTMENT", "HOSTILE_FILE", "HOSTILE_NAME", "NUMERIC_LOOKING_NAME", "REFRESH",
           "build_database"]
