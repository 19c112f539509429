"""One collection run: fetch from Graph, then load each source in its own transaction.

Network work happens before the database is opened for writing, and each
source (directory, audit, usage, labels) is committed atomically: a failure
or a kill leaves the database as it was before that step, and the run is
recorded as failed with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from m365audit.collect.auth import make_credential
from m365audit.collect.directory import USER_SELECT, collect_directory
from m365audit.collect.graph import GraphClient, RetryPolicy, parse_graph_url
from m365audit.collect.spool import SpoolFolder, remove_leftovers, spool_root
from m365audit.errors import CollectionError, M365AuditError, UsageError
from m365audit.store import pseudonym
from m365audit.store.db import lock_wait, open_db
from m365audit.store.directory import DirectoryFiles, load_directory_snapshot
from m365audit.store.lock import writer_lock
from m365audit.store.pseudonym import PseudonymKey
from m365audit.store.runs import close_interrupted_runs, finish_run, get_state, set_state, start_run

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
    pseudonym_key: PseudonymKey | None = None  # store keyed pseudonyms instead of names
    command: str = "collect"  # recorded in runs and in the writer lock ("run" for the nightly job)


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
    """Collect under the single-writer lock; a second collector stops at once (exit 2)."""
    target = parse_graph_url(options.graph_url)
    credential = options.credential or make_credential(options.auth)
    with writer_lock(options.db, options.command) as previous:
        if previous is not None:
            log.warning("%s ended without finishing; its uncommitted work was discarded",
                        previous.describe().replace("another ", "the previous ", 1))
        removed = remove_leftovers(options.db)
        if removed:
            log.info("deleted %d spool folder(s) left by an interrupted run", removed)
        try:
            return _collect_locked(options, target, credential, progress)
        finally:
            with contextlib.suppress(OSError):
                spool_root(options.db).rmdir()  # only when empty


def _collect_locked(options: CollectOptions, target: Any, credential: Any,
                    progress: ProgressFn | None) -> CollectResult:
    started = time.monotonic()
    taken_at = options.now or datetime.now(UTC)
    with _writer_db(options) as con:
        close_interrupted_runs(con)
        run_id = start_run(con, options.command, graph_url=target.root, scope=options.scope,
                           started_at=taken_at)
    counts: dict[str, Any] = {}
    try:
        asyncio.run(_collect_async(options, target, credential, run_id, taken_at, counts, progress))
    except M365AuditError as exc:
        _record_failure(options.db, run_id, counts, exc.message)
        raise
    except BaseException as exc:
        _record_failure(options.db, run_id, counts, f"{type(exc).__name__}: {exc}")
        raise
    with open_db(options.db, wait=_writer_wait()) as con:
        finish_run(con, run_id, status="succeeded", counts=counts)
    return CollectResult(run_id, counts, time.monotonic() - started)


def _writer_wait() -> float:
    # The collector has fetched its data before it opens the file: waiting a
    # while for a report that is reading the file beats losing the fetch.
    return lock_wait(default=300.0)


def _record_failure(db: Path, run_id: str, counts: dict[str, Any], message: str) -> None:
    try:
        with open_db(db, wait=_writer_wait()) as con:
            finish_run(con, run_id, status="failed", counts=counts, error=message)
    except M365AuditError:
        log.warning("could not record the failed run %s", run_id)


async def _collect_async(options: CollectOptions, target: Any, credential: Any, run_id: str,
                         taken_at: datetime, counts: dict[str, Any], progress: ProgressFn | None) -> None:
    async with GraphClient(credential, target, policy=options.policy) as client:
        if "licences" in options.only:
            counts["licences"] = await _directory_step(client, options, target.root, run_id, taken_at, progress)
        for name in options.only:
            if name == "licences":
                continue
            step = EXTRA_SOURCES.get(name)
            if step is None:
                raise CollectionError(f"Collecting {name} is not available in this version of m365audit.")
            with SpoolFolder(parent=spool_root(options.db)) as folder:
                load = await step(client, options, folder, progress)
                with _writer_db(options) as con:
                    counts[name] = _in_transaction(con, functools.partial(_load_activity, con, load, run_id))


def _load_activity(con: Any, load: Callable[[Any, str], Any], run_id: str) -> Any:
    result = load(con, run_id)
    if pseudonym.is_pseudonymised(con):
        pseudonym.pseudonymise_loaded(con, run_id)
    return result


async def _directory_step(client: GraphClient, options: CollectOptions, root: str, run_id: str,
                          taken_at: datetime, progress: ProgressFn | None) -> dict[str, Any]:
    """Fetch the directory (changes only, when a usable delta link is stored), then load it atomically."""
    with _writer_db(options) as con:
        stored = get_state(con, "directory", "users_delta")
    link = _usable_delta_link(stored, root, options.scope)
    with SpoolFolder(parent=spool_root(options.db)) as folder:
        spools = await collect_directory(client, folder, member_groups=options.member_groups,
                                         delta_link=link, progress=progress)
        files = DirectoryFiles(spools.skus.path, spools.users.path, spools.groups.path, spools.members.path)
        state = _delta_state(spools.delta_link, options.scope)

        def load(con: Any) -> dict[str, Any]:
            counts = load_directory_snapshot(con, files, run_id=run_id, taken_at=taken_at, scope=options.scope,
                                             users_full=spools.users_full)
            set_state(con, "directory", "users_delta", state, run_id)  # in the snapshot's transaction
            return dict(counts.__dict__)

        with _writer_db(options) as con:
            result: dict[str, Any] = _in_transaction(con, lambda: load(con))
            return result


def _delta_state(link: str | None, scope: str | None) -> str | None:
    if link is None:
        return None
    return orjson.dumps({"link": link, "select": USER_SELECT, "scope": scope}).decode()


def _usable_delta_link(stored: str | None, root: str, scope: str | None) -> str | None:
    """The stored link, unless it was made for another Graph root, scope or selection."""
    if not stored:
        return None
    try:
        state = orjson.loads(stored)
    except orjson.JSONDecodeError:
        return None
    link = state.get("link") if isinstance(state, dict) else None
    if not isinstance(link, str) or not link.startswith(root + "/"):
        return None
    if state.get("select") != USER_SELECT or state.get("scope") != scope:
        return None
    return link


@contextlib.contextmanager
def _writer_db(options: CollectOptions) -> Iterator[Any]:
    """A write connection with the pseudonym macros installed (the identity when not pseudonymised)."""
    with open_db(options.db, wait=_writer_wait()) as con:
        pseudonym.install(con, options.pseudonym_key)
        yield con


def _in_transaction(con: Any, work: Callable[[], Any]) -> Any:
    con.execute("BEGIN TRANSACTION")
    try:
        result = work()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result
