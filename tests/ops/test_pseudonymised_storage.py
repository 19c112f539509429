"""Pseudonymised storage: no names at rest, the same joins and counts, the key checked on every load."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import duckdb
import pytest

from m365audit.errors import UsageError
from m365audit.store import pseudonym
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, collect_from, run_cli
from tests.ops.runhelp import run, write_config

KEY = "0123456789abcdef-pseudonym-key-for-tests"
STORAGE = "\n[storage]\npseudonymise = true\n"


def _names(tenant) -> list[str]:
    out = []
    for u in tenant.iter_users():
        out += [u.user_principal_name.lower(), u.display_name.lower(), u.mail.lower()]
    return out


def _text_columns(con) -> list[tuple[str, str]]:
    return con.execute("""
        SELECT table_name, column_name FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE t.table_type = 'BASE TABLE' AND c.data_type IN ('VARCHAR', 'JSON')""").fetchall()


def _found_names(db, names: list[str]) -> list[tuple[str, str, int]]:
    hits = []
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("CREATE TEMP TABLE _names AS SELECT unnest(?::VARCHAR[]) AS _name", [names])
        for table, column in _text_columns(con):
            n = con.execute(f'SELECT count(*) FROM "{table}" t JOIN _names ON contains(lower(t."{column}"::VARCHAR), '
                            "_name)").fetchone()[0]
            if n:
                hits.append((table, column, n))
    return hits


def test_nothing_personal_at_rest_and_licences_still_add_up(make_server, tmp_path) -> None:
    server = make_server(users=300)
    config = write_config(tmp_path, server.url, STORAGE)
    result = run(config, env={"M365AUDIT_STORAGE_KEY": KEY, "M365AUDIT_NOW": ANCHOR.isoformat()})
    assert result.code == 0, result.stderr
    db = tmp_path / "audit.duckdb"
    assert _found_names(db, _names(server.tenant)) == []
    licences = run_cli("licences", "--db", str(db), "--format", "json")
    summary = json.loads(licences.stdout)
    summary.pop("as_of")
    assert summary == server.tenant.expected_licence_summary()
    with duckdb.connect(str(db), read_only=True) as con:
        upn, name = con.execute("SELECT user_principal_name, display_name FROM users WHERE user_id = ?",
                                [server.tenant.user(0).id]).fetchone()
        ips = con.execute("SELECT count(*), count(client_ip) FROM copilot_interactions").fetchone()
    assert upn.startswith("p-") and upn.endswith("@example.gov.uk") and name.startswith("Person ")
    assert ips[0] > 0 and ips[1] == 0  # ClientIP is not kept with pseudonymised storage
    # The next night: a change arrives through the delta link and is pseudonymised the same way.
    server.tenant.override_user(0, department="Legal Services")
    assert run(config, env={"M365AUDIT_STORAGE_KEY": KEY}).code == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT user_principal_name, department FROM users WHERE user_id = ?",
                           [server.tenant.user(0).id]).fetchone() == (upn, "Legal Services")
    assert _found_names(db, _names(server.tenant)) == []


def test_the_key_is_required_and_must_not_change(make_server, tmp_path) -> None:
    server = make_server(users=20)
    config = write_config(tmp_path, server.url, STORAGE)
    assert run(config, env={"M365AUDIT_STORAGE_KEY": KEY}).code == 0
    other = run(config, env={"M365AUDIT_STORAGE_KEY": KEY[::-1]})
    assert other.code == 2 and "differs from the one this database was created with" in other.stderr
    plain = run(write_config(tmp_path, server.url, name="plain.toml"))
    assert plain.code == 2 and "This database stores pseudonyms" in plain.stderr
    assert KEY not in other.stderr + plain.stderr


def test_real_names_database_cannot_switch(make_server, tmp_path) -> None:
    server = make_server(users=20)
    db = tmp_path / "t.duckdb"
    collect_from(server, db)
    with pytest.raises(UsageError, match="already holds real names"):
        collect_from(server, db, pseudonym_key=pseudonym.PseudonymKey.from_secret(KEY.encode()))


def test_sql_hmac_is_hmac_sha256(tmp_path) -> None:
    key = pseudonym.PseudonymKey.from_secret(KEY.encode())
    with open_db(tmp_path / "t.duckdb") as con:
        pseudonym.install(con, key)
        got = con.execute("SELECT m365_hmac('upn', ' Jane.Smith@Example.gov.uk ')").fetchone()[0]
        upn = con.execute("SELECT m365_upn('Jane.Smith@Example.gov.uk')").fetchone()[0]
    want = hmac.new(KEY.encode(), b"upn:jane.smith@example.gov.uk", hashlib.sha256).hexdigest()
    assert got == want and upn == f"p-{want[:20]}@example.gov.uk"
    assert KEY not in repr(key)


def test_activity_rows_are_pseudonymised_as_they_land(make_server, tmp_path) -> None:
    server = make_server(users=20)
    db = tmp_path / "t.duckdb"
    key = pseudonym.PseudonymKey.from_secret(KEY.encode())
    collect_from(server, db, pseudonym_key=key)
    jane = server.tenant.user(2)
    upn = jane.user_principal_name.lower()
    site = f"https://ex-my.sharepoint.com/personal/{upn.replace('@', '_').replace('.', '_')}/Documents/x.docx"
    with open_db(db) as con:
        pseudonym.install(con, key)
        con.execute("INSERT INTO audit_records VALUES ('r1', now(), 'CopilotInteraction', 'CopilotInteraction', ?,"
                    " 'puid-1', 'org', 'graph', 'run-a', now(), ?)", [upn, json.dumps({"UserId": upn})])
        con.execute("INSERT INTO copilot_interaction_facts (record_id, created_at, user_principal_name, record_type,"
                    " operation, app_host, client_region, app, actor_type) VALUES ('r1', now(), ?,"
                    " 'CopilotInteraction', 'CopilotInteraction', 'Word', 'GBR', 'Word', 'person')", [upn])
        con.execute("INSERT INTO copilot_accessed_resource_facts VALUES ('r1', ?, 'x.docx', 'File', ?, NULL,"
                    " 'Read', 'Success', false, NULL, NULL, NULL)", [site, site])
        con.execute("INSERT INTO usage_report_rows (run_id, source, user_principal_name, display_name,"
                    " names_concealed, collected_at) VALUES ('run-a', 'graph-v1.0', ?, ?, false, now())",
                    [jane.user_principal_name, jane.display_name])
        for _ in range(2):  # a second pass changes nothing
            pseudonym.pseudonymise_loaded(con, "run-a")
            facts = con.execute("SELECT f.user_principal_name, f.user_id, u.user_principal_name"
                                " FROM copilot_interaction_facts f JOIN users u USING (user_id)").fetchall()
            assert facts == [(facts[0][2], jane.id, facts[0][2])]
            assert con.execute("SELECT audit_data, user_key LIKE 'k-%' FROM audit_records").fetchone() == (None, True)
            url = con.execute("SELECT site_url FROM copilot_accessed_resource_facts").fetchone()[0]
            assert url.startswith("https://ex-my.sharepoint.com/personal/p-") and upn.split("@")[0] not in url
            usage = con.execute("SELECT user_principal_name, display_name FROM usage_report_rows").fetchone()
            assert usage[0] == facts[0][2] and usage[1].startswith("Person ")
    assert _found_names(db, _names(server.tenant)) == []


def test_checks_reports_and_foi_work_on_pseudonyms(make_server, tmp_path) -> None:
    import zipfile

    server = make_server(users=300)
    policy = Path(__file__).resolve().parents[2] / "examples" / "policies" / "borough-council.toml"
    if not policy.exists():
        pytest.skip("the example policies are not part of this build")
    extra = (f'\n[checks]\npolicy = "{policy}"\n\n[foi]\nenabled = true\nformats = ["md", "csv"]\n'
             + STORAGE)
    result = run(write_config(tmp_path, server.url, extra),
                 env={"M365AUDIT_STORAGE_KEY": KEY, "M365AUDIT_NOW": ANCHOR.isoformat()})
    by_step = {s["step"]: s for s in (json.loads(line) for line in result.stderr.splitlines())
               if s.get("event") == "step"}
    assert result.code in (0, 1), result.stderr
    for step in ("collect", "check", "report", "foi"):
        assert by_step[step]["status"] == "ok", by_step[step]
    assert by_step["check"]["counts"]["failing_checks"] > 0  # the checks found their subjects through pseudonyms
    assert by_step["report"]["counts"]["files"] == 3
    names = [n for n in _names(server.tenant) if len(n) > 6]
    written = ""
    for path in (tmp_path / "reports").rglob("*"):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                written += " ".join(book.read(n).decode("utf-8", "replace") for n in book.namelist()).lower()
        elif path.is_file():
            written += path.read_text(errors="replace").lower()
    assert "@example.gov.uk" in written and "p-" in written  # pseudonyms where the names would be
    assert [n for n in names if n in written] == []
