"""The demo: simulated tenant on a free loopback port -> real collector -> DuckDB.

The demo writes to a temporary file and moves it into place at the end, so an
interrupted demo leaves no half-built database. It refuses to replace a
database that holds collections from a real tenant.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m365audit.checks.catalogue import check_ids
from m365audit.errors import UsageError
from m365audit.progress import Progress

if TYPE_CHECKING:
    from m365audit.collect.audit_settings import AuditSettings

DEMO_TOKEN = "m365audit-demo-token"
DEMO_POLICY = "borough-council"  # examples/policies/<this>.toml: the policy `demo --out` checks and reports with


def demo_audit() -> AuditSettings:
    """The demo's audit settings. The simulated tenant answers at once: poll its audit queries briskly,
    and collect the third-party AI records too so the demo database shows what the policy checks look for."""
    from m365audit.collect.audit_settings import AuditSettings

    return AuditSettings(poll_initial=0.05, poll_max=0.5, concurrency=6,
                         record_types=("CopilotInteraction", "AIAppInteraction"))


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


def run_demo(*, db: Path, users: int = 2000, days: int = 90, seed: int = 1, out: Path | None = None,
             progress: Progress | None = None, replace: bool = False,
             history: bool = True) -> dict[str, Any]:
    from m365audit.checks.runner import check_database
    from m365audit.collect.runner import EXTRA_SOURCES, CollectOptions, collect
    from m365audit.outputs import check_file, check_folder, protected_paths
    from m365audit.policy import load_policy
    from m365audit.report.licences import licence_summary
    from m365audit.report.manager import FORMATS, report_names
    from m365audit.resources import example_policy
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
    shown, phases = progress or Progress("demo"), 2 + (out is not None) + history
    shown.advance("demo", unit="phases", total=phases, doing="building the simulated tenant")
    # A clean population plus a documented set of planted violations (simulator/planted.py),
    # so `m365audit check` on the demo lists exactly those.
    tenant = demo_tenant(users, days, seed)
    until = datetime.now(UTC)
    try:
        with SimulatorServer(tenant, accepted_tokens={DEMO_TOKEN}) as server:
            if history:
                shown.advance("demo", 1, doing="collecting a licence snapshot for each month")
            last = _collect_history(tmp, server.url, tenant, until, shown.within(phase="history")) if history else None
            if out is not None and last is not None:
                # Last month's check run, so the report's changes show what is new and what was fixed since.
                check_database(tmp, load_policy(example_policy(DEMO_POLICY), check_ids()), last)
            options = CollectOptions(
                db=tmp, graph_url=server.url, credential=_DemoCredential(),
                only=("licences", *EXTRA_SOURCES), member_groups=[cat.GROUP_TRAINED],
                since=until - timedelta(days=days), until=until, audit=demo_audit())
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


def _collect_history(db: Path, url: str, tenant: Any, until: datetime, progress: Progress) -> datetime | None:
    """Licence snapshots on the first of each month back to the start of the financial year three years
    ago (simulator/history.py), each collected by the real collector from the tenant as it stood then;
    the tenant is left as it is today for the full collection that follows. Returns the last one's time."""
    from m365audit.collect.runner import CollectOptions, collect
    from m365audit.simulator import catalogue as cat
    from m365audit.simulator.history import SeatHistory, history_dates
    from m365audit.simulator.planted import former_seats

    history = SeatHistory(tenant, former_seats(tenant))
    dates = history_dates(until)
    for when in dates:
        history.show(when)
        collect(CollectOptions(db=db, graph_url=url, credential=_DemoCredential(), only=("licences",),
                               member_groups=[cat.GROUP_TRAINED], now=when))
        progress.advance("licence snapshots", 1, unit="snapshots", total=len(dates), month=f"{when:%Y-%m}")
    progress.finish("licence snapshots", count=len(dates))
    history.show(None)
    return dates[-1] if dates else None


# Per financial year (April to March, as simulator/history.py builds it): the licence snapshots held and the
# Copilot seats at the year's last one, from the skus_at view (the one definition of purchased and assigned).
_SEAT_HISTORY = """
WITH snaps AS (
    SELECT taken_at, timezone('UTC', taken_at) AS utc,
           year(utc) - CASE WHEN month(utc) < 4 THEN 1 ELSE 0 END AS fy
    FROM snapshots
),
years AS (SELECT fy, count(*) AS snapshots, min(taken_at) AS first_at, max(taken_at) AS last_at FROM snaps GROUP BY fy)
SELECT fy || '-' || lpad(((fy + 1) % 100)::VARCHAR, 2, '0') AS financial_year, snapshots,
       timezone('UTC', first_at)::DATE AS first_day, timezone('UTC', last_at)::DATE AS last_day,
       (SELECT coalesce(sum(purchased), 0) FROM skus_at(last_at) WHERE is_copilot) AS purchased,
       (SELECT coalesce(sum(assigned), 0) FROM skus_at(last_at) WHERE is_copilot) AS assigned
FROM years ORDER BY fy
"""


def seat_history(db: Path) -> list[dict[str, Any]]:
    """The demo database's licence history, one row per financial year."""
    from m365audit.store.db import open_db

    with open_db(db, read_only=True) as con:
        cursor = con.execute(_SEAT_HISTORY)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _write_reports(db: Path, out: Path, replace: bool) -> None:
    """Check the demo against the example borough council's policy, then write the reports with it.

    The demo tenant is that council, so the report's compliance section lists
    the planted violations (simulator/planted.py) and the idle-seat threshold is the policy's.
    """
    from m365audit.checks.runner import check_database
    from m365audit.policy import load_policy
    from m365audit.report.manager import write_reports
    from m365audit.resources import example_policy

    policy = load_policy(example_policy(DEMO_POLICY), check_ids())
    check_database(db, policy, datetime.now(UTC))
    write_reports(db=db, out=out, policy=policy, replace=replace)
