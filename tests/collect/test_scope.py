"""--scope: one organisation of a shared tenant, over a real socket, filtered in SQL."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pytest

from m365audit.collect.audit_settings import AuditSettings
from m365audit.collect.scope import scope_audit_filters
from m365audit.collect.spool import spool_root
from m365audit.errors import UsageError
from m365audit.report.licences import licence_summary
from m365audit.scope import parse_scope
from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from m365audit.store.db import open_db
from m365audit.store.scope import current_scope, record_filter_sql
from tests.conftest import ANCHOR, assert_clean_failure, collect_from, run_cli

TRUST = cat.NORTHSHIRE_TRUST


def _shared_tenant() -> Tenant:
    return Tenant(TenantConfig(users=600, seed=21, anchor=ANCHOR, organisations=(TRUST,)))


def _collected(db) -> tuple[set[str], dict]:
    with open_db(db, read_only=True) as con:
        ids = {r[0] for r in con.execute("SELECT user_id FROM users").fetchall()}
        summary = licence_summary(con)
    summary.pop("as_of")
    return ids, summary


def _check(server, db, scope: str, member) -> set[str]:
    collect_from(server, db, scope=scope)
    tenant = server.tenant
    expected = {u.id for u in tenant.iter_users() if member(u)}
    ids, summary = _collected(db)
    assert ids == expected and ids
    assert summary == tenant.expected_licence_summary(member)
    return ids


def test_domain_scope(make_server, tmp_path) -> None:
    server = make_server(_shared_tenant())
    ids = _check(server, tmp_path / "t.duckdb", f"domain:{TRUST.domain.upper()}",
                 lambda u: u.user_principal_name.endswith("@" + TRUST.domain))
    assert 120 < len(ids) < 240  # the trust holds about 30% of the tenant


def test_two_domains(make_server, tmp_path) -> None:
    server = make_server(_shared_tenant())
    # Guests sign in as ...#EXT#@ the tenant's own domain, so they fall under example.gov.uk.
    ids = _check(server, tmp_path / "t.duckdb", f"domain:{TRUST.domain}, example.gov.uk",
                 lambda u: u.user_principal_name.rsplit("@", 1)[1] in (TRUST.domain, "example.gov.uk"))
    assert len(ids) == server.tenant.user_count


def test_company_scope_ignores_case(make_server, tmp_path) -> None:
    server = make_server(_shared_tenant())
    _check(server, tmp_path / "t.duckdb", f"company:{TRUST.name.lower()}", lambda u: u.company_name == TRUST.name)


@pytest.mark.parametrize("unit_name", [TRUST.name, f"{TenantConfig().org_name} - Finance"])
def test_administrative_unit_scope(make_server, tmp_path, unit_name: str) -> None:
    tenant = _shared_tenant()
    unit = next(u for u in tenant.administrative_units() if u.display_name == unit_name)
    server = make_server(tenant)
    members = set(tenant.unit_member_indexes(unit.id))
    db = tmp_path / "t.duckdb"
    _check(server, db, f"au:{unit.id.upper()}", lambda u: u.index in members)
    with open_db(db, read_only=True) as con:
        record = current_scope(con)
        assert con.execute("SELECT scope FROM runs").fetchall() == [(f"au:{unit.id}",)]
        assert con.execute("SELECT scope FROM snapshots").fetchall() == [(f"au:{unit.id}",)]
    assert record is not None and record.scope == f"au:{unit.id}" and record.label == unit_name
    assert record.description == f"administrative unit {unit_name} (au:{unit.id})"


def test_scoped_snapshot_keeps_no_other_organisation_in_raw_pages(make_server, tmp_path) -> None:
    server = make_server(_shared_tenant())
    db = tmp_path / "t.duckdb"
    collect_from(server, db, scope=f"company:{TRUST.name}")
    outsider = next(u for u in server.tenant.iter_users() if u.company_name != TRUST.name)
    with duckdb.connect(str(db), read_only=True) as con:
        pages = con.execute("SELECT count(*), sum(CAST(body->>'m365audit.records' AS INTEGER)) FROM raw_pages "
                            "WHERE source = 'users'").fetchone()
        leaked = con.execute("SELECT count(*) FROM raw_pages WHERE contains(body::VARCHAR, ?)",
                             [outsider.user_principal_name]).fetchone()
    assert pages == (1, server.tenant.user_count) and leaked == (0,)


def test_a_different_scope_is_refused_then_replaced(make_server, tmp_path) -> None:
    server = make_server(_shared_tenant())
    db = tmp_path / "t.duckdb"
    collect_from(server, db, scope=f"domain:{TRUST.domain}")
    with pytest.raises(UsageError, match="holds data collected for scope domain:northshire.nhs.uk"):
        collect_from(server, db, scope="company:Example Borough Council")
    with pytest.raises(UsageError, match="--replace-scope"):
        collect_from(server, db)  # the whole tenant is a different scope too
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)  # nothing written by the refusals
    collect_from(server, db, scope="company:Example Borough Council", replace_scope=True)
    ids, _ = _collected(db)
    with open_db(db, read_only=True) as con:
        versions = con.execute("SELECT count(*) FROM user_versions").fetchone()
        assert con.execute("SELECT count(*) FROM snapshots").fetchone() == (1,)
        assert current_scope(con).scope == "company:Example Borough Council"
    assert versions == (len(ids),)  # the trust's users are gone, not closed
    assert ids == {u.id for u in server.tenant.iter_users() if u.company_name == "Example Borough Council"}


def test_same_scope_twice_is_fine_and_keeps_its_date(make_server, tmp_path) -> None:
    server = make_server(_shared_tenant())
    db = tmp_path / "t.duckdb"
    collect_from(server, db, scope=f"domain:{TRUST.domain}")
    with open_db(db, read_only=True) as con:
        first = current_scope(con)
    collect_from(server, db, scope=f"DOMAIN:{TRUST.domain.upper()}")
    with open_db(db, read_only=True) as con:
        assert current_scope(con) == first
    shown = run_cli("licences", "--db", str(db))
    assert f"Scope: users in the domain {TRUST.domain}, collected since {first.since:%Y-%m-%d}." in shown.stdout


def test_scope_refusal_from_the_cli(make_server, tmp_path) -> None:
    server = make_server(_shared_tenant())
    db = tmp_path / "t.duckdb"
    collect_from(server, db, scope=f"domain:{TRUST.domain}")
    result = run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token", "--only",
                     "licences", "--scope", "company:Example Borough Council", env={"M365AUDIT_TOKEN": "t"})
    assert_clean_failure(result, 2, "holds data collected for scope domain:northshire.nhs.uk", "--replace-scope")


@pytest.mark.parametrize(("text", "fragment"), [
    ("ou:x", "is not one of"), ("au:not-a-guid", "GUID"), ("domain:not a domain", "not a domain name"),
    ("domain:", "is not one of"), ("company:" + "x" * 300, "at most 256"),
])
def test_bad_scope_is_refused_before_anything_is_written(tmp_path, text: str, fragment: str) -> None:
    db = tmp_path / "t.duckdb"
    result = run_cli("collect", "--db", str(db), "--graph-url", "http://127.0.0.1:9/v1.0", "--auth", "token",
                     "--scope", text, env={"M365AUDIT_TOKEN": "t"})
    assert_clean_failure(result, 2, fragment)
    assert not db.exists()


def test_unknown_administrative_unit(make_server, tmp_path) -> None:
    server = make_server(_shared_tenant())
    with pytest.raises(UsageError, match="no administrative unit with id 00000000-0000-0000-0000-000000000001"):
        collect_from(server, tmp_path / "t.duckdb", scope="au:00000000-0000-0000-0000-000000000001")


def test_audit_filters_and_record_conditions() -> None:
    unit = "5f1c2b7e-0d1a-4c53-9a55-3b2f6f1b0c11"
    assert scope_audit_filters(f"au:{unit}") == {"administrativeUnitIdFilters": [unit]}
    assert scope_audit_filters(parse_scope("domain:a.gov.uk")) == {}
    assert scope_audit_filters(None) == {}
    # A domain or company scope names its known users while they are few, else leaves the query open.
    assert scope_audit_filters("domain:a.gov.uk", ["b@a.gov.uk", "a@a.gov.uk"], limit=2) == {
        "userPrincipalNameFilters": ["a@a.gov.uk", "b@a.gov.uk"]}
    assert scope_audit_filters("company:X", ["b@a.gov.uk", "a@a.gov.uk", "c@a.gov.uk"], limit=2) == {}
    with duckdb.connect() as con:
        con.execute("CREATE TABLE user_versions (user_principal_name VARCHAR, company_name VARCHAR)")
        con.execute("INSERT INTO user_versions VALUES ('x@b.nhs.uk', 'O''Brien Trust'), ('y@a.gov.uk', 'Council')")
        con.execute("CREATE TABLE records (user_principal_name VARCHAR)")
        con.execute("INSERT INTO records VALUES ('X@B.NHS.UK'), ('y@a.gov.uk'), ('z@sub.a.gov.uk'), (NULL)")
        for scope, imported, expected in (
                ("domain:a.gov.uk", False, ["y@a.gov.uk"]), ("company:o'brien TRUST", False, ["X@B.NHS.UK"]),
                (f"au:{unit}", True, ["X@B.NHS.UK", "y@a.gov.uk"])):
            where = record_filter_sql(scope, imported=imported)
            assert [r[0] for r in con.execute(f"SELECT * FROM records WHERE {where}").fetchall()] == expected
    assert record_filter_sql(f"au:{unit}") is None  # collected: Graph filtered by administrativeUnitIdFilters
    assert record_filter_sql(None) is None


EMPTY = replace(TRUST, name="Westshire Hospice", domain="westshire-hospice.org.uk", share=0.0)


@pytest.mark.parametrize(("kind", "fragment"), [
    ("au", "matches nobody: the administrative unit Westshire Hospice has no user members"),
    ("domain", "matches nobody in westshire-hospice.org.uk: no user of the tenant has a user principal name "
               "ending in @westshire-hospice.org.uk"),
    ("company", "matches nobody: no user of the tenant has the company name Westshire Hospice"),
])
def test_a_scope_that_matches_nobody_is_refused_before_anything_is_fetched(make_server, tmp_path, kind,
                                                                           fragment) -> None:
    tenant = Tenant(TenantConfig(users=300, seed=21, anchor=ANCHOR, organisations=(TRUST, EMPTY)))
    server = make_server(tenant)
    unit = next(u for u in tenant.administrative_units() if u.display_name == EMPTY.name)
    scope = {"au": f"au:{unit.id}", "domain": f"domain:{TRUST.domain},{EMPTY.domain}",
             "company": f"company:{EMPTY.name}"}[kind]
    db = tmp_path / "t.duckdb"
    result = run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token", "--scope", scope,
                     "--only", "licences,audit,usage,labels", env={"M365AUDIT_TOKEN": "t"})
    assert_clean_failure(result, 2, f"--scope {scope} {fragment}")
    assert not db.exists() and not spool_root(db).exists()
    # Only the question "who is in the scope?" was asked: no users listed, no audit query, no report.
    asked = set(server.graph.requests)
    assert asked <= {f"/directory/administrativeUnits/{unit.id}", f"/directory/administrativeUnits/{unit.id}/members",
                     "/users"}, asked
    assert server.graph.requests["/users"] <= 2


def test_a_company_scope_needs_the_directory_before_audit_records(make_server, tmp_path) -> None:
    server = make_server(_shared_tenant())
    db = tmp_path / "t.duckdb"
    result = run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token", "--only", "audit",
                     "--scope", f"company:{TRUST.name}", env={"M365AUDIT_TOKEN": "t"})
    assert_clean_failure(result, 2, "the database does not know them yet", "add licences to --only")
    assert "/security/auditLog/queries" not in server.graph.requests
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_a_company_scope_keeps_its_records_in_pseudonymised_storage(make_server, tmp_path) -> None:
    """Stored UPNs are pseudonyms there: the records are matched through the same keyed macro."""
    from m365audit.store import pseudonym

    tenant = Tenant(TenantConfig(users=400, seed=21, days=3, anchor=ANCHOR, organisations=(TRUST,)))
    server = make_server(tenant)
    db = tmp_path / "t.duckdb"
    key = pseudonym.PseudonymKey.from_secret(b"0123456789abcdef-pseudonym-key-for-tests")
    start, end = tenant.activity.window
    result = collect_from(server, db, scope=f"company:{TRUST.name}", only=("licences", "audit"), since=start,
                          until=end, pseudonym_key=key, audit=AuditSettings(poll_initial=0.01))
    inside = {u.user_principal_name for u in tenant.iter_users() if u.company_name == TRUST.name}
    every = list(tenant.activity.records(start, end, ["CopilotInteraction"]))
    mine = sum(r["UserId"] in inside for r in every)
    counts = result.counts["audit"]
    assert counts["scope_filter"] == "dropped on loading"  # pseudonyms cannot be sent as UPN filters
    assert (counts["new"], counts["out_of_scope"]) == (mine, len(every) - mine) and 0 < mine < len(every)
    with open_db(db, read_only=True) as con:
        stored = con.execute("SELECT count(*), count(*) FILTER (WHERE starts_with(user_principal_name, 'p-')) "
                             "FROM audit_records").fetchone()
    assert stored == (mine, mine)
