"""``python -m bench [--smoke | --size NAME | --records N] [--stage NAME ...]``: run and print the table."""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench.stages import Row, Size, load_stages

SIZES = {
    "smoke": Size("smoke", 20_000),
    "small": Size("small", 100_000),
    "medium": Size("medium", 1_000_000),
    "large": Size("large", 5_000_000),
}


def main(argv: list[str] | None = None) -> int:
    stages = load_stages()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="the small size CI runs (about 20,000 records)")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--records", type=int, help="aim for this many audit records instead of a named size")
    parser.add_argument("--stage", action="append", choices=sorted(stages), help="run only these stages")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args(argv)
    size = SIZES["smoke" if args.smoke else args.size]
    if args.records:
        size = Size(f"{args.records:,} records", args.records)
    rows: list[Row] = []
    for name in args.stage or sorted(stages):
        print(f"running {name} ({size.name}) ...", file=sys.stderr, flush=True)
        rows += stages[name](size)
    print(render(rows, size))
    if args.json:
        print(json.dumps([{**r.__dict__, "rate": r.rate} for r in rows], indent=2))
    return 0


def render(rows: list[Row], size: Size) -> str:
    from bench.licences import machine

    head = f"m365audit benchmark, size {size.name}: {machine()}; load average {os.getloadavg()[0]:.1f} at the end"
    lines = [head, "", f"{'stage':<14} {'what':<46} {'records':>10} {'seconds':>8} {'records/s':>10} "
             f"{'peak MiB':>9} {'db MiB':>7}  note"]
    for r in rows:
        peak = f"{r.peak_rss_mib:.0f}" if r.peak_rss_mib is not None else ""
        db = f"{r.db_mib:.0f}" if r.db_mib is not None else ""
        lines.append(f"{r.stage:<14} {r.what:<46} {r.records:>10,} {r.seconds:>8.1f} {r.rate:>10,.0f} "
                     f"{peak:>9} {db:>7}  {r.note}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
