"""`m365audit demo`: the whole pipeline against the built-in simulated tenant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from m365audit.cli.common import DEFAULT_DB, DbPath, ProgressMode


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        users: Annotated[int, typer.Option(min=50, max=1_500_000, help="Users in the simulated tenant.")] = 2000,
        days: Annotated[int, typer.Option(min=1, max=180, help="Days of Copilot activity to collect.")] = 90,
        seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same tenant.")] = 1,
        db: DbPath = DEFAULT_DB,
        out: Annotated[Path | None, typer.Option(
            help="Also check the example borough council policy and write the reports to this folder.")] = None,
        replace: Annotated[bool, typer.Option(
            "--replace", help="Let --out write into a folder that holds files m365audit did not write.")] = False,
        history: Annotated[bool, typer.Option(
            "--history/--no-history", help="Also collect a licence snapshot on the first of each month back to "
                                           "the start of the financial year three years ago (one collection a "
                                           "month: --no-history for large tenants and benchmarks).")] = True,
        progress: ProgressMode = "auto",
    ) -> None:
        """Start a simulated tenant on loopback, collect it with the real collector, show licences."""
        from m365audit.cli.licences import print_table
        from m365audit.demo import run_demo, seat_history
        from m365audit.progress import progress_for

        with progress_for("demo", progress) as shown:
            summary = run_demo(db=db, users=users, days=days, seed=seed, out=out, progress=shown,
                               replace=replace, history=history)
        print_table(summary)
        _print_history(seat_history(db))
        typer.echo(f"\nDemo database: {db}. Try `m365audit licences --db {db} --format json`.", err=True)


def _print_history(years: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Licence history: Copilot seats at each financial year's last snapshot")
    for name in ("Financial year", "Snapshots", "From", "To", "Purchased", "Assigned"):
        table.add_column(name, justify="left" if name == "Financial year" else "right")
    for y in years:
        table.add_row(str(y["financial_year"]), f"{y['snapshots']:,}", str(y["first_day"]), str(y["last_day"]),
                      f"{y['purchased']:,}", f"{y['assigned']:,}")
    Console().print(table)
