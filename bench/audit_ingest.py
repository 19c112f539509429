"""Stage audit-ingest: collect N CopilotInteraction records end to end, next to a plain baseline.

Ingest: the real collector (msgraph-sdk adapter, query per day, polling,
paging, spooling) and the loader (raw landing, SQL normalisation into the
copilot_* tables), timed from the first query's creation to the commit.

Baseline, over the same queries' pages in the same run: a bare httpx client
fetching every page (as many at once as the collector) to newline-delimited
JSON with no processing, then DuckDB ``read_json`` of that file. DuckDB parses a
file of megabyte-sized page lines far slower than one of record-sized lines,
so the baseline also times splitting the pages into one record per line, and
the faster of the two loads counts.

Children: ``python -m bench.audit_ingest collect|baseline ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench.child import finish, run_child
from bench.simulator import simulator
from bench.stages import Row, Size, stage

RECORDS_PER_USER = 23  # CopilotInteraction records per user in 30 days, at the default rates
CONCURRENCY = 4
COLUMNS = ("{'id': 'VARCHAR', 'createdDateTime': 'VARCHAR', 'auditLogRecordType': 'VARCHAR', "
           "'operation': 'VARCHAR', 'userPrincipalName': 'VARCHAR', 'auditData': 'JSON'}")


@stage("audit-ingest")
def run(size: Size) -> list[Row]:
    users = max(200, size.records // RECORDS_PER_USER)
    with simulator(users=users, days=30) as sim, TemporaryDirectory(prefix="m365audit-bench-") as work:
        db = Path(work) / "bench.duckdb"
        ingest = run_child("bench.audit_ingest", "collect", "--url", sim["url"], "--db", str(db),
                           "--since", sim["since"], "--until", sim["until"])
        base = run_child("bench.audit_ingest", "baseline", "--url", sim["url"], "--work", work)
    got, expected = ingest.output["records"], sim["records"]
    if got != expected or base.output["records"] != expected:
        raise RuntimeError(f"record counts differ: tenant {expected}, ingest {got}, baseline {base.output['records']}")
    fetch, pages, records = base.output["fetch_seconds"], base.output["load_pages_seconds"], \
        base.output["split_and_load_seconds"]
    best = min(pages, records)
    rows = [
        Row("audit-ingest", "ingest (collector + views)", got, ingest.output["seconds"], ingest.peak_rss_mib,
            ingest.output["db_mib"], f"{users:,} users x 30 days; {ingest.output['queries']} queries; landing "
            f"{ingest.output['land_seconds']:.0f} s of it, overlapping the fetch; CPU "
            f"{ingest.output['cpu_seconds']:.0f} s"),
        Row("audit-ingest", "baseline: fetch pages", got, fetch, base.peak_rss_mib,
            note=f"CPU {base.output['cpu_seconds']:.0f} s for fetch and both loads"),
        Row("audit-ingest", "baseline: read_json of page lines", got, pages),
        Row("audit-ingest", "baseline: split + read_json of record lines", got, records),
        Row("audit-ingest", "baseline: fetch + best load", got, fetch + best, base.peak_rss_mib),
    ]
    ratio = (fetch + best) / ingest.output["seconds"]
    rows.append(Row("audit-ingest", "ratio ingest / baseline", got, ingest.output["seconds"],
                    note=f"{ratio:.2f}x (target >= 1.0x)"))
    return rows


# ----- children -------------------------------------------------------------------------
def collect_child(args: argparse.Namespace) -> None:
    from datetime import datetime

    from m365audit.collect.audit_settings import AuditSettings
    from m365audit.collect.graph import RetryPolicy
    from m365audit.collect.runner import CollectOptions, collect
    from m365audit.demo import _DemoCredential

    options = CollectOptions(
        db=Path(args.db), graph_url=args.url, credential=_DemoCredential(), only=("audit",),
        since=datetime.fromisoformat(args.since), until=datetime.fromisoformat(args.until),
        policy=RetryPolicy(max_attempts=3, base_delay=0.1),
        audit=AuditSettings(poll_initial=0.05, poll_max=0.5, concurrency=CONCURRENCY))
    started = time.perf_counter()
    result = collect(options)
    seconds = time.perf_counter() - started
    finish({"records": result.counts["audit"]["new"], "seconds": seconds,
            "land_seconds": result.counts["audit"]["land_seconds"], "queries": result.counts["audit"]["queries"],
            "db_mib": Path(args.db).stat().st_size / 2**20})


def baseline_child(args: argparse.Namespace) -> None:
    import duckdb

    work = Path(args.work)
    pages_file, records_file = work / "pages.ndjson", work / "records.ndjson"
    started = time.perf_counter()
    pages = asyncio.run(_fetch_all(args.url, pages_file))
    fetch = time.perf_counter() - started
    with duckdb.connect(str(work / "baseline.duckdb")) as con:
        started = time.perf_counter()
        con.execute(f"CREATE TABLE by_page AS SELECT unnest(value, recursive := false) AS r "
                    f"FROM read_json('{pages_file}', columns={{'value': 'JSON[]'}}, maximum_object_size=67108864)")
        load_pages = time.perf_counter() - started
        started = time.perf_counter()
        _split(pages_file, records_file)
        con.execute(f"CREATE TABLE by_record AS SELECT * FROM read_json('{records_file}', columns={COLUMNS})")
        split_and_load = time.perf_counter() - started
        count = con.execute("SELECT count(*) FROM by_record").fetchone()[0]  # type: ignore[index]
    finish({"records": count, "pages": pages, "fetch_seconds": fetch, "load_pages_seconds": load_pages,
            "split_and_load_seconds": split_and_load})


async def _fetch_all(url: str, out: Path) -> int:
    import httpx

    headers = {"Authorization": "Bearer m365audit-bench"}
    async with httpx.AsyncClient(headers=headers, timeout=120) as http:
        listing = (await http.get(f"{url}/security/auditLog/queries")).json()["value"]
        ids = [q["id"] for q in listing if q.get("status") == "succeeded" and not q.get("isRecordCountLimitExceeded")]
        semaphore = asyncio.Semaphore(CONCURRENCY)
        with out.open("wb") as sink:
            counts = await asyncio.gather(*(_fetch_query(http, f"{url}/security/auditLog/queries/{q}/records",
                                                         sink, semaphore) for q in ids))
    return sum(counts)


async def _fetch_query(http: Any, url: str | None, sink: Any, semaphore: asyncio.Semaphore) -> int:
    import orjson

    pages = 0
    async with semaphore:
        while url:
            body = (await http.get(url)).content
            sink.write(body + b"\n")
            pages += 1
            url = orjson.loads(body).get("@odata.nextLink")
    return pages


def _split(pages_file: Path, records_file: Path) -> None:
    import orjson

    with pages_file.open("rb") as src, records_file.open("wb") as out:
        for line in src:
            out.write(b"".join(orjson.dumps(r) + b"\n" for r in orjson.loads(line)["value"]))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_ingest")
    sub = parser.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("collect")
    for name in ("--url", "--db", "--since", "--until"):
        c.add_argument(name, required=True)
    b = sub.add_parser("baseline")
    b.add_argument("--url", required=True)
    b.add_argument("--work", required=True)
    args = parser.parse_args()
    (collect_child if args.mode == "collect" else baseline_child)(args)


if __name__ == "__main__":
    main()
