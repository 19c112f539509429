"""`m365audit foi` as a user runs it: formats, the JSON shape, atomic --out and clean failures."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from m365audit.simulator import Tenant, TenantConfig
from m365audit.simulator import catalogue as cat
from tests.conftest import ANCHOR, assert_clean_failure, collect_from, run_cli


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    from m365audit.simulator import SimulatorServer, Tenant, TenantConfig

    path = tmp_path_factory.mktemp("foi-cli") / "t.duckdb"
    with SimulatorServer(Tenant(TenantConfig(users=300, seed=3, anchor=ANCHOR))) as server:
        collect_from(server, path, now=ANCHOR - timedelta(days=40))
        collect_from(server, path, now=ANCHOR)
    return path


def test_json_shape(db) -> None:
    result = run_cli("foi", "--db", str(db), "--format", "json", "--years", "2")
    assert result.code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert list(answer) == ["as_of", "scope", "organisation", "systems", "agents", "agent_purpose", "licences",
                            "departments", "expenditure", "suppression", "method", "officer_note"]
    assert answer["scope"] is None  # the whole tenant
    assert answer["as_of"] == "2026-11-02"
    assert [list(s) for s in answer["systems"]] == [
        ["name", "purpose", "entitled_users", "licensed_users", "active_users"]] * 2
    assert [list(row) for row in answer["licences"]] == [["product", "sku_part_number", "purchased", "assigned"]]
    assert {tuple(row) for row in answer["departments"]} == {("department", "licensed_users", "active_users")}
    assert {tuple(row) for row in answer["expenditure"]} == {
        ("financial_year", "start", "end", "amount", "currency", "basis", "held")}
    assert [(e["financial_year"], e["start"], e["end"], e["held"]) for e in answer["expenditure"]] == [
        ("2025-26", "2025-04-01", "2026-03-31", False),
        ("2026-27", "2026-04-01", "2026-09-22", False),
        ("2026-27", "2026-09-23", "2026-11-02", True),
    ]
    # No policy file: Microsoft's UK list price, 24.70 a seat a month, for the seats purchased from 23 September
    # (8 of September's 30 days, all October, 2 of November's 30 days); the officer is told where it came from.
    seats = Tenant(TenantConfig(users=300, seed=3, anchor=ANCHOR)).purchased_units(cat.COPILOT)
    expected = Fraction("24.70") * seats * (Fraction(8, 30) + 1 + Fraction(2, 30))
    assert answer["expenditure"][2]["amount"] == float(round(Decimal(expected.numerator) / expected.denominator, 2))
    assert answer["expenditure"][2]["basis"].startswith("Estimate from licence records, not from invoices")
    assert answer["officer_note"][1].startswith("No policy file was given: expenditure is estimated at "
                                                "Microsoft's published UK list price")
    assert answer["suppression"] == {"threshold": 5, "secondary_method": "next_smallest"}
    assert "are as recorded on 2 November 2026" in answer["method"]
    assert "from the licence snapshot taken on 2 November 2026" in answer["officer_note"][0]


@pytest.mark.parametrize("fmt", ["md", "csv"])
def test_text_formats_to_stdout(db, fmt) -> None:
    result = run_cli("foi", "--db", str(db), "--format", fmt)
    assert result.code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    organisation = json.loads(run_cli("foi", "--db", str(db), "--format", "json").stdout)["organisation"]
    whose = f", {organisation}" if organisation else ""
    assert first == (f"# Use of artificial intelligence{whose}: figures as at 2 November 2026" if fmt == "md"
                     else "section,item,measure,value")
    # The note for the officer goes to standard error, never into the answer.
    assert result.stderr.startswith("# Note for the FOI officer (do not send to the requester)")
    assert "m365audit" not in result.stdout


def test_out_is_written_atomically_and_replaces(db, tmp_path) -> None:
    out = tmp_path / "answer.docx"
    out.write_bytes(b"old")
    result = run_cli("foi", "--db", str(db), "--format", "docx", "--out", str(out), "--force")
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    from docx import Document

    document = Document(str(out))
    assert document.paragraphs[0].text == "Example Borough Council"  # the organisation, above the title
    assert document.paragraphs[1].text == (
        "Use of artificial intelligence, Example Borough Council: figures as at 2 November 2026")
    assert (tmp_path / "answer.officer-note.md").read_text(encoding="utf-8").startswith("# Note for the FOI officer")
    assert [t.rows[0].cells[0].text for t in document.tables] == ["System", "Licence", "Department",
                                                                  "Financial year"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answer.docx", "answer.officer-note.md"]  # no temporary file left


def test_failures_write_nothing(db, tmp_path) -> None:
    out = tmp_path / "answer.md"
    out.write_text("previous answer", encoding="utf-8")
    cases = [
        (("--format", "docx"), "pass --out"),
        (("--format", "pdf"), "not one of md, csv, json, docx"),
        (("--years", "0"), "--years must be between 1 and 20"),
        (("--as-of", "31/03/2026"), "not a date such as 2026-03-31"),
        (("--as-of", "2999-01-01"), "is in the future"),
        (("--as-of", "2026-01-01", "--out", str(out), "--force"), "no licence snapshot on or before 2026-01-01"),
        (("--out", str(tmp_path / "missing" / "a.md")), "does not exist"),
        (("--out", str(out)), "already exists; pass --force"),
        (("--policy", str(tmp_path / "nope.toml"), "--out", str(out), "--force"), "does not exist"),
    ]
    for args, message in cases:
        assert_clean_failure(run_cli("foi", "--db", str(db), *args), 2, message)
    assert out.read_text(encoding="utf-8") == "previous answer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answer.md"]
    assert_clean_failure(run_cli("foi", "--db", str(tmp_path / "none.duckdb")), 2, "No database")


def test_policy_file_sets_threshold_currency_and_year(db, tmp_path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[costs]\ncurrency = "EUR"\n[[costs.prices]]\nsku = "Microsoft_365_Copilot"\n'
                      'monthly_price = 31\nfrom = 2020-01-01\n[foi]\nsuppress_below = 10\n'
                      'financial_year_start_month = 1\nsecondary_suppression = "round_totals"\n'
                      'ai_skus = ["ENTERPRISEPACK"]\n', encoding="utf-8")
    result = run_cli("foi", "--db", str(db), "--format", "json", "--years", "1", "--policy", str(policy))
    assert result.code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["suppression"] == {"threshold": 10, "secondary_method": "round_totals"}
    assert [row["sku_part_number"] for row in answer["licences"]] == ["ENTERPRISEPACK", "Microsoft_365_Copilot"]
    expenditure = answer["expenditure"]
    assert [(e["financial_year"], e["start"], e["end"], e["currency"]) for e in expenditure] == [
        ("2026", "2026-01-01", "2026-09-22", "EUR"), ("2026", "2026-09-23", "2026-11-02", "EUR")]
    # ENTERPRISEPACK is now an AI licence but has no price: the held period is not estimated.
    assert expenditure[1]["amount"] is None and "Office 365 E3" in expenditure[1]["basis"]
    assert "Financial years run from 1 January to 31 December" in answer["method"]
