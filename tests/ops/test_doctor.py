"""`m365audit doctor` names what is missing and how to grant it."""

from __future__ import annotations

from m365audit.simulator.faults import deny_permissions
from m365audit.simulator.http import Response
from m365audit.store.db import open_db
from tests.conftest import ANCHOR, assert_clean_failure, collect_from, run_cli
from tests.ops.runhelp import FAST, write_config


def _lines(stdout: str) -> dict[str, str]:
    """name -> the line (and its fix line) for each check."""
    out: dict[str, str] = {}
    last = None
    for line in stdout.splitlines():
        if line.startswith(" ") and last:
            out[last] += "\n" + line.strip()
            continue
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0] in ("OK", "WARNING", "MISSING"):
            rest = parts[1] + " " + parts[2]
            name = next((n for n in NAMES if rest.startswith(n + " ")), parts[1])
            last = name
            out[name] = line
    return out


NAMES = ("Organization.Read.All", "User.Read.All", "GroupMember.Read.All", "AuditLogsQuery.Read.All",
         "Reports.Read.All", "SensitivityLabels.Read.All", "report names", "audit data", "Mail.Send",
         "configuration", "credential", "database", "collection", "writer", "pseudonym key")


def test_denied_permissions_are_named_with_how_to_grant(make_server, tmp_path) -> None:
    server = make_server(users=30)
    server.graph.hooks.append(deny_permissions({"AuditLogsQuery.Read.All", "Reports.Read.All"}))
    result = run_cli("doctor", "--config", str(write_config(tmp_path, server.url)), env=FAST)
    assert result.code == 3, result.stdout + result.stderr
    lines = _lines(result.stdout)
    for ok in ("configuration", "credential", "Organization.Read.All", "User.Read.All", "GroupMember.Read.All"):
        assert lines[ok].startswith("OK"), lines[ok]
    for missing in ("AuditLogsQuery.Read.All", "Reports.Read.All"):
        assert lines[missing].startswith("MISSING") and "not granted" in lines[missing]
        assert f"appRoles[?value=='{missing}'].id" in lines[missing]  # how to grant it
        assert "admin-consent" in lines[missing]
    assert lines["database"].startswith("WARNING") and "no database" in lines["database"]
    assert result.stdout.strip().splitlines()[-1].startswith("2 missing, ")


def test_concealed_report_names_and_audit_data(make_server, tmp_path) -> None:
    server = make_server(users=30)
    server.graph.hooks.append(lambda r: Response.json({"displayConcealedNames": True})
                              if r.path == "/admin/reportSettings" else None)
    config = write_config(tmp_path, server.url)
    db = tmp_path / "audit.duckdb"
    collect_from(server, db, now=ANCHOR)
    with open_db(db) as con:
        con.execute("INSERT INTO audit_records VALUES ('r1', ?, 'CopilotInteraction', 'CopilotInteraction',"
                    " 'a@example.gov.uk', NULL, 'org', 'graph', 'r', ?, NULL)", [ANCHOR, ANCHOR])
    result = run_cli("doctor", "--config", str(config), env={**FAST, "M365AUDIT_NOW": ANCHOR.isoformat()})
    lines = _lines(result.stdout)
    assert lines["report names"].startswith("WARNING") and "conceal user names" in lines["report names"]
    assert "Org settings > Reports" in lines["report names"]
    assert lines["audit data"].startswith("OK") and "1 audit records in the last 3 days" in lines["audit data"]
    assert lines["collection"].startswith("OK")
    assert lines["database"].startswith("OK")


def test_service_mailbox_is_looked_up(make_server, tmp_path) -> None:
    server = make_server(users=10)
    email = '\n[email]\nfrom = "{}"\nto = ["ict@example.gov.uk"]\nattach_xlsx = false\n'
    good = run_cli("doctor", "--config", str(write_config(tmp_path, server.url,
                                                          email.format("m365audit@example.gov.uk"))), env=FAST)
    assert _lines(good.stdout)["Mail.Send"].startswith("WARNING")  # exists; grant not visible in this token
    bad = run_cli("doctor", "--config", str(write_config(tmp_path, server.url, email.format("x@elsewhere.org"),
                                                         name="bad.toml")), env=FAST)
    assert bad.code == 3 and "does not exist in this tenant" in _lines(bad.stdout)["Mail.Send"]


def test_no_credential(make_server, tmp_path) -> None:
    server = make_server(users=10)
    result = run_cli("doctor", "--config", str(write_config(tmp_path, server.url)),
                     env={**FAST, "M365AUDIT_TOKEN": ""})
    assert result.code == 3
    assert _lines(result.stdout)["credential"].startswith("MISSING")
    assert "M365AUDIT_TOKEN" in result.stdout


def test_bad_config_is_exit_2(tmp_path) -> None:
    path = tmp_path / "m365audit.toml"
    path.write_text("[tenant]\nauth = 'password'\n")
    assert_clean_failure(run_cli("doctor", "--config", str(path)), 2, "line 2: tenant.auth")


def test_without_a_config_file_uses_the_environment(make_server, tmp_path) -> None:
    server = make_server(users=10)
    result = run_cli("doctor", "--db", str(tmp_path / "x.duckdb"), cwd=tmp_path,
                     env={**FAST, "M365AUDIT_GRAPH_URL": server.url, "M365AUDIT_AUTH": "token"})
    assert _lines(result.stdout)["User.Read.All"].startswith("OK"), result.stdout + result.stderr
