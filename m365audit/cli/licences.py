"""`m365audit licences`: purchased, assigned and available per SKU; Copilot seats by department."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from m365audit.cli.common import DEFAULT_DB, DbPath, echo_json
from m365audit.errors import UsageError

FORMATS = ("table", "json", "csv")


def register(app: typer.Typer) -> None:
    @app.command()
    def licences(
        db: DbPath = DEFAULT_DB,
        format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
        as_of: Annotated[str | None, typer.Option(
            "--as-of", help="Use the latest snapshot on or before this ISO date.")] = None,
    ) -> None:
        """Show licence counts from the latest (or an earlier) snapshot."""
        if format not in FORMATS:
            raise UsageError(f"--format {format!r} is not one of {', '.join(FORMATS)}.")
        from m365audit.cli.collect import parse_instant
        from m365audit.report.licences import licence_summary
        from m365audit.store.db import open_db
        from m365audit.store.scope import current_scope

        with open_db(db, read_only=True) as con:
            summary = licence_summary(con, parse_instant(as_of, "--as-of"))
            scope = current_scope(con)
        if format == "json":
            echo_json(summary)
        elif format == "csv":
            write_csv(summary)
        else:
            print_table(summary)
            if scope is not None:
                typer.echo(f"Scope: {scope.description}, collected since {scope.since:%Y-%m-%d}.")


def write_csv(summary: dict[str, Any]) -> None:
    import sys

    from m365audit.csv_output import write_rows

    write_rows(sys.stdout, ["sku_id", "sku_part_number", "purchased", "assigned", "available", "is_copilot"],
               ([s["sku_id"], s["sku_part_number"], s["purchased"], s["assigned"], s["available"],
                 str(s["is_copilot"]).lower()] for s in summary["skus"]))


def print_table(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    skus = Table(title=f"Licences at {summary['as_of'][:16].replace('T', ' ')} UTC")
    for name, justify in (("SKU", "left"), ("Purchased", "right"), ("Assigned", "right"),
                          ("Available", "right"), ("Copilot", "center")):
        skus.add_column(name, justify=justify)  # type: ignore[arg-type]
    for s in summary["skus"]:
        skus.add_row(s["sku_part_number"], f"{s['purchased']:,}", f"{s['assigned']:,}", f"{s['available']:,}",
                     "yes" if s["is_copilot"] else "")
    console.print(skus)
    c = summary["copilot"]
    console.print(f"Copilot seats: {c['purchased']:,} purchased, {c['assigned']:,} assigned, "
                  f"{c['licensed_users']:,} users holding a working seat.")
    depts = Table(title="Copilot seats by department")
    depts.add_column("Department")
    depts.add_column("Licensed users", justify="right")
    for row in c["by_department"]:
        depts.add_row(row["department"] or "(no department)", f"{row['licensed_users']:,}")
    console.print(depts)
