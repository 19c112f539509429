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
        days: Annotated[int, typer.Option(min=1, max=180, help="Days of Copilot activity to collect.")] = 30,
        seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same tenant.")] = 1,
        db: DbPath = DEFAULT_DB,
        out: Annotated[Path | None, typer.Option(
            help="Also check the example borough council policy and write the reports to this folder.")] = None,
        replace: Annotated[bool, typer.Option(
            "--replace", help="Let --out write into a folder that holds files m365audit did not write.")] = False,
        progress: ProgressMode = "auto",
    ) -> None:
        """Start a simulated tenant on loopback, collect it with the real collector, show licences."""
        from m365audit.cli.licences import print_table
        from m365audit.demo import run_demo
        from m365audit.progress import progress_for

        with progress_for("demo", progress) as shown:
            summary = run_demo(db=db, users=users, days=days, seed=seed, out=out, progress=shown,
                               replace=replace)
        print_table(summary)
        typer.echo(f"\nDemo database: {db}. Try `m365audit licences --db {db} --format json`.", err=True)
