"""Collecting through injected faults gives the same database as collecting without them."""

from __future__ import annotations

from datetime import timedelta

from m365audit.collect.audit_settings import AuditSettings
from m365audit.collect.graph import RetryPolicy
from m365audit.collect.runner import EXTRA_SOURCES
from m365audit.errors import CollectionError
from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from m365audit.simulator.faults import install, parse_faults
from tests.conftest import ANCHOR, collect_from
from tests.dbcompare import assert_same_database

# Higher rates than a real tenant's, so that every kind of fault occurs in a small run.
FAULTS = ("429=0.1,503=0.08,504=0.08,reset=0.1,truncate=0.1,slow=0.1,audit_failed=0.1,"
          "delta_expired=1,retry_after=0.02,slow_seconds=0.05")


def _tenant() -> Tenant:
    return Tenant(TenantConfig(users=4000, seed=21, days=3, anchor=ANCHOR))


def _collect(server, db, now) -> None:
    """Collect like the nightly job does: a failed step is tried again, resuming from what was committed."""
    failures = []
    for _ in range(4):
        try:
            collect_from(server, db, now=now, only=("licences", *EXTRA_SOURCES),
                         member_groups=[cat.GROUP_TRAINED], since=now - timedelta(days=3), until=now,
                         audit=AuditSettings(poll_initial=0.05, poll_max=0.2),
                         policy=RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05))
            return
        except CollectionError as exc:
            failures.append(exc.message)
    raise AssertionError(f"collection kept failing: {failures}")


def _change(tenant: Tenant) -> None:
    tenant.override_user(7, display_name="Changed Name", department="Legal Services")
    tenant.delete_user(8)
    tenant.add_user()


def test_faults_change_nothing(make_server, tmp_path) -> None:
    clean, faulty = make_server(_tenant()), make_server(_tenant())
    injector = install(faulty.graph, parse_faults(FAULTS), seed=1)
    clean_db, faulty_db = tmp_path / "clean.duckdb", tmp_path / "faulty.duckdb"
    for server, db in ((clean, clean_db), (faulty, faulty_db)):
        _collect(server, db, ANCHOR - timedelta(days=1))
        _change(server.tenant)
        _collect(server, db, ANCHOR)
    assert {"429", "503", "504", "reset", "truncate", "slow", "delta_expired"} <= set(injector.injected)
    assert_same_database(clean_db, faulty_db)
