"""`m365audit export parquet DIR` and `export delta URI`: the public views for other engines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from m365audit.cli.common import DEFAULT_DB, AuthMode, DbPath


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

    @export_app.command("delta")
    def delta(
        uri: Annotated[str, typer.Argument(
            metavar="URI", help="Folder, abfss://<workspace or container>@<host>/<path> (OneLake, ADLS Gen2) or "
                                "s3://<bucket>/<path>: one Delta table per view is kept under it.")],
        db: DbPath = DEFAULT_DB,
        auth: AuthMode = "environment",
    ) -> None:
        """Bring the lakehouse's Delta tables (one per public view) up to date, writing only what changed."""
        from m365audit.export.delta import export_delta
        from m365audit.export.lake_target import credential_for, lake_target

        tables = export_delta(db, lake_target(uri, credential_for(auth)))
        for t in tables:
            note = f"{t.parts_written} partition(s) written" if t.parts_written else "unchanged"
            typer.echo(f"{t.name}: {t.rows:,} rows ({note}; schema version {t.schema_version})", err=True)
        written = sum(t.rows_written for t in tables)
        typer.echo(f"Exported {len(tables)} views to Delta at {uri} ({written:,} rows written).", err=True)

    app.add_typer(export_app, name="export")

