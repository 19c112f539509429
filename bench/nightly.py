"""The nightly run of the reports stage: ``m365audit run`` on the demo's database, one night later.

The simulated tenant is the one ``m365audit demo`` collected (same users, seed,
plants and anchor) served one night later (``TenantConfig.extra_days``): the
directory and every earlier record are unchanged, and one new day of activity
follows the anchor. The run's clock is pinned (``M365AUDIT_NOW``) to the end
of that day, so the audit source collects from the demo's watermark, less the
overlap it re-reads, to the end of the new day. The run happens seconds after
the demo on the wall clock, which is what a landed audit query's age is measured
by (``requery_after_hours``: a window landed this recently is not queried again,
as after a rerun); a real nightly run comes a night later, long after that, and
re-reads its overlap. So the run's configuration sets ``requery_after_hours = 0``:
without it, new-day records timed before the demo's wall-clock time (records
that reached the log late, to the collector) would wait for the next run. The tenant is served by its
own child process, so its work is not counted in the run's CPU time; wall time
minus CPU time is what the run spent waiting, on Graph and its polling.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.reports import DAYS, SEED, timed
from bench.simulator import simulator
from bench.stages import Row

NEW_DAYS = 1
TOKEN = "m365audit-bench"  # the simulated tenant accepts any bearer token


def nightly(work: Path, db: Path, users: int, anchor: datetime) -> Row:
    """Run the nightly job over ``db`` (built by ``m365audit demo`` on the day ``anchor``)."""
    from m365audit.demo import demo_audit

    types = list(demo_audit().record_types)
    with simulator(users, DAYS, SEED, "--demo", "--anchor", anchor.isoformat(), "--extra-days", str(NEW_DAYS),
                   "--types", ",".join(types), "--port", str(demo_port(db))) as sim:
        config = write_config(work, db, sim["url"], types)
        env = {**os.environ, "M365AUDIT_TOKEN": TOKEN, "M365AUDIT_NOW": sim["until"]}
        result = timed("run", "--config", str(config), env=env)
    steps = step_lines(result.stderr)
    if any(s["status"] == "failed" for s in steps.values()):
        raise RuntimeError(f"the nightly run had a failed step: {result.stderr[-2000:]}")
    audit = steps["collect"]["counts"]["audit"]
    check_new_day(audit["new"], records_between(db, anchor, datetime.fromisoformat(sim["until"])),
                  sim["extra_records"])
    collect = steps["collect"]["seconds"]
    licences = steps["collect"]["counts"]["licences"]
    users_note = ("a full licence snapshot (the demo's port was taken)" if licences["full"]
                  else f"licences: {licences['changed_users']} users changed")
    rest = sum(s["seconds"] for name, s in steps.items() if name != "collect")
    waiting = result.seconds - result.cpu_seconds
    note = (f"received {audit['received']:,}, new {audit['new']:,} (the new day); collect {collect:.1f}s, "
            f"other steps {rest:.1f}s; CPU {result.cpu_seconds:.1f}s, waiting {waiting:.1f}s; {users_note} "
            "(target < 2 min + Graph time)")
    return Row("reports", f"nightly run: {NEW_DAYS} new day (`run`)", audit["received"], result.seconds,
               result.peak_rss_mib, db.stat().st_size / 2**20, note)


def check_new_day(new: int, stored: int, expected: int) -> None:
    """The run must land exactly the simulated tenant's new day: no more (the overlap), no less."""
    if new != expected:
        raise RuntimeError(f"the nightly run stored {new} new audit records; the simulated tenant "
                           f"has {expected} on its new day")
    if stored != expected:
        raise RuntimeError(f"the database holds {stored} audit records of the new day; the simulated tenant "
                           f"has {expected}")


def demo_port(db: Path) -> int:
    """The port the demo's tenant listened on: its users delta link, stored in the database, names it.

    A real nightly run follows last night's delta link; served elsewhere, the
    tenant would be another Graph root to the collector and get a full snapshot.
    """
    from urllib.parse import urlsplit

    from m365audit.store.db import open_db
    from m365audit.store.runs import get_state

    with open_db(db, read_only=True) as con:
        stored = get_state(con, "directory", "users_delta")
    if not stored:
        raise RuntimeError("the demo stored no users delta link")
    return urlsplit(json.loads(stored)["link"]).port or 0


def records_between(db: Path, start: datetime, end: datetime) -> int:
    from m365audit.store.db import open_db

    with open_db(db, read_only=True) as con:
        row = con.execute("SELECT count(*) FROM audit_records WHERE created_at >= ? AND created_at < ?",
                          [start, end]).fetchone()
    return int(row[0]) if row else 0


def write_config(work: Path, db: Path, url: str, types: list[str]) -> Path:
    """The nightly job's configuration: every source, the demo's policy, reports and FOI, no email."""
    from m365audit.demo import DEMO_POLICY, demo_audit
    from m365audit.resources import example_policy

    audit = demo_audit()
    path = work / "nightly.toml"
    path.write_text(f"""\
[tenant]
graph_url = {json.dumps(url)}
auth = "token"

[database]
path = {json.dumps(str(db))}

[audit]
record_types = {json.dumps(types)}
poll_initial = {audit.poll_initial}
poll_max = {audit.poll_max}
requery_after_hours = 0
concurrency = {audit.concurrency}

[checks]
policy = {json.dumps(str(example_policy(DEMO_POLICY)))}

[report]
folder = {json.dumps(str(work / "nightly-reports"))}

[foi]
enabled = true
""")
    return path


def step_lines(stderr: str) -> dict[str, dict[str, Any]]:
    """The run's step log lines (JSON lines, as stderr is not a terminal), by step."""
    steps: dict[str, dict[str, Any]] = {}
    for line in stderr.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == "step":
            steps[record["step"]] = record
    if "collect" not in steps:
        raise RuntimeError(f"the nightly run logged no collect step: {stderr[-2000:]}")
    return steps
