"""One report-ready database and one written report per test session (per xdist worker)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from m365audit.checks.catalogue import check_ids
from m365audit.policy import Policy, load_policy
from m365audit.report.manager import write_reports
from m365audit.store.db import open_db
from tests.report.tenant_data import build_database

PRICE = 25.5  # GBP per seat per month, in the test policy
POLICY_TOML = f"""
[licences]
inactive_after_days = 30

[costs]
currency = "GBP"

[[costs.prices]]
sku = "Microsoft_365_Copilot"
monthly_price = 20.0
from = 2024-01-01

[[costs.prices]]
sku = "Microsoft_365_Copilot"
monthly_price = {PRICE}
from = 2026-04-01
"""


@pytest.fixture(scope="session")
def report_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_database(tmp_path_factory.mktemp("report-db") / "tenant.duckdb")


@pytest.fixture(scope="session")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "policy.toml"
    path.write_text(POLICY_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def policy(policy_file: Path) -> Policy:
    return load_policy(policy_file, check_ids())


@pytest.fixture(scope="session")
def report_dir(report_db: Path, policy: Policy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    write_reports(db=report_db, out=out, policy=policy)
    return out


@pytest.fixture
def con(report_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    # open_db, not duckdb.connect: connections to one file in one process must share a
    # configuration (the memory cap), and the report under test opens it with open_db.
    with open_db(report_db, read_only=True) as connection:
        yield connection


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0]
