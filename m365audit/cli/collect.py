"""`m365audit collect`: pull licences, activity, usage and labels from Graph into the database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from m365audit import environment
from m365audit.checks.catalogue import check_ids
from m365audit.cli.common import DEFAULT_DB, AuthMode, DbPath, GraphUrl, ProgressMode
from m365audit.errors import UsageError

if TYPE_CHECKING:
    from m365audit.collect.audit_settings import AuditSettings


def parse_instant(value: str | None, option: str) -> datetime | None:
    """An ISO date or date-time; a date means midnight UTC, a time without offset is UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        parsed.astimezone(UTC)  # 0001-01-01T00:00+01:00 has no UTC instant
    except (ValueError, OverflowError):
        raise UsageError(f"{option} {value!r} is not an ISO date such as 2026-04-01 or 2026-04-01T00:00Z.") from None
    return parsed


def register(app: typer.Typer) -> None:
    @app.command()
    def collect(
        db: DbPath = DEFAULT_DB,
        graph_url: GraphUrl = "https://graph.microsoft.com/v1.0",
        auth: AuthMode = "environment",
        since: Annotated[str | None, typer.Option(
            help="Collect activity from this ISO date-time (overrides the watermark).")] = None,
        until: Annotated[str | None, typer.Option(
            help="Collect activity up to this ISO date-time (default: now).")] = None,
        only: Annotated[str | None, typer.Option(
            help="Comma-separated sources: licences,audit,usage,labels (default: all).")] = None,
        group: Annotated[list[str] | None, typer.Option(
            "--group", help="Also collect the members of this group (display name or id), "
                            "e.g. the AI training group. Repeatable.")] = None,
        scope: Annotated[str | None, typer.Option(
            help="Limit to one organisation in a shared tenant: au:<id>, domain:<a.gov.uk,b.gov.uk> "
                 "or company:<name>.")] = None,
        replace_scope: Annotated[bool, typer.Option(
            "--replace-scope",
            help="The database holds another scope: discard everything collected for it and start again.")] = False,
        record_types: Annotated[str | None, typer.Option(
            "--record-types", help="Comma-separated audit record types (auditLogRecordType names), e.g. "
                                   "CopilotInteraction,AIAppInteraction (default: CopilotInteraction).")] = None,
        time_budget: Annotated[float | None, typer.Option(
            "--time-budget", metavar="MINUTES",
            help="Stop after this many minutes; audit queries still running stay saved for the next run.")] = None,
        plan: Annotated[bool, typer.Option(
            "--plan", help="Print how many audit queries the window needs, how many are saved and the "
                           "budget left; create none.")] = False,
        policy: Annotated[Path | None, typer.Option(
            "--policy", envvar=environment.POLICY.name, dir_okay=False,
            help="The organisation's policy file: also collect the members of every group it names (the "
                 "Copilot licensing groups and the training group), as `run` does.")] = None,
        audit_retention_days: Annotated[int | None, typer.Option(
            "--audit-retention-days", envvar=environment.AUDIT_RETENTION_DAYS.name,
            help="How many days the tenant's audit log keeps (180 on Audit Standard; up to 3650 with Audit "
                 "Premium retention policies): --since may not reach further back.")] = None,
        progress: ProgressMode = "auto",
    ) -> None:
        """Collect from Microsoft Graph into the DuckDB file."""
        from m365audit.cli.run import fixed_now, retry_policy
        from m365audit.collect.runner import CollectOptions, parse_only
        from m365audit.collect.runner import collect as run_collect
        from m365audit.collect.window import check_window, retention_days
        from m365audit.policy import load_policy
        from m365audit.progress import progress_for

        named = load_policy(policy, check_ids()).named_groups if policy is not None else ()
        start, end = parse_instant(since, "--since"), parse_instant(until, "--until")
        check_window(start, end, fixed_now() or datetime.now(UTC), retention_days(audit_retention_days))
        settings = audit_settings(record_types)
        if plan:
            _print_plan(db, settings, scope, start, end)
            return
        if time_budget is not None and not time_budget > 0:
            raise UsageError(f"--time-budget must be a number of minutes above 0, not {time_budget:g}.")
        options = CollectOptions(db=db, graph_url=graph_url, auth=auth, only=parse_only(only),
                                 since=start, until=end,
                                 member_groups=list(dict.fromkeys([*(group or []), *named])), scope=scope,
                                 replace_scope=replace_scope, audit=settings,
                                 policy=retry_policy(time_budget * 60 if time_budget is not None else None))
        with progress_for("collect", progress) as shown:
            result = run_collect(options, shown)
        summary = ", ".join(f"{name}: {_describe(value)}" for name, value in result.counts.items())
        typer.echo(f"Collected run {result.run_id} in {result.seconds:.1f} s ({summary}).", err=True)
        for value in result.counts.values():
            for notice in (value.get("notices") or []) if isinstance(value, dict) else []:
                typer.echo(f"Note: {notice}", err=True)
            for warning in (value.get("warnings") or []) if isinstance(value, dict) else []:
                typer.echo(f"Warning: {warning}", err=True)


def audit_settings(record_types: str | None) -> AuditSettings:
    """The audit source's settings, built once: --record-types (validated against auditLogRecordType),
    else the environment's defaults, else AuditSettings'."""
    from m365audit.collect.audit_settings import AuditSettings, environment_defaults
    from m365audit.collect.record_types import parse_record_types

    given = {} if record_types is None else {"record_types": parse_record_types(record_types)}
    return AuditSettings(**{**environment_defaults(), **given})


def _print_plan(db: Path, settings: AuditSettings, scope: str | None, since: datetime | None,
                until: datetime | None) -> None:
    from m365audit.collect.audit_preview import preview

    for line in preview(db, settings, scope, since, until).lines():
        typer.echo(line)
    typer.echo("No query was created.")


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items() if isinstance(v, int | float))
    return str(value)
