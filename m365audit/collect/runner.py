"""One collection run: fetch from Graph, then load each source in its own transaction.

Network work happens before the database is opened for writing, and each
source (directory, audit, usage, labels) is committed atomically: a failure
or a kill leaves the database as it was before that step, and the run is
recorded as failed with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from m365audit.collect import audit, labels, usage
from m365audit.collect.audit_settings import AuditSettings
from m365audit.collect.auth import make_credential
from m365audit.collect.directory import collect_directory, delta_state, usable_delta_link
from m365audit.collect.graph import GraphClient, RetryPolicy, parse_graph_url
from m365audit.collect.scope import check_scope_matches, fetch_unit_members
from m365audit.collect.spool import SpoolFolder, remove_leftovers, spool_root
from m365audit.collect.usage import UsageSettings
from m365audit.errors import CollectionError, CollectionStopped, M365AuditError, UsageError
from m365audit.progress import Progress
from m365audit.scope import Scope, parse_scope
from m365audit.store import pseudonym
from m365audit.store.db import lock_wait, open_db, rollback
from m365audit.store.directory import DirectoryFiles, load_directory_snapshot
from m365audit.store.lock import writer_lock
from m365audit.store.pseudonym import PseudonymKey
from m365audit.store.runs import close_interrupted_runs, finish_run, get_state, set_state, start_run
from m365audit.store.scope import check_scope, discard_collected_data, known_users, record_scope, user_filter_sql
from m365audit.wording import plural

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
    policy: RetryPolicy = field(default_factory=RetryPolicy)  # the CLI passes the environment's tuning
    credential: Any = None  # an already-built credential (tests, demo); else from ``auth``
    now: datetime | None = None  # snapshot time; tests set it to build history
    scope: str | None = None
    audit: AuditSettings = field(default_factory=AuditSettings)  # built once: [audit], collect's options, the demo
    usage: UsageSettings = field(default_factory=UsageSettings)
    labels_version: str | None = None  # v1.0 or beta: skip the other sensitivity label API
    replace_scope: bool = False  # discard data of another scope instead of refusing
    # DuckDB's memory limit while loading: keeps a million-user snapshot under 1 GiB (it spills to disk).
    memory_limit: str | None = None  # DuckDB's cap; default: M365AUDIT_MEMORY_LIMIT or 512MB (store/db.py)
    pseudonym_key: PseudonymKey | None = None  # store keyed pseudonyms instead of names
    command: str = "collect"  # recorded in runs and in the writer lock ("run" for the nightly job)


@dataclass
class CollectResult:
    run_id: str
    counts: dict[str, Any]
    seconds: float


ProgressFn = Progress  # counts each source's records (m365audit/progress.py)

# The sources after the directory: name -> async step. A step fetches with the
# client and returns a function that loads what it fetched inside a transaction
# and returns counts.
SourceStep = Callable[[GraphClient, "CollectOptions", SpoolFolder, "ProgressFn | None"], Any]
# The audit step also commits while it fetches (each saved query, each chunk of records; see
# collect/audit_run.py), so it is called with two more arguments.
EXTRA_SOURCES: dict[str, Callable[..., Any]] = {"audit": audit.step, "usage": usage.step, "labels": labels.step}


def parse_only(value: str | None) -> tuple[str, ...]:
    if not value:
        return ("licences", *EXTRA_SOURCES)
    chosen = tuple(v.strip().lower() for v in value.split(",") if v.strip())
    unknown = [v for v in chosen if v not in SOURCES]
    if unknown:
        raise UsageError(f"--only got {', '.join(unknown)}; choose from {', '.join(SOURCES)}.")
    return chosen


@dataclass
class _Run:
    """One run's state, shared by the steps."""

    options: CollectOptions
    run_id: str
    taken_at: datetime
    scope: Scope | None
    discard_first: bool  # --replace-scope: the first load discards the other scope's data
    label: str | None = None  # the administrative unit's name, for reports
    counts: dict[str, Any] = field(default_factory=dict)
    scope_recorded: bool = False

    @property
    def scope_text(self) -> str | None:
        return None if self.scope is None else str(self.scope)


def collect(options: CollectOptions, progress: ProgressFn | None = None) -> CollectResult:
    """Collect under the single-writer lock; a second collector stops at once (exit 2)."""
    progress = progress or Progress(options.command)  # counted, not shown
    target = parse_graph_url(options.graph_url)
    scope = parse_scope(options.scope)
    credential = options.credential or make_credential(options.auth)
    # A scope that matches nobody is bad input: refused before anything is fetched or written.
    label = None if scope is None else asyncio.run(_check_scope_matches(options, target, scope, credential))
    with writer_lock(options.db, options.command) as previous:
        if previous is not None:
            log.warning("%s ended without finishing; its uncommitted work was discarded",
                        previous.describe().replace("another ", "the previous ", 1))
        removed = remove_leftovers(options.db)
        if removed:
            log.info("deleted %s left by an interrupted run", plural(removed, "spool folder"))
        try:
            return _collect_locked(options, target, scope, label, credential, progress)
        except BaseException:
            progress.end("failed")  # the sources cut short say so in their last progress line
            raise
        finally:
            with contextlib.suppress(OSError):
                spool_root(options.db).rmdir()  # only when empty


async def _check_scope_matches(options: CollectOptions, target: Any, scope: Scope, credential: Any) -> str | None:
    async with GraphClient(credential, target, policy=options.policy) as client:
        return await check_scope_matches(client, scope)


def _collect_locked(options: CollectOptions, target: Any, scope: Scope | None, label: str | None,
                    credential: Any, progress: ProgressFn) -> CollectResult:
    started = time.monotonic()
    taken_at = options.now or datetime.now(UTC)
    with _writer_db(options) as con:
        close_interrupted_runs(con)
        discard = check_scope(con, None if scope is None else str(scope), replace=options.replace_scope,
                              db=options.db)
        _check_directory_known(con, scope, options.only, discard)
        run_id = start_run(con, options.command, graph_url=target.root,
                           scope=None if scope is None else str(scope), started_at=taken_at)
    run = _Run(options, run_id, taken_at, scope, discard, label)
    try:
        asyncio.run(_collect_async(run, target, credential, progress))
    except M365AuditError as exc:
        _record_failure(options.db, run_id, run.counts, exc.message)
        raise
    except BaseException as exc:
        _record_failure(options.db, run_id, run.counts, f"{type(exc).__name__}: {exc}")
        raise
    partial = partial_failure(run.counts)
    if partial:
        # What could be collected is committed; the run still fails so the operator sees the gap.
        _record_failure(options.db, run_id, run.counts, partial)
        raise CollectionError(partial)
    with open_db(options.db, wait=_writer_wait()) as con:
        finish_run(con, run_id, status="succeeded", counts=run.counts)
    return CollectResult(run_id, run.counts, time.monotonic() - started)


def _check_directory_known(con: Any, scope: Scope | None, only: tuple[str, ...], discard: bool) -> None:
    """A company scope keeps the audit records of the directory's users: they must be known first."""
    if scope is None or scope.kind != "company" or "audit" not in only or "licences" in only:
        return
    if discard or not known_users(con):
        raise UsageError(f"--scope {scope} keeps the audit records of the organisation's users, and the "
                         "database does not know them yet: collect the directory in the same run "
                         "(add licences to --only).")


def _writer_wait() -> float:
    # The collector has fetched its data before it opens the file: waiting a
    # while for a report that is reading the file beats losing the fetch.
    return lock_wait(default=300.0)


@contextlib.contextmanager
def _writer_db(options: CollectOptions) -> Iterator[Any]:
    """A write connection with the pseudonym macros installed (the identity when not pseudonymised)."""
    with open_db(options.db, wait=_writer_wait(), memory_limit=options.memory_limit) as con:
        pseudonym.install(con, options.pseudonym_key)
        yield con


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
        with open_db(db, wait=_writer_wait()) as con:
            finish_run(con, run_id, status="failed", counts=counts, error=message)
    except M365AuditError:
        log.warning("could not record the failed run %s", run_id)


async def _collect_async(run: _Run, target: Any, credential: Any, progress: ProgressFn) -> None:
    options = run.options
    async with GraphClient(credential, target, policy=options.policy) as client:
        if "licences" in options.only:
            progress.within(source="licences").advance("licences")  # the source's task starts its clock
            await _collect_licences(client, run, progress.within(source="licences"))
            _source_done(progress, run, "licences")
        for name in options.only:
            if name == "licences":
                continue
            source = progress.within(source=name)
            source.advance(name)
            with SpoolFolder(parent=spool_root(options.db)) as folder:
                if name == "audit":
                    load = await audit.step(client, options, folder, source, _Committer(run), run.run_id)
                else:
                    load = await EXTRA_SOURCES[name](client, options, folder, source)
                _load(run, _counting(run, name, load))
            _source_done(progress, run, name)
            stopped = run.counts.get(name, {}).get("stopped") if isinstance(run.counts.get(name), dict) else None
            if stopped:
                raise CollectionStopped(f"Collection {stopped}; everything already landed is committed and the "
                                      "next run resumes the saved audit queries.")


def _source_done(progress: ProgressFn, run: _Run, name: str) -> None:
    """The source's final progress line: its records received and the figures committed."""
    source = progress.within(source=name)
    received = sum(t.count for t in source.tasks.values()
                   if t.context.get("source") == name and t.name != name and t.unit == "records")
    value = run.counts.get(name)
    figures = {k: v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)} \
        if isinstance(value, dict) else {}
    status = "done"
    if isinstance(value, dict):
        status = "interrupted" if value.get("stopped") else "incomplete" if partial_failure({name: value}) else "done"
    source.end(but=name)
    source.finish(name, status=status, count=received, counts=figures)


class _Committer:
    """Runs a function of a connection in its own transaction on a worker thread, one at a time.

    The audit step commits each saved query and each chunk of records this way while
    the event loop goes on fetching; DuckDB works without the GIL, so they overlap.
    """

    def __init__(self, run: _Run) -> None:
        self.run = run
        self._lock = asyncio.Lock()

    async def __call__(self, work: Callable[[Any], Any]) -> Any:
        async with self._lock:
            return await asyncio.to_thread(self._commit, work)

    def _commit(self, work: Callable[[Any], Any]) -> Any:
        box: list[Any] = []

        def wrapped(con: Any) -> None:
            box.append(work(con))
            if pseudonym.is_pseudonymised(con):
                pseudonym.pseudonymise_loaded(con, self.run.run_id)  # names never reach a commit

        _load(self.run, wrapped)
        return box[0]


def _counting(run: _Run, name: str, load: Callable[[Any, str], Any]) -> Callable[[Any], None]:
    def work(con: Any) -> None:
        run.counts[name] = load(con, run.run_id)
        if pseudonym.is_pseudonymised(con):
            pseudonym.pseudonymise_loaded(con, run.run_id)  # names never reach a commit
    return work


async def _collect_licences(client: GraphClient, run: _Run, progress: ProgressFn) -> None:
    """The directory: only the users changed since the stored delta link, when there is a usable one.

    An administrative unit's membership changes are not user changes, so a
    unit scope always lists every user.
    """
    fetch_started = time.monotonic()
    unit = run.scope is not None and run.scope.kind == "au"
    with _writer_db(run.options) as con:
        stored = None if unit else get_state(con, "directory", "users_delta")
    link = usable_delta_link(stored, client.target.root, run.scope_text)
    with SpoolFolder(parent=spool_root(run.options.db)) as folder:
        members = None
        if unit:
            assert run.scope is not None
            members = (await fetch_unit_members(client, run.scope, folder)).path
        spools = await collect_directory(client, folder, member_groups=run.options.member_groups,
                                         delta_link=link, progress=progress)
        longest = max(spools.skus.longest, spools.users.longest, spools.groups.longest, spools.members.longest,
                      spools.user_changes.longest if spools.user_changes else 0)
        files = DirectoryFiles(spools.skus.path, spools.users_path, spools.groups.path,
                               spools.members.path, longest, spools.users_staged)
        state = None if unit else delta_state(spools.delta_link, run.scope_text)
        load_started = time.monotonic()

        def work(con: Any) -> None:
            # The scope is applied in SQL over the spooled pages, in the same statement that stages them.
            user_filter = user_filter_sql(con, run.scope, members)
            run.counts["licences"] = dict(load_directory_snapshot(
                con, files, run_id=run.run_id, taken_at=run.taken_at, scope=run.scope_text,
                user_filter_sql=user_filter, users_full=spools.users_full).__dict__)
            set_state(con, "directory", "users_delta", state, run.run_id)  # in the snapshot's transaction

        _load(run, work)
    # Where a nightly run's time went: Graph (and the spooling) or the DuckDB load.
    run.counts["licences"]["fetch_seconds"] = round(load_started - fetch_started, 1)
    run.counts["licences"]["load_seconds"] = round(time.monotonic() - load_started, 1)


def _load(run: _Run, work: Callable[[Any], Any]) -> None:
    """Run one source's load in its own transaction; the run's first load also settles the scope."""
    with _writer_db(run.options) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            if not run.scope_recorded:
                if run.discard_first:
                    discard_collected_data(con)
                record_scope(con, run.scope_text, run.label, run.run_id)
            work(con)
            con.execute("COMMIT")
        except BaseException:
            rollback(con)
            raise
    run.scope_recorded = True
