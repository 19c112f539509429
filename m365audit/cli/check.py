"""`m365audit check`: judge the database against the organisation's AI policy file."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from m365audit import environment
from m365audit.checks.catalogue import check_ids
from m365audit.cli.common import DEFAULT_DB, AuthMode, DbPath, echo_json
from m365audit.errors import UsageError

if TYPE_CHECKING:
    from m365audit.checks.model import CheckRun

FORMATS = ("table", "json", "csv")
ENGINES = ("duckdb", "spark")
SEVERITIES = ("low", "medium", "high", "critical")


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        db: DbPath = DEFAULT_DB,
        policy: Annotated[Path | None, typer.Option(
            "--policy", envvar=environment.POLICY.name, dir_okay=False,
            help="The organisation's AI policy file (TOML, see docs/policy.md). Without it the built-in "
                 "defaults apply and checks that need a named group, label or date are not checked.")] = None,
        format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
        fail_on: Annotated[str | None, typer.Option(
            "--fail-on", help="Exit with code 1 when a finding that is not excepted is at or above this "
                              "severity: low, medium, high or critical.")] = None,
        check_date: Annotated[str | None, typer.Option(
            "--check-date", help="Judge dates (idle seats, review cycle, exception end dates) as of this ISO "
                                 "date instead of today.")] = None,
        engine: Annotated[str, typer.Option(
            "--engine", help="duckdb (the database file) or spark (the Delta tables at --lake; findings are "
                             "shown, not stored).")] = "duckdb",
        lake: Annotated[str | None, typer.Option(
            "--lake", help="With --engine spark: the folder, abfss:// or s3:// URI `export delta` wrote.")] = None,
        auth: AuthMode = "environment",
    ) -> None:
        """Run the policy checks over the database, store the findings and show what is new, open or fixed."""
        if engine not in ENGINES:
            raise UsageError(f"--engine {engine!r} is not one of {', '.join(ENGINES)}.")
        if (engine == "spark") != (lake is not None):
            raise UsageError("--lake goes with --engine spark, and --engine spark needs --lake URI.")
        if format not in FORMATS:
            raise UsageError(f"--format {format!r} is not one of {', '.join(FORMATS)}.")
        if fail_on is not None and fail_on not in SEVERITIES:
            raise UsageError(f"--fail-on {fail_on!r} is not one of {', '.join(SEVERITIES)}.")
        from m365audit.checks.runner import check_database
        from m365audit.policy import Policy, load_policy
        from m365audit.report import findings as render

        checked_at = _checked_at(check_date)
        rules = (load_policy(policy, check_ids()) if policy is not None
                 else Policy(name="built-in defaults (no policy file)"))
        if lake is not None:
            from m365audit.lakehouse.session import check_lake

            run = check_lake(lake, rules, checked_at, auth)
        else:
            run = check_database(db, rules, checked_at)
        if format == "json":
            echo_json(render.as_json(run))
        elif format == "csv":
            render.write_csv(run, sys.stdout)
        else:
            render.print_table(run)
        if fail_on is not None and _fails(run, SEVERITIES.index(fail_on)):
            raise typer.Exit(1)


def _checked_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"--check-date {value!r} is not an ISO date such as 2026-04-01.") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _fails(run: CheckRun, threshold: int) -> bool:
    return any(not f.excepted and SEVERITIES.index(f.severity) >= threshold for f in run.findings)
