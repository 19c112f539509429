"""`m365audit agents`: every agent the audit log names, who used it, what it read, and a verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from m365audit import environment
from m365audit.checks.catalogue import check_ids
from m365audit.cli.common import DEFAULT_DB, DbPath, echo_json
from m365audit.errors import UsageError

FORMATS = ("table", "json", "csv")


def register(app: typer.Typer) -> None:
    @app.command()
    def agents(
        db: DbPath = DEFAULT_DB,
        format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
        policy: Annotated[Path | None, typer.Option(
            "--policy", envvar=environment.POLICY.name, dir_okay=False,
            help="The AI policy file: reads of its restricted labels (labels.restricted) are counted.")] = None,
        as_of: Annotated[str | None, typer.Option(
            "--as-of", help="Judge the last 30 days up to this ISO date-time (default: now).")] = None,
    ) -> None:
        """List the agents people use (and the ones nobody uses), with a Keep / Review / Retire verdict."""
        if format not in FORMATS:
            raise UsageError(f"--format {format!r} is not one of {', '.join(FORMATS)}.")
        from datetime import UTC, datetime

        from m365audit.cli.collect import parse_instant
        from m365audit.policy import load_policy
        from m365audit.report.agents import inventory
        from m365audit.store.db import open_db

        rules = load_policy(policy, check_ids()) if policy is not None else None
        when = parse_instant(as_of, "--as-of") or datetime.now(UTC)
        with open_db(db, read_only=True) as con:
            rows = inventory(con, rules, when)
        if format == "json":
            echo_json({"as_of": when.isoformat(), "policy": rules.source if rules else None, "agents": rows})
        elif format == "csv":
            write_csv(rows)
        else:
            print_table(rows, when)


def write_csv(rows: list[dict[str, Any]]) -> None:
    import sys

    from m365audit.csv_output import write_rows
    from m365audit.report.agents import COLUMNS

    write_rows(sys.stdout, COLUMNS, ([_csv_value(row[c]) for c in COLUMNS] for row in rows))


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else value


def print_table(rows: list[dict[str, Any]], when: Any) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from m365audit.report.safety import terminal_text

    table = Table(title=f"Agents, 30 days to {when:%Y-%m-%d %H:%M} UTC")
    for name, justify in (("Agent", "left"), ("Kind", "left"), ("Users (30 days)", "right"),
                          ("Interactions", "right"), ("Last seen", "left"), ("Items read", "right"),
                          ("Restricted", "right"), ("Verdict", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        restricted = "-" if r["restricted_resources_read"] is None else f"{r['restricted_resources_read']:,}"
        table.add_row(Text(terminal_text(r["agent_name"])), r["kind"], f"{r['users_30d']:,}",
                      f"{r['interactions_30d']:,}", f"{r['last_seen']:%Y-%m-%d}", f"{r['resources_read']:,}",
                      restricted, r["verdict"])
    Console().print(table)
    if not rows:
        typer.echo("No agent appears in the collected audit log.")

