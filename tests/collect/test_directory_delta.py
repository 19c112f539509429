"""Incremental directory collection through /users/delta: changes only, same result as a full listing."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from m365audit.simulator.tenant import SimAssignment
from tests.conftest import ANCHOR, collect_from
from tests.dbcompare import assert_same_database


def _forget_delta_link(db) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE collection_state SET value = NULL WHERE source = 'directory'")


def _change(tenant: Tenant) -> None:
    e3 = SimAssignment(cat.E3.sku_id, cat.GROUP_ALL_STAFF, assigned_at=ANCHOR - timedelta(days=400))
    holder = next(u for u in tenant.iter_users(start=10) if u.holds_copilot_seat())
    tenant.override_user(holder.index, assignments=(e3,))                     # seat removed
    tenant.override_user(1, display_name="Renamed Person", department="Finance")
    tenant.override_user(2, assignments=())                                    # every licence removed
    tenant.delete_user(3)
    tenant.add_user()                                                          # a new starter
    tenant.override_user(4, company_name="Another Council")


def test_second_run_asks_only_for_changes_and_matches_a_full_listing(make_server, tmp_path) -> None:
    server = make_server(users=1500, seed=9)
    delta_db, full_db = tmp_path / "delta.duckdb", tmp_path / "full.duckdb"
    first = collect_from(server, delta_db, now=ANCHOR - timedelta(days=1))
    collect_from(server, full_db, now=ANCHOR - timedelta(days=1))
    assert first.counts["licences"]["full"] is True
    _change(server.tenant)
    listings = server.graph.requests["/users"]
    result = collect_from(server, delta_db, now=ANCHOR)
    assert server.graph.requests["/users"] == listings  # no full listing on the delta run
    counts = result.counts["licences"]
    assert counts["full"] is False
    assert (counts["changed_users"], counts["removed_users"]) == (5, 1)  # five changed or new, one deleted
    assert counts["users"] == 1500
    _forget_delta_link(full_db)
    assert collect_from(server, full_db, now=ANCHOR).counts["licences"]["full"] is True
    assert_same_database(delta_db, full_db)
    with duckdb.connect(str(delta_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM users WHERE user_id = ?",
                           [server.tenant.user(2).id]).fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM licence_assignments WHERE user_id = ?",
                           [server.tenant.user(2).id]).fetchone() == (0,)
        assert con.execute("SELECT source FROM raw_pages WHERE source LIKE 'user%'").fetchall() == [("userChanges",)]


def test_expired_delta_link_falls_back_to_a_full_listing(make_server, tmp_path) -> None:
    server = make_server(users=300, seed=2)
    db = tmp_path / "t.duckdb"
    collect_from(server, db, now=ANCHOR - timedelta(days=8))
    _change(server.tenant)
    server.tenant.delta_token_ttl = -1  # type: ignore[attr-defined]
    result = collect_from(server, db, now=ANCHOR)
    assert result.counts["licences"]["full"] is True
    assert result.counts["licences"]["users"] == 300
    with duckdb.connect(str(db), read_only=True) as con:
        state = con.execute("SELECT value FROM collection_state WHERE key = 'users_delta'").fetchone()[0]
    assert "$deltatoken=" in state  # a fresh link for the next run


def test_delta_link_from_another_graph_root_is_not_used(make_server, tmp_path) -> None:
    tenant = Tenant(TenantConfig(users=100, seed=4, anchor=ANCHOR))
    db = tmp_path / "t.duckdb"
    collect_from(make_server(tenant), db, now=ANCHOR - timedelta(days=1))
    other = make_server(tenant)  # same tenant on another port: the stored link points elsewhere
    result = collect_from(other, db, now=ANCHOR)
    assert result.counts["licences"]["full"] is True


def test_delta_with_a_company_scope_closes_users_who_leave_it(make_server, tmp_path) -> None:
    server = make_server(users=400, seed=6)
    scope = "company:Example Borough Council"
    delta_db, full_db = tmp_path / "delta.duckdb", tmp_path / "full.duckdb"
    for db in (delta_db, full_db):
        collect_from(server, db, now=ANCHOR - timedelta(days=1), scope=scope)
    leaver = next(u for u in server.tenant.iter_users(start=20) if u.company_name)
    server.tenant.override_user(leaver.index, company_name="Northshire NHS Trust")
    result = collect_from(server, delta_db, now=ANCHOR, scope=scope)
    assert result.counts["licences"]["full"] is False and result.counts["licences"]["removed_users"] == 1
    _forget_delta_link(full_db)
    collect_from(server, full_db, now=ANCHOR, scope=scope)
    assert_same_database(delta_db, full_db)
    with duckdb.connect(str(delta_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM users WHERE user_id = ?", [leaver.id]).fetchone() == (0,)
