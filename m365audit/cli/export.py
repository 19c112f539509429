"""`m365audit export parquet DIR`: the public views as date-partitioned Parquet for other engines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from m365audit.cli.common import DEFAULT_DB, DbPath


def register(app: typer.Typer) -> None:
    export_app = typer.Typer(help="Export the database for other engines.", no_args_is_help=True)

    @export_app.command("parquet")
    def parquet(
        out: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write (one sub-folder per view).")],
        db: DbPath = DEFAULT_DB,
        replace: Annotated[bool, typer.Option("--replace", help="Replace an earlier export in DIR.")] = False,
        latest_only: Annotated[bool, typer.Option(
            "--latest-only", help="Export only the latest licence snapshot, not one per day.")] = False,
    ) -> None:
        """Write every public view as Parquet (Hive partitions by snapshot or interaction date), atomically."""
        from m365audit.export.parquet import export_parquet

        datasets = export_parquet(db, out, replace=replace, latest_only=latest_only)
        rows = sum(d.rows for d in datasets)
        typer.echo(f"Exported {len(datasets)} views ({rows:,} rows) to {out}.", err=True)

    app.add_typer(export_app, name="export")
