"""The steps of `m365audit run`, each a function of the run context returning an Outcome.

Collection retries within the run: a step that failed, or a source that
reported a gap (an audit query that failed), is tried again, resuming from
what was committed; sources already committed are not fetched twice.
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m365audit.checks.catalogue import SEVERITIES
from m365audit.errors import CollectionError, CollectionStopped, UsageError
from m365audit.ops.pipeline import Outcome, RunContext, Step
from m365audit.outputs import OutputError, cause, check_folder, mark_folder, protected_paths, write_atomically
from m365audit.store.db import open_db

if TYPE_CHECKING:
    from m365audit.checks.model import CheckRun

_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def collect_step(ctx: RunContext) -> Outcome:
    from m365audit.collect.runner import SOURCES

    pending = ctx.config.sources or SOURCES
    counts: dict[str, Any] = {}
    problems: list[str] = []
    for attempt in range(1, ctx.config.attempts + 1):
        done, problems = _collect_once(ctx, pending, counts)
        pending = tuple(s for s in pending if s not in done)
        if not pending or ctx.stopped:
            break  # a run stopped by SIGINT / SIGTERM does not try again
        if attempt < ctx.config.attempts:
            ctx.log.emit("retry", level="warning", step="collect", attempt=attempt + 1,
                         sources=",".join(pending), message="; ".join(problems))
    if pending:
        return Outcome("failed", counts, "; ".join(problems), exit_code=3)
    return Outcome("ok", counts)


def _collect_once(ctx: RunContext, sources: tuple[str, ...],
                  counts: dict[str, Any]) -> tuple[set[str], list[str]]:
    """One collection attempt; returns the sources now complete and what went wrong."""
    from m365audit.collect.runner import CollectOptions, collect

    config, policy = ctx.config, ctx.config.policy
    groups = [*config.groups, *policy.named_groups]
    options = CollectOptions(db=config.db, graph_url=config.graph_url, auth=config.auth, only=sources,
                             member_groups=list(dict.fromkeys(groups)), policy=ctx.policy,
                             credential=ctx.credential, now=ctx.now, until=ctx.now, scope=config.scope,
                             command="run",
                             pseudonym_key=ctx.key, audit=config.audit)
    try:
        result = collect(options, ctx.progress.within(step="collect"))
    except CollectionStopped as exc:
        ctx.stopped = True
        return _committed_sources(config.db, sources), [exc.message]
    except CollectionError as exc:
        # Sources that committed before the failure are listed in the failed run's counts.
        committed = _committed_sources(config.db, sources)
        return committed, [exc.message]
    ctx.run_id = result.run_id
    counts.update(result.counts)
    gaps = _gaps(result.counts)
    return set(sources) - set(gaps), [e for errors in gaps.values() for e in errors]


def _committed_sources(db: Path, sources: tuple[str, ...]) -> set[str]:
    import orjson

    with open_db(db, read_only=True) as con:
        row = con.execute("SELECT counts FROM runs ORDER BY finished_at DESC NULLS LAST LIMIT 1").fetchone()
    counts = orjson.loads(row[0]) if row and row[0] else {}
    return {s for s in sources if s in counts and not _gaps({s: counts[s]})}


def _gaps(counts: dict[str, Any]) -> dict[str, list[str]]:
    """Sources whose counts report failed pieces (e.g. an audit query that failed)."""
    out: dict[str, list[str]] = {}
    for name, value in counts.items():
        if isinstance(value, dict) and (value.get("errors") or value.get("failed_slices")):
            out[name] = [str(e) for e in value.get("errors") or [f"{name}: {value['failed_slices']} failed"]]
    return out


def retention_step(ctx: RunContext) -> Outcome:
    from m365audit.ops.retention import RetentionSettings, apply_retention

    settings = RetentionSettings(ctx.config.raw_audit_days, ctx.config.activity_days)
    if not settings.enabled:
        return Outcome("skipped", message="no [retention] settings")
    with open_db(ctx.config.db) as con:
        return Outcome("ok", apply_retention(con, settings, ctx.now, ctx.run_id or "retention"))


def check_step(ctx: RunContext) -> Outcome:
    from m365audit.checks.runner import check_database

    if not ctx.config.checks_enabled:
        return Outcome("skipped", message="[checks] enabled is false")
    run = check_database(ctx.config.db, ctx.config.policy, ctx.now, key=ctx.key)
    ctx.findings = summarise_findings(run)
    fail_on = ctx.config.fail_on
    breached = fail_on is not None and _at_or_above(ctx.findings["by_severity"], fail_on)
    message = f"findings at or above {fail_on}" if breached else None
    return Outcome("ok", ctx.findings, message, exit_code=1 if breached else 0)


def summarise_findings(run: CheckRun) -> dict[str, Any]:
    """Counts from a check run: checks, failing, not checked, open findings by severity."""
    statuses = [result.status for result in run.results]
    by_severity = dict.fromkeys(SEVERITIES, 0)
    excepted = 0
    for finding in run.findings:
        if finding.excepted:
            excepted += 1
        else:
            by_severity[finding.severity] += 1
    return {"checks": len(run.results), "failing_checks": statuses.count("fail"),
            "not_checked": statuses.count("not_checked"), "by_severity": by_severity, "excepted": excepted}


def _at_or_above(by_severity: dict[str, int], fail_on: str) -> bool:
    floor = SEVERITIES.index(fail_on)
    return any(n for s, n in by_severity.items() if SEVERITIES.index(s) >= floor)


def report_step(ctx: RunContext) -> Outcome:
    from m365audit.report.manager import STEPS, write_reports

    folder = _report_folder(ctx)
    out = folder / f"{ctx.now:%Y-%m-%d}"
    total = STEPS + len(ctx.config.report_formats)
    with ctx.progress.within(step="report").steps("report", total) as step:
        paths = write_reports(ctx.config.db, out, ctx.config.report_formats, policy=ctx.config.policy,
                              pseudonymise=ctx.config.report_pseudonymise, inputs=_inputs(ctx), progress=step)
    ctx.report_dir = out
    ctx.report_files = list(paths)
    pruned = prune_reports(folder, ctx.now.date(), ctx.config.report_keep_days)
    return Outcome("ok", {"files": len(ctx.report_files), "folder": str(out), "pruned": pruned})


def prune_reports(folder: Path, today: Any, keep_days: int) -> int:
    """Delete dated report folders older than ``keep_days`` (0 keeps all): reports hold personal data."""
    if keep_days <= 0 or not folder.is_dir():
        return 0
    from datetime import date

    oldest = today - timedelta(days=keep_days)
    pruned = 0
    for child in folder.iterdir():
        if child.is_dir() and _DATED.match(child.name) and date.fromisoformat(child.name) < oldest:
            shutil.rmtree(child)
            pruned += 1
    return pruned


def foi_step(ctx: RunContext) -> Outcome:
    from m365audit.foi import FoiOptions, build_answer, render

    if not ctx.config.foi_enabled:
        return Outcome("skipped", message="[foi] enabled is false")
    with open_db(ctx.config.db, read_only=True) as con:
        answer = build_answer(con, ctx.config.policy, FoiOptions(years=ctx.config.foi_years))
    out = ctx.report_dir or _report_folder(ctx) / f"{ctx.now:%Y-%m-%d}"
    names = [f"foi-answer.{fmt}" for fmt in ctx.config.foi_formats]
    # The run's own dated folder: its earlier answers are replaced, nothing else is.
    check_folder(out, option="[report] folder", protected=protected_paths(ctx.config.db, _inputs(ctx)), names=names)
    if not out.exists():
        _make_folder(out)
        mark_folder(out)
    written = [write_atomically(out / name, render(answer, fmt), option="[report] folder")
               for name, fmt in zip(names, ctx.config.foi_formats, strict=True)]
    return Outcome("ok", {"files": len(written), "folder": str(out)})


def export_step(ctx: RunContext) -> Outcome:
    from m365audit.export.delta import export_delta
    from m365audit.export.lake_target import lake_target

    uri = ctx.config.export_delta
    if uri is None:
        return Outcome("skipped", message="no [export] delta")
    tables = export_delta(ctx.config.db, lake_target(uri, lambda: ctx.credential))
    return Outcome("ok", {"tables": len(tables), "partitions_written": sum(t.parts_written for t in tables),
                          "rows_written": sum(t.rows_written for t in tables)})


def _inputs(ctx: RunContext) -> list[Path]:
    """The run's input files (configuration, policy): never written over by its outputs."""
    paths = [Path(ctx.config.source), *([Path(ctx.config.policy.source)] if ctx.config.policy.source else [])]
    return [p for p in paths if p.is_file()]


def _report_folder(ctx: RunContext) -> Path:
    """The configured report folder, created owner-only when missing (its dated folders hold personal data)."""
    folder = ctx.config.report_folder
    check_folder(folder, option="[report] folder", replace=True, protected=protected_paths(ctx.config.db))
    _make_folder(folder)
    return folder


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create the report folder {folder}: {cause(exc)}.") from None


def email_step(ctx: RunContext) -> Outcome:
    from m365audit.ops.delivery import build_message, send

    settings = ctx.config.email
    if settings is None:
        return Outcome("skipped", message="no [email] settings")
    workbook = next((p for p in ctx.report_files if p.suffix == ".xlsx"), None)
    message = build_message(ctx.config, settings, day=ctx.now, steps=[r.as_dict() for r in ctx.results],
                            licences=_licences(ctx), findings=ctx.findings, workbook=workbook,
                            report_folder=ctx.report_dir)
    try:
        send(ctx.config, ctx.credential, message, ctx.policy)
    except CollectionError as exc:
        return Outcome("failed", message=f"the report was not sent: {exc.message}", exit_code=3)
    return Outcome("ok", {"recipients": len(settings.to), "attachments": len(message.get("attachments", []))})


def _licences(ctx: RunContext) -> dict[str, Any] | None:
    from m365audit.report.licences import licence_summary

    try:
        with open_db(ctx.config.db, read_only=True) as con:
            return licence_summary(con)
    except UsageError:
        return None  # no snapshot yet: the summary says nothing about seats


STEPS: tuple[tuple[str, Step], ...] = (
    ("collect", collect_step), ("retention", retention_step), ("check", check_step),
    ("report", report_step), ("foi", foi_step), ("export", export_step), ("email", email_step),
)
