"""`m365audit collect` of activity from the command line: failed slices, concealed names."""

from __future__ import annotations

from datetime import timedelta

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator.audit import service_for
from m365audit.simulator.behaviour import ApiBehaviour
from tests.conftest import ANCHOR, ANCHOR_CLOCK, assert_clean_failure, run_cli

ENV = {"M365AUDIT_TOKEN": "t0ken", "M365AUDIT_AUDIT_POLL_SECONDS": "0.01", "M365AUDIT_MAX_ATTEMPTS": "2",
       "M365AUDIT_RETRY_BASE_DELAY": "0.01", **ANCHOR_CLOCK}


def test_a_failed_audit_slice_exits_3_naming_the_slice(make_server, tmp_path) -> None:
    tenant = Tenant(TenantConfig(users=300, seed=2, days=3, anchor=ANCHOR))
    server = make_server(tenant)
    start = ANCHOR - timedelta(days=3)
    service_for(tenant).fail_query = lambda q: "cancelled"  # the query and its one replacement
    result = run_cli("collect", "--db", str(tmp_path / "c.duckdb"), "--graph-url", server.url, "--auth", "token",
                     "--only", "audit", "--since", start.isoformat(), "--until", ANCHOR.isoformat(), env=ENV)
    assert_clean_failure(result, 3, "audit records 2026-10-30T00:00:00Z to 2026-11-02T00:00:00Z: "
                                    "the audit log query cancelled", "next run collects the missing part")


def test_concealed_names_are_explained_on_the_command_line(make_server, tmp_path) -> None:
    server = make_server(Tenant(TenantConfig(users=300, seed=2, anchor=ANCHOR,
                                             api=ApiBehaviour(conceal_report_names=True))))
    result = run_cli("collect", "--db", str(tmp_path / "c.duckdb"), "--graph-url", server.url, "--auth", "token",
                     "--only", "usage", env=ENV)
    assert result.code == 0, result.stderr
    assert "Note: The Copilot usage report hides user names" in result.stderr
    assert "Settings > Org settings > Reports" in result.stderr
