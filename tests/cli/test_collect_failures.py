"""Bad input and failures: one sentence, the documented exit code, nothing half-written."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from m365audit.simulator.http import Response, error_body
from tests.conftest import assert_clean_failure, closed_port, collect_from, run_cli, simulate_served

FAST = {"M365AUDIT_MAX_ATTEMPTS": "3", "M365AUDIT_RETRY_BASE_DELAY": "0.01", "M365AUDIT_TOKEN": "t0ken",
        "M365AUDIT_DB_WAIT": "0"}  # fail at once on a locked file instead of waiting for it


def _runs(db) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT status, error FROM runs ORDER BY started_at").fetchall()


def _snapshots(db) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM snapshots").fetchone()[0]


def test_unreachable_graph(tmp_path) -> None:
    db = tmp_path / "t.duckdb"
    result = run_cli("collect", "--db", str(db), "--graph-url", f"http://127.0.0.1:{closed_port()}/v1.0",
                     "--auth", "token", "--only", "licences", env=FAST)
    assert_clean_failure(result, 3, "Cannot reach Microsoft Graph", "connection refused")
    assert [status for status, _ in _runs(db)] == ["failed"]
    assert _snapshots(db) == 0


def test_plain_http_only_on_loopback(tmp_path) -> None:
    result = run_cli("collect", "--db", str(tmp_path / "t.duckdb"), "--graph-url", "http://graph.example.org/v1.0",
                     "--auth", "token", env=FAST)
    assert_clean_failure(result, 2, "plain http", "loopback")
    assert not (tmp_path / "t.duckdb").exists()


def test_graph_url_without_version(tmp_path) -> None:
    result = run_cli("collect", "--db", str(tmp_path / "t.duckdb"), "--graph-url", "https://graph.microsoft.com",
                     "--auth", "token", env=FAST)
    assert_clean_failure(result, 2, "/v1.0 or /beta")


def test_unknown_auth_mode_and_missing_token(tmp_path) -> None:
    result = run_cli("collect", "--db", str(tmp_path / "t.duckdb"), "--auth", "password", env=FAST)
    assert_clean_failure(result, 2, "Unknown --auth mode")
    env = {k: v for k, v in FAST.items() if k != "M365AUDIT_TOKEN"}
    result = run_cli("collect", "--db", str(tmp_path / "t.duckdb"), "--auth", "token", env={**env, "M365AUDIT_TOKEN": ""})
    assert_clean_failure(result, 2, "M365AUDIT_TOKEN")
    assert not (tmp_path / "t.duckdb").exists()


def test_refused_token(make_server, tmp_path) -> None:
    server = make_server(users=50, accepted_tokens={"the-right-token"})
    db = tmp_path / "t.duckdb"
    result = run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token",
                     "--only", "licences", env={**FAST, "M365AUDIT_TOKEN": "a-wrong-token"})
    assert_clean_failure(result, 3, "refused the access token", "401")
    assert "a-wrong-token" not in result.stderr
    assert _snapshots(db) == 0
    assert _runs(db)[0][0] == "failed"


def test_http_error_keeps_previous_snapshot(make_server, tmp_path) -> None:
    server = make_server(users=1200)  # two pages of 999
    db = tmp_path / "t.duckdb"
    collect_from(server, db)
    server.tenant.override_user(0, display_name="Changed")

    def fail_second_users_page(request):
        # The second run asks for changes through the stored delta link.
        if request.path.startswith("/users") and ({"$skiptoken", "$deltatoken"} & set(request.query)):
            return Response(500, error_body("InternalServerError", "boom"), {"Content-Type": "application/json"})
        return None

    server.graph.hooks.append(fail_second_users_page)
    result = run_cli("collect", "--db", str(db), "--graph-url", server.url, "--auth", "token",
                     "--only", "licences", env=FAST)
    assert_clean_failure(result, 3, "/users", "500 InternalServerError")
    assert _snapshots(db) == 1  # the failed run added no snapshot
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM user_versions WHERE display_name = 'Changed'").fetchone() == (0,)
    assert [s for s, _ in _runs(db)] == ["succeeded", "failed"]
    assert "500 InternalServerError" in _runs(db)[1][1]


def test_locked_database(tmp_path) -> None:
    db = tmp_path / "t.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(60)", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = run_cli("licences", "--db", str(db), env=FAST)
        assert_clean_failure(result, 2, "locked", str(holder.pid))
        result = run_cli("collect", "--db", str(db), "--graph-url", "http://127.0.0.1:9/v1.0", "--auth", "token", env=FAST)
        assert_clean_failure(result, 2, "locked")
    finally:
        holder.kill()
        holder.wait()


def test_not_a_database(tmp_path) -> None:
    db = tmp_path / "t.duckdb"
    db.write_text("this is not a database\n" * 100)
    result = run_cli("licences", "--db", str(db))
    assert_clean_failure(result, 2, str(db))
    result = run_cli("licences", "--db", str(tmp_path / "missing.duckdb"))
    assert_clean_failure(result, 2, "No database")
    assert not (tmp_path / "missing.duckdb").exists()


def test_bad_format_option(tmp_path) -> None:
    result = run_cli("licences", "--db", str(tmp_path / "x.duckdb"), "--format", "xml")
    assert result.code == 2 and "Traceback" not in result.stderr


def test_collect_against_separately_started_simulate(tmp_path) -> None:
    with simulate_served("--users", "700", "--seed", "4") as url:
        db = tmp_path / "t.duckdb"
        result = run_cli("collect", "--db", str(db), "--graph-url", url, "--auth", "token", "--only", "licences",
                         env=FAST)
        assert result.code == 0, result.stderr
    import json

    summary = json.loads(run_cli("licences", "--db", str(db), "--format", "json").stdout)
    from m365audit.simulator import Tenant, TenantConfig

    expected = Tenant(TenantConfig(users=700, seed=4)).expected_licence_summary()
    summary.pop("as_of")
    assert summary == expected


def test_memory_limit_setting_is_checked_and_applied(tmp_path) -> None:
    from m365audit.store.db import memory_limit_setting, open_db

    db = tmp_path / "m.duckdb"
    with open_db(db) as con:  # the default cap, as every command opens the file
        assert memory_limit_setting() == "512MB"
        assert con.execute("SELECT current_setting('memory_limit')").fetchone() == ("488.2 MiB",)
    result = run_cli("licences", "--db", str(db), env={"M365AUDIT_MEMORY_LIMIT": "lots"})
    assert_clean_failure(result, 2, "M365AUDIT_MEMORY_LIMIT='lots' is not a memory size like 512MB or 2GB")
    result = run_cli("licences", "--db", str(db), env={"M365AUDIT_MEMORY_LIMIT": "1GB"})
    assert_clean_failure(result, 2, "holds no licence snapshot")  # the setting was accepted
