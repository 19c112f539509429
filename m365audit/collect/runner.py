"""One collection run: fetch from Graph, then load each source in its own transaction.

Network work happens before the database is opened for writing, and each
source (directory, audit, usage, labels) is committed atomically: a failure
or a kill leaves the database as it was before that step, and the run is
recorded as failed with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from m365audit.collect.auth import make_credential
from m365audit.collect.directory import collect_directory
from m365audit.collect.graph import GraphClient, RetryPolicy, parse_graph_url
from m365audit.collect.spool import SpoolFolder
from m365audit.errors import CollectionError, M365AuditError, UsageError
from m365audit.store.db import open_db
from m365audit.store.directory import DirectoryFiles, load_directory_snapshot
from m365audit.store.runs import finish_run, start_run

log = logging.getLogger("m365audit.collect")

SOURCES = ("licences", "audit", "usage", "labels")


@dataclass
class CollectOptions:
    db: Path
    graph_url: str
    auth: str = "environment"
    only: tuple[str, ...] = ("licences",)
    since: datetime | None = None
    until: datetime | None = None
    member_groups: list[str] = field(default_factory=list)
    policy: RetryPolicy = field(default_factory=RetryPolicy.from_env)
    credential: Any = None  # an already-built credential (tests, demo); else from ``auth``
    now: datetime | None = None  # snapshot time; tests set it to build history
    scope: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # options of the other sources


@dataclass
class CollectResult:
    run_id: str
    counts: dict[str, Any]
    seconds: float


ProgressFn = Callable[[str, int], None]

# Other sources register here (audit, usage, labels): name -> async step.
# A step fetches with the client and returns a function that loads what it
# fetched inside a transaction and returns counts.
SourceStep = Callable[[GraphClient, CollectOptions, SpoolFolder, "ProgressFn | None"], Any]
EXTRA_SOURCES: dict[str, SourceStep] = {}


def _discover_sources() -> None:
    """Each source module m365audit.collect.<name> defines ``async def step(...)``."""
    import importlib

    for name in SOURCES[1:]:
        try:
            module = importlib.import_module(f"m365audit.collect.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"m365audit.collect.{name}":
                raise
            continue
        EXTRA_SOURCES[name] = module.step


_discover_sources()


def parse_only(value: str | None) -> tuple[str, ...]:
    if not value:
        return ("licences", *EXTRA_SOURCES)
    chosen = tuple(v.strip().lower() for v in value.split(",") if v.strip())
    unknown = [v for v in chosen if v not in SOURCES]
    if unknown:
        raise UsageError(f"--only got {', '.join(unknown)}; choose from {', '.join(SOURCES)}.")
    return chosen


def collect(options: CollectOptions, progress: ProgressFn | None = None) -> CollectResult:
    target = parse_graph_url(options.graph_url)
    credential = options.credential or make_credential(options.auth)
    started = time.monotonic()
    taken_at = options.now or datetime.now(UTC)
    with open_db(options.db) as con:
        run_id = start_run(con, "collect", graph_url=target.root, scope=options.scope, started_at=taken_at)
    counts: dict[str, Any] = {}
    try:
        asyncio.run(_collect_async(options, target, credential, run_id, taken_at, counts, progress))
    except M365AuditError as exc:
        _record_failure(options.db, run_id, counts, exc.message)
        raise
    except BaseException as exc:
        _record_failure(options.db, run_id, counts, f"{type(exc).__name__}: {exc}")
        raise
    partial = partial_failure(counts)
    if partial:
        # What could be collected is committed; the run still fails so the operator sees the gap.
        _record_failure(options.db, run_id, counts, partial)
        raise CollectionError(partial)
    with open_db(options.db) as con:
        finish_run(con, run_id, status="succeeded", counts=counts)
    return CollectResult(run_id, counts, time.monotonic() - started)


def partial_failure(counts: dict[str, Any]) -> str | None:
    """One sentence naming what a source could not collect (its counts' "errors"), or None."""
    errors = [str(e) for value in counts.values() if isinstance(value, dict) for e in value.get("errors") or []]
    if not errors:
        return None
    shown = "; ".join(errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")
    return (f"Collection was incomplete ({shown}); everything else was saved, and the next run "
            "collects the missing part again.")


def _record_failure(db: Path, run_id: str, counts: dict[str, Any], message: str) -> None:
    try:
        with open_db(db) as con:
            finish_run(con, run_id, status="failed", counts=counts, error=message)
    except M365AuditError:
        log.warning("could not record the failed run %s", run_id)


async def _collect_async(options: CollectOptions, target: Any, credential: Any, run_id: str,
                         taken_at: datetime, counts: dict[str, Any], progress: ProgressFn | None) -> None:
    async with GraphClient(credential, target, policy=options.policy) as client:
        if "licences" in options.only:
            with SpoolFolder() as folder:
                spools = await collect_directory(client, folder, member_groups=options.member_groups,
                                                 progress=progress)
                files = DirectoryFiles(spools.skus.path, spools.users.path, spools.groups.path,
                                       spools.members.path)
                with open_db(options.db) as con:
                    _in_transaction(con, lambda: counts.__setitem__("licences", load_directory_snapshot(
                        con, files, run_id=run_id, taken_at=taken_at, scope=options.scope).__dict__))
        for name in options.only:
            if name == "licences":
                continue
            step = EXTRA_SOURCES.get(name)
            if step is None:
                raise CollectionError(f"Collecting {name} is not available in this version of m365audit.")
            with SpoolFolder() as folder:
                load = await step(client, options, folder, progress)
                with open_db(options.db) as con:
                    _in_transaction(con, lambda load=load, con=con, name=name: counts.__setitem__(
                        name, load(con, run_id)))


def _in_transaction(con: Any, work: Callable[[], Any]) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        work()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
