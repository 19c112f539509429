"""Provenance: the scope of the collection, concealed usage-report names, periods and versions."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from m365audit import __version__
from m365audit.report.manager import write_reports
from tests.report.conftest import read_csv
from tests.report.tenant_data import REFRESH


@pytest.fixture(scope="module")
def scoped_and_concealed(report_db, policy, tmp_path_factory):
    """The test tenant as a scoped collection whose usage report hides names behind hashes."""
    db = tmp_path_factory.mktemp("concealed") / "db.duckdb"
    shutil.copy(report_db, db)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE runs SET scope = 'domain:example.gov.uk'")
        con.execute("UPDATE usage_report_rows SET names_concealed = true, "
                    "user_principal_name = upper(md5(user_principal_name)), display_name = NULL")
    out = db.parent / "out"
    write_reports(db=db, out=out, policy=policy)
    return out


def test_sources_say_when_and_what_period(report_dir, con) -> None:
    sources = {r["source"]: r for r in read_csv(report_dir / "csv" / "provenance.csv")}
    audit = sources["Purview audit log (Copilot interactions)"]
    first, last, count = con.execute(
        "SELECT min(created_at)::DATE::VARCHAR, max(created_at)::DATE::VARCHAR, count(*) FROM copilot_interactions"
    ).fetchone()
    assert (audit["status"], audit["period_from"], audit["period_to"], int(audit["rows"])) == \
        ("collected", first, last, count)
    usage = sources["Microsoft 365 Copilot usage report"]
    assert (usage["status"], usage["period_to"]) == ("collected", str(REFRESH))
    about = {r["item"]: r["value"] for r in read_csv(report_dir / "csv" / "about.csv")}
    assert about["Report tool version"] == f"m365audit {__version__}"
    assert about["Scope"] == "whole tenant"
    assert about["Idle after"] == "30 days without Copilot activity"


def test_scope_is_shown_everywhere(scoped_and_concealed) -> None:
    about = {r["item"]: r["value"] for r in read_csv(scoped_and_concealed / "csv" / "about.csv")}
    assert about["Scope"] == "domain:example.gov.uk"
    html = (scoped_and_concealed / "copilot-report.html").read_text(encoding="utf-8")
    assert "scope domain:example.gov.uk" in html


def test_concealed_names_are_marked_and_never_matched(scoped_and_concealed) -> None:
    sources = {r["source"]: r["status"] for r in read_csv(scoped_and_concealed / "csv" / "provenance.csv")}
    assert sources["Microsoft 365 Copilot usage report"] == "names concealed"
    rows = {r["measure"]: r["users"] for r in read_csv(scoped_and_concealed / "csv" / "reconciliation.csv")}
    assert rows["in_both"] == rows["audit_only_with_seat"] == rows["usage_report_only"] == ""
    assert int(rows["usage_report_active"]) > 0
    html = (scoped_and_concealed / "copilot-report.html").read_text(encoding="utf-8")
    assert "Concealed names" in html and "Org settings" in html
