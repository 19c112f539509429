"""Two organisations in one tenant: a scoped collection stores nothing of the other one.

Each scope kind (au, domain, company) is collected through the real CLI over
HTTP with every source (licences, audit, usage, labels). Then the database is
searched two ways for the other organisation's UPNs and user ids: every column
of every table read back through DuckDB (which sees through compression), and
the bytes of the file, its WAL and the spool folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from m365audit.collect.spool import spool_root
from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from m365audit.simulator.model import SimUser
from m365audit.simulator.server import SimulatorServer
from tests.conftest import ANCHOR, ANCHOR_CLOCK, run_cli

TRUST = cat.NORTHSHIRE_TRUST
TYPES = "CopilotInteraction,AIAppInteraction"


def _tenant() -> Tenant:
    return Tenant(TenantConfig(users=600, seed=21, days=6, anchor=ANCHOR, organisations=(TRUST,)))


def _scopes(tenant: Tenant) -> dict[str, tuple[str, Callable[[SimUser], bool]]]:
    unit = next(u for u in tenant.administrative_units() if u.display_name == TRUST.name)
    members = set(tenant.unit_member_indexes(unit.id))
    return {
        "au": (f"au:{unit.id}", lambda u: u.index in members),
        "domain": (f"domain:{TRUST.domain}", lambda u: u.user_principal_name.endswith("@" + TRUST.domain)),
        "company": (f"company:{TRUST.name}", lambda u: u.company_name == TRUST.name),
    }


def _collect(server: SimulatorServer, db: Path, scope: str, *extra: str) -> None:
    start, end = server.tenant.activity.window
    result = run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token", "--scope", scope,
                     "--only", "licences,audit,usage,labels", "--since", start.isoformat(),
                     "--until", end.isoformat(), *extra,
                     env={"M365AUDIT_TOKEN": "t", "M365AUDIT_AUDIT_POLL_SECONDS": "0.01",
                          "M365AUDIT_AUDIT_RECORD_TYPES": TYPES, **ANCHOR_CLOCK})
    assert result.code == 0, result.stderr


def _leaks_by_table(db: Path, needles: list[str]) -> dict[str, int]:
    """Rows of each table whose text (every column, decompressed) holds one of ``needles``."""
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("CREATE TEMP TABLE needles AS SELECT lower(unnest(?)) AS needle", [needles])
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND NOT temporary").fetchall()]
        leaks = {}
        for table in tables:
            n = con.execute(f"""
                SELECT count(DISTINCT r.text) FROM (SELECT lower(CAST(t AS VARCHAR)) AS text FROM "{table}" t) r
                JOIN needles ON contains(r.text, needles.needle)""").fetchone()[0]  # noqa: S608 - catalogue names
            if n:
                leaks[table] = n
    return leaks


def _bytes_found(paths: list[Path], needles: list[str]) -> set[str]:
    found = set()
    for path in paths:
        data = path.read_bytes().lower()
        found |= {n for n in needles if n.lower().encode() in data}
    return found


def _database_files(db: Path) -> list[Path]:
    return [p for p in (db, db.with_name(db.name + ".wal")) if p.exists()]


def _spooled(db: Path) -> list[Path]:
    root = spool_root(db)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> dict[str, tuple[Tenant, Path, set[str], list[str]]]:
    """Each scope kind collected once into its own database (the collections share one tenant)."""
    tenant = _tenant()
    server = SimulatorServer(tenant).start()
    try:
        out = {}
        for kind, (scope, member) in _scopes(tenant).items():
            db = tmp_path_factory.mktemp(kind) / "t.duckdb"
            _collect(server, db, scope)
            inside = {u.user_principal_name for u in tenant.iter_users() if member(u)}
            outsiders = [text for u in tenant.iter_users() if not member(u)
                         for text in (u.user_principal_name, u.id)]
            out[kind] = (tenant, db, inside, outsiders)
        return out
    finally:
        server.stop()


@pytest.mark.parametrize("kind", ["au", "domain", "company"])
def test_scoped_database_holds_exactly_the_organisations_records(collected, kind: str) -> None:
    tenant, db, inside, _ = collected[kind]
    start, end = tenant.activity.window
    records = [r for r in tenant.activity.records(start, end, TYPES.split(",")) if r["UserId"] in inside]
    with duckdb.connect(str(db), read_only=True) as con:
        users = {r[0] for r in con.execute("SELECT user_principal_name FROM users").fetchall()}
        stored = con.execute("SELECT count(*), count(DISTINCT user_principal_name) FROM audit_records").fetchone()
        counts = con.execute("SELECT counts FROM runs WHERE command = 'collect'").fetchone()[0]
    assert users == inside
    assert stored == (len(records), len({r["UserId"] for r in records})) and stored[0] > 100
    # Where the scope was applied: Graph filtered the au scope; the others were dropped on loading
    # (the trust's ~180 users are fewer than 500, so they are also named in userPrincipalNameFilters).
    assert '"administrativeUnitIdFilters"' in counts if kind == "au" else '"userPrincipalNameFilters' in counts
    assert _spooled(db) == [] and not spool_root(db).exists()


@pytest.mark.parametrize("kind", ["au", "domain", "company"])
def test_no_table_holds_anything_of_the_other_organisation(collected, kind: str) -> None:
    """Every column of every table, usage report rows included."""
    _, db, _, outsiders = collected[kind]
    assert _leaks_by_table(db, outsiders) == {}


@pytest.mark.parametrize("kind", ["au", "domain", "company"])
def test_the_file_bytes_hold_no_upn_or_id_of_the_other_organisation(collected, kind: str) -> None:
    _, db, inside, outsiders = collected[kind]
    files = _database_files(db) + _spooled(db)
    # The search can fail: it finds every in-scope user's UPN in the same bytes.
    assert _bytes_found(files, sorted(inside)) == inside
    found = _bytes_found(files, outsiders)
    assert found == set()


def test_a_large_scope_is_dropped_on_loading_in_the_same_transaction(tmp_path) -> None:
    """Above the UPN-filter limit (here 0) Graph sends every organisation's records: none is kept."""
    from tests.ops.runhelp import run, write_config

    tenant = Tenant(TenantConfig(users=600, seed=21, days=6, organisations=(TRUST,)))  # anchored today
    server = SimulatorServer(tenant).start()
    try:
        config = write_config(tmp_path, server.url, extra="upn_filter_limit = 0\n"
                              f'[collect]\nsources = ["licences", "audit"]\nscope = "company:{TRUST.name}"\n')
        result = run(config, env={"M365AUDIT_AUDIT_RECORD_TYPES": TYPES})
    finally:
        server.stop()
    assert result.code == 0, result.stderr
    db = tmp_path / "audit.duckdb"
    inside = {u.user_principal_name for u in tenant.iter_users() if u.company_name == TRUST.name}
    with duckdb.connect(str(db), read_only=True) as con:
        counts = json.loads(con.execute("SELECT counts FROM runs WHERE command = 'run'").fetchone()[0])["audit"]
        stored = con.execute("SELECT count(*) FROM audit_records").fetchone()[0]
    start = datetime.fromisoformat(counts["window_start"])
    every = list(tenant.activity.records(start, datetime.fromisoformat(counts["window_end"]), TYPES.split(",")))
    assert counts["scope_filter"] == "dropped on loading"
    assert stored == counts["new"] == sum(r["UserId"] in inside for r in every) > 0
    assert counts["out_of_scope"] == len(every) - stored > 0  # fetched, and dropped before the commit
    outsiders = [text for u in tenant.iter_users() if u.company_name != TRUST.name
                 for text in (u.user_principal_name, u.id)]
    assert _leaks_by_table(db, outsiders) == {}
    assert _bytes_found(_database_files(db), outsiders) == set() and not spool_root(db).exists()


@pytest.mark.parametrize("kind", ["domain", "company", "au"])
def test_an_import_into_a_scoped_database_drops_the_other_organisation(make_server, tmp_path, kind) -> None:
    from tests.store.purview_files import write_export

    tenant = _tenant()
    server = make_server(tenant)
    scope, member = _scopes(tenant)[kind]
    db = tmp_path / "t.duckdb"
    result = run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token", "--scope", scope,
                     "--only", "licences", env={"M365AUDIT_TOKEN": "t"})
    assert result.code == 0, result.stderr
    inside = {u.user_principal_name for u in tenant.iter_users() if member(u)}
    start, end = tenant.activity.window
    records = list(tenant.activity.records(start, end, TYPES.split(",")))
    mine = sum(r["UserId"] in inside for r in records)
    export = write_export(tmp_path / "export.csv", records)
    shown = run_cli("import", "purview-audit", str(export), "--db", str(db), "--format", "json")
    assert shown.code == 0, shown.stderr
    summary = json.loads(shown.stdout)
    assert (summary["imported"], summary["out_of_scope"]) == (mine, len(records) - mine) and 0 < mine < len(records)
    assert summary["scope"] and summary["scope"] in {
        "au": f"administrative unit {TRUST.name} ({scope})", "domain": f"users in the domain {TRUST.domain}",
        "company": f"users whose company name is {TRUST.name}"}[kind]
    outsiders = [text for u in tenant.iter_users() if not member(u) for text in (u.user_principal_name, u.id)]
    assert _leaks_by_table(db, outsiders) == {}
    again = run_cli("import", "purview-audit", str(export), "--db", str(db))  # the text output says it too
    assert again.code == 0 and (f"{len(records) - mine:,} rows of users outside the database's scope "
                                f"({summary['scope']}) dropped, not imported") in again.stdout, again.stdout


def test_every_output_of_a_scoped_database_says_the_scope(collected, tmp_path) -> None:
    """check (table, json, csv), foi (md, csv, json, docx) and report (html, xlsx, csv) all name the scope."""
    from docx import Document
    from openpyxl import load_workbook

    _, db, _, _ = collected["domain"]
    words = f"users in the domain {TRUST.domain}"
    for fmt in ("table", "json", "csv"):
        shown = run_cli("check", "--db", str(db), "--format", fmt, "--check-date", ANCHOR.date().isoformat())
        assert shown.code == 0, shown.stderr
        assert words in shown.stdout, (fmt, shown.stdout[:500])
    assert json.loads(run_cli("check", "--db", str(db), "--format", "json").stdout)["scope"] == words
    for fmt in ("md", "csv", "json"):
        shown = run_cli("foi", "--db", str(db), "--format", fmt)
        assert shown.code == 0, shown.stderr
        assert words in shown.stdout, fmt
    assert f"answer,,scope,{words}" in run_cli("foi", "--db", str(db), "--format", "csv").stdout
    docx = tmp_path / "answer.docx"
    assert run_cli("foi", "--db", str(db), "--format", "docx", "--out", str(docx)).code == 0
    # The title (after the organisation's name, when the policy gives one) names the scope.
    assert any(f", {words}: " in p.text for p in Document(str(docx)).paragraphs[:2])
    out = tmp_path / "report"
    made = run_cli("report", "--db", str(db), "--out", str(out), "--format", "html,xlsx,csv")
    assert made.code == 0, made.stderr
    texts = {p.suffix: p.read_text(encoding="utf-8") for p in out.rglob("*") if p.suffix in (".html",)}
    assert f"domain:{TRUST.domain}" in texts[".html"]
    assert any(f"domain:{TRUST.domain}" in p.read_text(encoding="utf-8") for p in out.rglob("*.csv"))
    book = load_workbook(next(out.rglob("*.xlsx")), read_only=True)
    cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert any(f"domain:{TRUST.domain}" in c for c in cells)
