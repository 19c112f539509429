"""--scope and the usage report: no row of anyone outside the scope is stored, collected or imported."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from m365audit.simulator.behaviour import ApiBehaviour
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, collect_from, run_cli

TRUST = cat.NORTHSHIRE_TRUST


def _shared_tenant(**api) -> Tenant:
    return Tenant(TenantConfig(users=600, seed=21, days=35, anchor=ANCHOR, organisations=(TRUST,),
                               api=replace(ApiBehaviour(), **api)))


def _seat_holders(tenant: Tenant, member) -> set[str]:
    return {u.user_principal_name.lower() for u in tenant.iter_users() if u.holds_copilot_seat() and member(u)}


def _in_trust(u) -> bool:
    return u.user_principal_name.lower().endswith("@" + TRUST.domain)


def _file_holds(db, text: str) -> bool:
    with open_db(db) as con:
        con.execute("CHECKPOINT")
    return text.lower().encode() in db.read_bytes().lower()


def _everywhere(db, text: str) -> int:
    """Rows of any table, in any text column, that contain ``text``."""
    with open_db(db, read_only=True) as con:
        columns = con.execute("""
            SELECT table_name, column_name FROM duckdb_columns()
            WHERE schema_name = 'main' AND NOT internal AND data_type IN ('VARCHAR', 'JSON')""").fetchall()
        found = 0
        for table, column in columns:
            row = con.execute(f'SELECT count(*) FROM "{table}" WHERE contains(lower("{column}"::VARCHAR), ?)',
                              [text.lower()]).fetchone()
            found += int(row[0]) if row else 0
    return found


@pytest.mark.parametrize("scope", ["domain", "company", "au"])
def test_scoped_collection_stores_only_the_scope_s_usage_rows(make_server, tmp_path, scope) -> None:
    tenant = _shared_tenant()
    server = make_server(tenant)
    text = {"domain": f"domain:{TRUST.domain}", "company": f"company:{TRUST.name}"}.get(scope)
    member = _in_trust
    if text is None:
        unit = next(u for u in tenant.administrative_units() if u.display_name == TRUST.name)
        indexes = set(tenant.unit_member_indexes(unit.id))
        text, member = f"au:{unit.id}", (lambda u: u.index in indexes)
    db = tmp_path / "t.duckdb"
    result = collect_from(server, db, scope=text, only=("licences", "usage"))
    usage = result.counts["usage"]
    ours, others = _seat_holders(tenant, member), _seat_holders(tenant, lambda u: not member(u))
    assert ours and others
    assert (usage["rows"], usage["dropped_out_of_scope"], usage["dropped_concealed"]) == (len(ours), len(others), 0)
    assert any(f"{len(others):,} usage report rows of people outside the scope" in n for n in usage["notices"])
    assert any("user-count summary and trend reports were not collected" in n for n in usage["notices"])
    with open_db(db, read_only=True) as con:
        stored = {r[0] for r in con.execute("SELECT user_principal_name FROM copilot_usage").fetchall()}
        assert con.execute("SELECT count(*) FROM usage_user_counts").fetchone() == (0,)
    assert stored == ours
    outsider = sorted(others)[0]
    assert _everywhere(db, outsider) == 0 and not _file_holds(db, outsider)
    assert _everywhere(db, sorted(ours)[0]) > 0  # the search finds what is there


def test_whole_tenant_file_does_hold_both_organisations(make_server, tmp_path) -> None:
    """The control for the byte search above: unscoped, the other organisation's names are in the file."""
    tenant = _shared_tenant()
    db = tmp_path / "t.duckdb"
    collect_from(make_server(tenant), db, only=("licences", "usage"))
    outsider = sorted(_seat_holders(tenant, lambda u: not _in_trust(u)))[0]
    assert _everywhere(db, outsider) > 0 and _file_holds(db, outsider)


def test_concealed_rows_are_not_stored_under_a_scope(make_server, tmp_path) -> None:
    tenant = _shared_tenant(conceal_report_names=True)
    db = tmp_path / "t.duckdb"
    result = collect_from(make_server(tenant), db, scope=f"domain:{TRUST.domain}", only=("licences", "usage"))
    usage = result.counts["usage"]
    everyone = _seat_holders(tenant, lambda u: True)
    assert (usage["rows"], usage["dropped_concealed"], usage["dropped_out_of_scope"]) == (0, len(everyone), 0)
    assert any(f"{len(everyone):,} usage report rows had concealed names, so they could not be shown to belong "
               f"to the scope (users in the domain {TRUST.domain})" in n for n in usage["notices"])
    with open_db(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM usage_report_rows").fetchone() == (0,)


def test_import_into_a_scoped_database_drops_other_organisations(make_server, tmp_path) -> None:
    tenant = _shared_tenant()
    db = tmp_path / "t.duckdb"
    collect_from(make_server(tenant), db, scope=f"company:{TRUST.name}")
    trust = sorted(_seat_holders(tenant, _in_trust))[:3]
    council = sorted(_seat_holders(tenant, lambda u: not _in_trust(u)))[:2]
    header = ("Report Refresh Date,User Principal Name,Display Name,Last Activity Date,"
              "Copilot Chat Last Activity Date,Report Period")
    rows = [f"2026-10-30,{upn.upper()},Someone,2026-10-29,,30" for upn in trust + council]
    rows.append("2026-10-30,DC8C64D6EC3A3AA17481D7E5EB5B68A6,C65E8D8AFA0DAB9639EDFAAEA94AFE66,2026-10-29,,30")
    export = tmp_path / "usage.csv"
    export.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = run_cli("import", "usage-report", str(export), "--db", str(db), "--format", "json")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["imported"] == 3
    assert {k: summary["usage_report"][k] for k in ("dropped_out_of_scope", "dropped_concealed")} == {
        "dropped_out_of_scope": 2, "dropped_concealed": 1}
    text = run_cli("import", "usage-report", str(export), "--db", str(db))
    assert text.stdout.strip() == "Imported 3 usage report rows from usage.csv (3 rows outside the database's " \
                                  "scope dropped)."
    assert f"Note: 2 usage report rows of people outside the scope (users whose company name is {TRUST.name}) " \
           "were dropped and not stored." in text.stderr
    assert "1 usage report rows had concealed names, so they could not be shown to belong to the scope (users " \
           "whose company name is" in text.stderr
    with open_db(db, read_only=True) as con:
        stored = {r[0] for r in con.execute("SELECT user_principal_name FROM copilot_usage").fetchall()}
    assert stored == set(trust)
    assert _everywhere(db, council[0]) == 0 and _everywhere(db, "DC8C64D6EC3A3AA17481D7E5EB5B68A6") == 0


def test_scoped_collect_from_the_cli_says_what_it_dropped(make_server, tmp_path) -> None:
    tenant = _shared_tenant()
    server = make_server(tenant)
    db = tmp_path / "t.duckdb"
    result = run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token", "--only",
                     "licences,usage", "--scope", f"domain:{TRUST.domain}", env={"M365AUDIT_TOKEN": "t"})
    assert result.code == 0, result.stderr
    others = _seat_holders(tenant, lambda u: not _in_trust(u))
    assert (f"Note: {len(others):,} usage report rows of people outside the scope (users in the domain "
            f"{TRUST.domain}) were dropped and not stored.") in result.stderr
    assert f"dropped_out_of_scope={len(others)}" in result.stderr
    assert not _file_holds(db, sorted(others)[-1])
    # Nothing of it is left in a spool folder, a WAL or any other file beside the database.
    leftovers = [f for f in tmp_path.rglob("*") if f.is_file() and f != db]
    assert not [f for f in leftovers if sorted(others)[-1].encode() in f.read_bytes().lower()]


def test_scope_matches_pseudonymised_names(make_server, tmp_path) -> None:
    """With pseudonymised storage the users' names are HMACs; the scope still matches, through m365_upn."""
    from m365audit.store.pseudonym import PseudonymKey

    tenant = _shared_tenant()
    db = tmp_path / "t.duckdb"
    key = PseudonymKey.from_secret(b"0123456789abcdef-pseudonym-key-for-tests")
    result = collect_from(make_server(tenant), db, scope=f"domain:{TRUST.domain}", only=("licences", "usage"),
                          pseudonym_key=key)
    ours, others = _seat_holders(tenant, _in_trust), _seat_holders(tenant, lambda u: not _in_trust(u))
    usage = result.counts["usage"]
    assert (usage["rows"], usage["dropped_out_of_scope"]) == (len(ours), len(others))
    with open_db(db, read_only=True) as con:
        joined = con.execute("SELECT count(*) FROM copilot_usage c JOIN users u "
                             "ON u.user_principal_name = c.user_principal_name").fetchone()
    assert joined == (len(ours),)
    assert _everywhere(db, sorted(ours)[0]) == 0  # pseudonyms only
