"""Generate m365audit/foi/product_names.csv from Microsoft's licensing reference.

Microsoft publishes "Product names and service plan identifiers for licensing" as a CSV
(https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference,
"Download the CSV"). It has one row per product and service plan; FOI answers need only
each product's display name by SKU id and part number (String_Id), so this keeps one
row per product. The CSV itself is not shipped; run this when Microsoft updates it:

    .venv/bin/python tools/product_names.py "path/to/Product names and service plan identifiers for licensing.csv"
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "m365audit" / "foi" / "product_names.csv"


def product_rows(reference: Path) -> list[tuple[str, str, str]]:
    """(sku_id, sku_part_number, product_name), one per product, sorted by part number."""
    with reference.open(encoding="utf-8-sig", newline="") as handle:
        rows = {(r["GUID"].strip().lower(), r["String_Id"].strip(), " ".join(r["Product_Display_Name"].split()))
                for r in csv.DictReader(handle)}
    return sorted(rows, key=lambda r: (r[1].casefold(), r[0]))


def write(rows: list[tuple[str, str, str]], out: Path = OUT) -> None:
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("sku_id", "sku_part_number", "product_name"))
        writer.writerows(rows)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rows = product_rows(Path(argv[0]))
    write(rows)
    print(f"wrote {len(rows)} products to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
