"""The real collector (msgraph-sdk over a socket) stores what the simulated tenant holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import duckdb

from m365audit.report.licences import licence_summary
from m365audit.simulator import CLEAN, Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from m365audit.simulator.tenant import SimAssignment
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, collect_from


def _summary(db) -> dict:
    with open_db(db, read_only=True) as con:
        summary = licence_summary(con)
    summary.pop("as_of")
    return summary


def test_licence_numbers_match_the_simulated_tenant(make_server, tmp_path) -> None:
    server = make_server(users=2000, seed=3)
    db = tmp_path / "t.duckdb"
    result = collect_from(server, db)
    assert _summary(db) == server.tenant.expected_licence_summary()
    assert result.counts["licences"]["users"] == 2000
    # 2000 users at 999 a page: three pages, each through the SDK's adapter.
    assert server.graph.requests["/users"] == 3
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_pages WHERE source = 'users'").fetchone() == (3,)
        assert con.execute("SELECT status FROM runs").fetchall() == [("succeeded",)]
        assert con.execute("SELECT count(*) FROM users").fetchone() == (2000,)


def _clean_tenant(users: int = 60) -> Tenant:
    return Tenant(TenantConfig(users=users, seed=11, anchor=ANCHOR, rates=CLEAN))


def _copilot(group: str | None = cat.GROUP_COPILOT, **kw) -> SimAssignment:
    return SimAssignment(cat.COPILOT.sku_id, group, assigned_at=ANCHOR - timedelta(days=10), **kw)


def _e3() -> SimAssignment:
    return SimAssignment(cat.E3.sku_id, cat.GROUP_ALL_STAFF, assigned_at=ANCHOR - timedelta(days=400))


def test_copilot_seat_rule(make_server, tmp_path) -> None:
    tenant = _clean_tenant()
    for i in range(tenant.config.users):  # start from nobody holding Copilot
        tenant.override_user(i, assignments=(_e3(),))
    cases = {
        0: (_e3(), _copilot()),                                                   # group seat
        1: (_e3(), _copilot(None)),                                               # direct seat
        2: (_e3(), _copilot(disabled_plans=(cat.COPILOT_TEAMS,))),                # one plan off: still a seat
        3: (_e3(), _copilot(disabled_plans=cat.COPILOT_SEAT_PLANS)),              # every seat plan off
        4: (_e3(), _copilot(state="Error", error="CountViolation")),              # failed assignment
        5: (_e3(), _copilot(), _copilot(None)),                                   # group and direct: one user
        6: (_e3(), _copilot(state="ActiveWithError", error="DependencyViolation")),
        7: (_e3(), _copilot(state="Disabled")),
    }
    for index, assignments in cases.items():
        tenant.override_user(index, assignments=assignments)
    tenant.override_user(6, account_enabled=False)  # disabled accounts still hold (and use up) a seat
    server = make_server(tenant)
    db = tmp_path / "t.duckdb"
    collect_from(server, db)
    with open_db(db, read_only=True) as con:
        holders = {r[0] for r in con.execute(
            "SELECT DISTINCT user_id FROM licence_assignments WHERE holds_copilot_seat").fetchall()}
        chat_only = con.execute(
            "SELECT count(*) FROM licence_assignments WHERE sku_part_number = 'ENTERPRISEPACK' AND is_copilot"
        ).fetchone()
        summary = licence_summary(con)
    assert holders == {tenant.user(i).id for i in (0, 1, 2, 5, 6)}
    assert chat_only == (0,)  # the Copilot Chat plan in E3 is not a seat
    assert summary["copilot"]["licensed_users"] == 5
    # consumedUnits counts users whose SKU is assigned, including user 3 (all seat plans off).
    assert summary["copilot"]["assigned"] == 6
    assert summary == {**summary, **{"copilot": summary["copilot"]}}
    assert summary["copilot"] == {**tenant.expected_licence_summary()["copilot"]}


def test_history_answers_for_past_snapshots(make_server, tmp_path) -> None:
    tenant = _clean_tenant(200)
    server = make_server(tenant)
    db = tmp_path / "t.duckdb"
    first = ANCHOR - timedelta(days=30)
    collect_from(server, db, now=first)
    before = tenant.expected_licence_summary()["copilot"]["licensed_users"]
    holder = next(u for u in tenant.iter_users() if u.holds_copilot_seat())
    tenant.override_user(holder.index, assignments=(_e3(),))  # seat removed
    newcomer = next(u for u in tenant.iter_users() if not u.holds_copilot_seat() and u.user_type == "Member")
    tenant.override_user(newcomer.index, display_name="New Name", assignments=(_e3(), _copilot(None)))
    collect_from(server, db, now=ANCHOR)
    with open_db(db, read_only=True) as con:
        assert licence_summary(con, first + timedelta(days=1))["copilot"]["licensed_users"] == before
        now = licence_summary(con)["copilot"]
        assert now["licensed_users"] == before
        # history keeps both versions of the renamed user, and only the new one is current
        names = con.execute("SELECT display_name, valid_to IS NULL FROM user_versions WHERE user_id = ? "
                            "ORDER BY valid_from", [newcomer.id]).fetchall()
        assert names == [(newcomer.display_name, False), ("New Name", True)]
        assert con.execute("SELECT count(*) FROM snapshots").fetchone() == (2,)
        removed = con.execute("SELECT count(*) FROM licence_assignments_at(?) WHERE user_id = ? AND is_copilot",
                              [ANCHOR, holder.id]).fetchone()
        assert removed == (0,)


def test_unchanged_second_snapshot_adds_no_versions(make_server, tmp_path) -> None:
    server = make_server(users=300, seed=5)
    db = tmp_path / "t.duckdb"
    collect_from(server, db, now=ANCHOR - timedelta(days=1))
    with duckdb.connect(str(db), read_only=True) as con:
        before = con.execute("SELECT count(*) FROM user_versions").fetchone()
    collect_from(server, db, now=ANCHOR)
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM user_versions").fetchone() == before
        assert con.execute("SELECT count(*) FROM users").fetchone() == (300,)


def test_only_groups_that_matter_have_members_collected(make_server, tmp_path) -> None:
    server = make_server(users=400, seed=2)
    db = tmp_path / "t.duckdb"
    collect_from(server, db, member_groups=[cat.GROUP_TRAINED])
    tenant = server.tenant
    with open_db(db, read_only=True) as con:
        rows = dict(con.execute("""
            SELECT g.display_name, count(m.user_id) FROM group_versions g
            LEFT JOIN group_member_versions m USING (group_id) GROUP BY ALL""").fetchall())
    assert rows[cat.GROUP_TRAINED] == len(tenant.group_members(cat.GROUP_TRAINED))
    assert rows[cat.GROUP_COPILOT] == len(tenant.group_members(cat.GROUP_COPILOT)) + len(
        tenant.group_members(cat.GROUP_COPILOT_PILOT))


def test_replace_keeps_tenant_model_pure() -> None:
    t = _clean_tenant(5)
    u = t.user(0)
    t.override_user(0, display_name="X")
    assert t.user(0) == replace(u, display_name="X")
