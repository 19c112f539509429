"""A database holding licences only still reports, and says plainly what it could not count."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from m365audit.report.manager import write_reports
from m365audit.simulator import SimulatorServer, Tenant, TenantConfig
from tests.conftest import ANCHOR, collect_from, run_cli
from tests.report.conftest import read_csv


@pytest.fixture(scope="module")
def licences_only(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("licences-only") / "db.duckdb"
    with SimulatorServer(Tenant(TenantConfig(users=150, anchor=ANCHOR))) as server:
        collect_from(server, db, now=ANCHOR)
    out = db.parent / "out"
    write_reports(db=db, out=out)
    return out


def test_activity_figures_are_blank_not_zero(licences_only) -> None:
    headline = {r["measure"]: r["value"] for r in read_csv(licences_only / "csv" / "headline.csv")}
    assert float(headline["seat_holders"]) > 0
    assert headline["active_30_days"] == headline["idle_seats"] == headline["idle_monthly_cost"] == ""
    assert read_csv(licences_only / "csv" / "reclaim.csv") == []


def test_sections_without_data_say_why(licences_only) -> None:
    html = (licences_only / "copilot-report.html").read_text(encoding="utf-8")
    # reclaim, reassign, adoption, labels, first use, agents, reconciliation, compliance
    assert html.count("Not available.") == 8
    assert "No Copilot activity has been collected" in html
    assert "Copilot Chat use by people without a seat is read from the audit log" in html
    assert "Compliance was not checked" in html
    assert "A trend needs more than one snapshot" in html
    sources = {r["source"]: r["status"] for r in read_csv(licences_only / "csv" / "provenance.csv")}
    assert sources == {
        "Licences and users (directory snapshot)": "collected",
        "Purview audit log (Copilot interactions)": "missing",
        "Microsoft 365 Copilot usage report": "missing",
        "Sensitivity label catalogue": "missing",
        "Policy checks (m365audit check)": "not checked",
    }


def test_demo_writes_the_reports(tmp_path) -> None:
    out = tmp_path / "reports"
    result = run_cli("demo", "--users", "120", "--days", "2", "--db", str(tmp_path / "demo.duckdb"),
                     "--out", str(out))
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [".m365audit-output", "copilot-report.html",
                                                     "copilot-report.xlsx", "csv"]
    # The demo checks its tenant against the example council policy, so the report covers compliance.
    sources = {r["source"]: r["status"] for r in read_csv(out / "csv" / "provenance.csv")}
    assert sources["Policy checks (m365audit check)"] == "checked", sources


def test_usage_report_stands_in_for_a_missing_audit_log(report_db, policy, tmp_path) -> None:
    db = tmp_path / "usage-only.duckdb"
    shutil.copy(report_db, db)
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM copilot_interaction_facts; DELETE FROM copilot_accessed_resource_facts; "
                    "DELETE FROM audit_records")
        expected = con.execute("""
            SELECT count(*) FILTER (WHERE c.last_activity_date > DATE '2026-11-02' - 30),
                   count(*) FILTER (WHERE c.last_activity_date > DATE '2026-11-02' - 7)
            FROM (SELECT DISTINCT user_id FROM licence_assignments WHERE holds_copilot_seat) h
            JOIN users u USING (user_id)
            JOIN copilot_usage c ON lower(c.user_principal_name) = lower(u.user_principal_name)""").fetchone()
    write_reports(db=db, out=tmp_path / "out", formats="csv,html", policy=policy)
    headline = {r["measure"]: r["value"] for r in read_csv(tmp_path / "out" / "csv" / "headline.csv")}
    assert (float(headline["active_30_days"]), float(headline["active_7_days"])) == expected
    assert expected[0] > 0
    assert read_csv(tmp_path / "out" / "csv" / "reclaim.csv")  # idle seats are still found
    html = (tmp_path / "out" / "copilot-report.html").read_text(encoding="utf-8")
    assert "Reconciliation needs both sources; the audit log has not been collected." in html
