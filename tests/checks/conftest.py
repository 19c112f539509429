"""Fixtures shared by the check tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from m365audit.store.db import open_db
from tests.checks.golden import add_baseline_activity, baseline_tenant, collect_tenant


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compliant baseline collected once, with its activity: tests copy it rather than re-collect."""
    db = tmp_path_factory.mktemp("golden") / "baseline.duckdb"
    tenant = baseline_tenant()
    collect_tenant(tenant, db)
    with open_db(db) as con:
        add_baseline_activity(con, tenant)
    return db
