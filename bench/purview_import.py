"""Stage purview-import: ``m365audit import purview-audit`` of Purview CSV exports.

A child writes the export from the simulator's activity model (CopilotInteraction
records, in Purview's current column layout, streamed to disk row by row), then
another child imports it into a fresh database through the same function as the
CLI; the import child's wall time and peak memory are the figures.

Children: ``python -m bench.purview_import write|import ...``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.child import finish, run_child
from bench.stages import Row, Size, stage

RECORDS_PER_USER = 23  # CopilotInteraction records per user in 30 days, at the default rates
ROWS_BY_SIZE = {"smoke": (10_000,), "small": (200_000,), "medium": (200_000, 1_000_000),
                "large": (200_000, 1_000_000)}
COLUMNS = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData", "AssociatedAdminUnits",
           "AssociatedAdminUnitsNames"]


@stage("purview-import")
def run(size: Size) -> list[Row]:
    rows: list[Row] = []
    for count in size.extra.get("purview_rows") or ROWS_BY_SIZE.get(size.name, (size.records,)):
        with TemporaryDirectory(prefix="m365audit-bench-") as work:
            csv_path, db = Path(work) / "export.csv", Path(work) / "bench.duckdb"
            made = run_child("bench.purview_import", "write", "--rows", str(count), "--out", str(csv_path))
            done = run_child("bench.purview_import", "import", "--csv", str(csv_path), "--db", str(db))
            if done.output["imported"] != made.output["rows"]:
                raise RuntimeError(f"wrote {made.output['rows']} rows, imported {done.output['imported']}")
            rows.append(Row("purview-import", f"import {count:,}-row CSV ({made.output['mib']:,.0f} MiB)",
                            done.output["imported"], done.output["seconds"], done.peak_rss_mib,
                            db.stat().st_size / 2**20,
                            f"writing the CSV took {made.output['seconds']:.0f}s"
                            + (" (target < 25 s, < 1024 MiB)" if count >= 1_000_000 else "")))
    return rows


def write_child(args: argparse.Namespace) -> None:
    """Stream ``rows`` CopilotInteraction records to a Purview-layout CSV."""
    import csv
    from datetime import datetime

    import orjson

    from bench.simulator import ANCHOR
    from m365audit.simulator import Tenant, TenantConfig

    started = time.perf_counter()
    tenant = Tenant(TenantConfig(users=args.rows // RECORDS_PER_USER + 200, days=30, seed=1, anchor=ANCHOR))
    start, end = tenant.activity.window
    written = 0
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(COLUMNS)
        for record in tenant.activity.records(start, end, ["CopilotInteraction"]):
            ts = datetime.fromisoformat(record["CreationTime"])
            when = f"{ts.month}/{ts.day}/{ts.year} {ts.strftime('%I:%M:%S %p').lstrip('0')}"
            out.writerow([record["Id"], when, record["RecordType"], record["Operation"], record["UserId"],
                          orjson.dumps(record).decode(), "", ""])
            written += 1
            if written == args.rows:
                break
    finish({"rows": written, "seconds": time.perf_counter() - started,
            "mib": Path(args.out).stat().st_size / 2**20})


def import_child(args: argparse.Namespace) -> None:
    from m365audit.store.imports import import_purview_audit

    started = time.perf_counter()
    summary = import_purview_audit(Path(args.db), Path(args.csv))
    finish({"imported": summary.imported, "seconds": time.perf_counter() - started})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.purview_import")
    sub = parser.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("write")
    w.add_argument("--rows", type=int, required=True)
    w.add_argument("--out", required=True)
    i = sub.add_parser("import")
    i.add_argument("--csv", required=True)
    i.add_argument("--db", required=True)
    args = parser.parse_args()
    (write_child if args.mode == "write" else import_child)(args)


if __name__ == "__main__":
    main()
