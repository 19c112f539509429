"""Product names come from Microsoft's licensing reference, through the generated product_names.csv."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from m365audit.checks.catalogue import check_ids
from m365audit.foi.products import product_name
from m365audit.policy import load_policy
from m365audit.resources import resource_dir
from tests.conftest import samples_dir

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "licensing/Product names and service plan identifiers for licensing.csv"


def test_the_shipped_mapping_is_what_the_tool_generates_from_the_reference(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import product_names
    finally:
        sys.path.pop(0)
    out = tmp_path / "product_names.csv"
    product_names.write(product_names.product_rows(samples_dir() / REFERENCE), out)
    assert out.read_text(encoding="utf-8") == (ROOT / "m365audit" / "foi" / "product_names.csv").read_text(
        encoding="utf-8")


def test_names_by_sku_id_then_part_number() -> None:
    assert product_name("639dec6b-bb19-468b-871c-c5c441c4b0cb", "anything") == "Microsoft Copilot for Microsoft 365"
    assert product_name(None, "Microsoft_365_Copilot_EDU") == "Microsoft 365 Copilot (Education Faculty)"
    assert product_name("not-a-sku", "CONTOSO_AI") == "CONTOSO_AI"  # unknown: the code, not a guess


def test_every_example_policy_prices_its_copilot_seats_at_a_uk_list_price() -> None:
    for path in sorted((resource_dir("examples") / "policies").glob("*.toml")):
        policy = load_policy(path, check_ids())
        copilot = [(p.monthly_price, p.valid_from) for p in policy.prices if p.sku == "Microsoft_365_Copilot"]
        assert policy.currency == "GBP", path.name
        # The list price from general availability; the borough council pays monthly, 5% more from April 2025.
        later = [(25.94, date(2025, 4, 1))] if path.stem == "borough-council" else []
        assert copilot == [(24.70, date(2023, 11, 1)), *later], path.name
