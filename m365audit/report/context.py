"""The inputs of one report: the snapshot it describes, the department, the policy's prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from m365audit.errors import UsageError
from m365audit.policy import Policy
from m365audit.report.licences import snapshot_time
from m365audit.report.queries import one_row, run_script


@dataclass(frozen=True)
class Coverage:
    """What the activity sources hold (from report_coverage)."""

    audit_from: datetime | None
    audit_to: datetime | None
    audit_records: int
    usage_refresh_date: Any
    usage_period: int | None
    usage_rows: int
    usage_concealed: bool

    @property
    def has_audit(self) -> bool:
        return self.audit_records > 0

    @property
    def has_usage(self) -> bool:
        return self.usage_rows > 0


@dataclass(frozen=True)
class ReportContext:
    con: duckdb.DuckDBPyConnection
    as_of: datetime
    policy: Policy
    department: str | None
    coverage: Coverage
    unpriced_skus: tuple[str, ...]  # Copilot SKUs the policy file gives no price for

    @property
    def idle_days(self) -> int:
        return self.policy.inactive_after_days


def prepare(con: duckdb.DuckDBPyConnection, policy: Policy, department: str | None) -> ReportContext:
    """Build the report's working tables (queries/reports/setup.sql) on ``con``."""
    # Dates are cut from UTC times: without this, DuckDB uses the machine's time zone and a
    # report made in London in summer (or in Auckland) would shift days and windows.
    con.execute("SET TimeZone = 'UTC'")
    as_of = snapshot_time(con)
    department = _known_department(con, as_of, department)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE report_params AS "
        "SELECT ?::TIMESTAMPTZ AS as_of, ?::VARCHAR AS department, ?::INTEGER AS idle_days, "
        "?::VARCHAR[] AS restricted_labels, ?::VARCHAR AS training_group",
        [as_of, department, policy.inactive_after_days, [n.casefold() for n in policy.restricted_labels],
         policy.training_group.casefold() if policy.training_group else None])
    unpriced = _load_prices(con, policy, as_of)
    run_script(con, "setup")
    row = one_row(con, "SELECT * FROM report_coverage")
    assert row is not None  # a one-row table by construction
    coverage = Coverage(row[0], row[1], int(row[2]), row[3], row[4], int(row[5]), bool(row[6]))
    return ReportContext(con, as_of, policy, department, coverage, unpriced)


def _known_department(con: duckdb.DuckDBPyConnection, as_of: datetime, department: str | None) -> str | None:
    if department is None:
        return None
    wanted = department.strip()
    rows = con.execute(
        "SELECT DISTINCT coalesce(nullif(trim(department), ''), '(no department)') FROM users_at(?)",
        [as_of]).fetchall()
    names = {str(r[0]).casefold(): str(r[0]) for r in rows}
    if wanted.casefold() not in names:
        raise UsageError(f"No user is in department {wanted!r} at the latest snapshot; "
                         "`m365audit licences` lists the departments.")
    return names[wanted.casefold()]


def _load_prices(con: duckdb.DuckDBPyConnection, policy: Policy, as_of: datetime) -> tuple[str, ...]:
    """report_prices from the policy's [[costs.prices]] in force on the report's date."""
    con.execute("CREATE OR REPLACE TEMP TABLE report_prices (sku_id VARCHAR, monthly_price DOUBLE)")
    skus = con.execute("SELECT sku_id, sku_part_number FROM skus_at(?) WHERE is_copilot ORDER BY 2",
                       [as_of]).fetchall()
    unpriced = []
    for sku_id, part_number in skus:
        price = policy.price_on(part_number or sku_id, sku_id, as_of.date())
        if price is None:
            unpriced.append(part_number or sku_id)
        else:
            con.execute("INSERT INTO report_prices VALUES (?, ?)", [sku_id, price.monthly_price])
    return tuple(unpriced)
