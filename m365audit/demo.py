"""The demo: simulated tenant on a free loopback port -> real collector -> DuckDB.

The demo writes to a temporary file and moves it into place at the end, so an
interrupted demo leaves no half-built database. It refuses to replace a
database that holds collections from a real tenant.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from m365audit.errors import UsageError
from m365audit.progress import Progress

DEMO_TOKEN = "m365audit-demo-token"
# The simulated tenant answers at once: poll its audit queries briskly, and collect the
# third-party AI records too so the demo database shows what the policy checks look for.
DEMO_EXTRA = {"audit_poll_initial": 0.05, "audit_poll_max": 0.5, "audit_concurrency": 6,
              "audit_record_types": ["CopilotInteraction", "AIAppInteraction"]}
DEMO_POLICY = "borough-council"  # examples/policies/<this>.toml: the policy `demo --out` checks and reports with


class _DemoCredential:
    """The simulated tenant accepts this fixed token; no secret is involved."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(DEMO_TOKEN, int(datetime.now(UTC).timestamp()) + 3600)


def _is_demo_database(path: Path) -> bool:
    import duckdb

    from m365audit.store.db import connection_config, recognise_database, recognise_file

    recognise_file(path)  # another program's file is refused, not replaced
    try:
        with duckdb.connect(str(path), read_only=True, config=connection_config()) as con:
            if not recognise_database(con, path):
                return True  # an empty DuckDB file holds nothing to lose
            rows = con.execute("SELECT DISTINCT graph_url FROM runs").fetchall()
    except duckdb.Error:
        return False
    return all(url is None or url.startswith(("http://127.0.0.1", "http://localhost")) for (url,) in rows)


def run_demo(*, db: Path, users: int = 2000, days: int = 30, seed: int = 1, out: Path | None = None,
             progress: Progress | None = None, replace: bool = False) -> dict[str, Any]:
    from m365audit.collect.runner import EXTRA_SOURCES, CollectOptions, collect
    from m365audit.outputs import check_file, check_folder, protected_paths
    from m365audit.report.licences import licence_summary
    from m365audit.report.manager import FORMATS, report_names
    from m365audit.simulator import SimulatorServer
    from m365audit.simulator import catalogue as cat
    from m365audit.simulator.planted import demo_tenant
    from m365audit.store.db import open_db

    # The demo replaces its own database file: never a link, a device or a foreign file.
    check_file(db, option="--db", force=True)
    if out is not None:
        check_folder(out, option="--out", replace=replace, protected=protected_paths(db),
                     names=report_names(FORMATS, None))
    if db.exists() and not _is_demo_database(db):
        raise UsageError(f"{db} holds data from a real tenant; the demo will not replace it. Pass --db demo.duckdb.")
    tmp = db.with_name(db.name + ".demo-tmp")
    tmp.unlink(missing_ok=True)
    shown, phases = progress or Progress("demo"), 3 if out is not None else 2
    shown.advance("demo", unit="phases", total=phases, doing="building the simulated tenant")
    # A clean population plus a documented set of planted violations (simulator/planted.py),
    # so `m365audit check` on the demo lists exactly those.
    tenant = demo_tenant(users, days, seed)
    until = datetime.now(UTC)
    try:
        with SimulatorServer(tenant, accepted_tokens={DEMO_TOKEN}) as server:
            options = CollectOptions(
                db=tmp, graph_url=server.url, credential=_DemoCredential(),
                only=("licences", *EXTRA_SOURCES), member_groups=[cat.GROUP_TRAINED],
                since=until - timedelta(days=days), until=until, extra=DEMO_EXTRA)
            shown.advance("demo", 1, doing="collecting with the real collector")
            collect(options, shown.within(phase="collect"))
        os.replace(tmp, db)
    finally:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    with open_db(db, read_only=True) as con:
        summary = licence_summary(con)
    if out is not None:
        shown.advance("demo", 1, doing="checking the example policy and writing the reports")
        _write_reports(db, out, replace)
    shown.finish("demo", count=phases)
    return summary


def _write_reports(db: Path, out: Path, replace: bool) -> None:
    """Check the demo against the example borough council's policy, then write the reports with it.

    The demo tenant is that council, so the report's compliance section lists
    the planted violations (simulator/planted.py) and the idle-seat threshold is the policy's.
    """
    from m365audit.checks.runner import check_database
    from m365audit.policy import load_policy
    from m365audit.report.manager import write_reports
    from m365audit.resources import example_policy

    policy = load_policy(example_policy(DEMO_POLICY))
    check_database(db, policy, datetime.now(UTC))
    write_reports(db=db, out=out, policy=policy, replace=replace)
