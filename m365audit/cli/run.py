"""`m365audit run`: the nightly job, as configured in one TOML file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from m365audit.cli.common import ProgressMode

if TYPE_CHECKING:
    from datetime import datetime

    from m365audit.ops.config import RunConfig

DEFAULT_CONFIG = Path("m365audit.toml")
ConfigPath = Annotated[
    Path | None,
    typer.Option("--config", envvar="M365AUDIT_CONFIG", dir_okay=False,
                 help="The run configuration (TOML, see docs/operations.md). Default: ./m365audit.toml."),
]
DbOverride = Annotated[
    Path | None,
    typer.Option("--db", envvar="M365AUDIT_DB", dir_okay=False,
                 help="The DuckDB file; overrides \\[database] path in the configuration."),
]


def load(config: Path | None, db: Path | None) -> RunConfig:
    """The validated configuration, with --db applied (UsageError, exit 2, on any problem)."""
    from dataclasses import replace

    from m365audit.errors import UsageError
    from m365audit.ops.config import load_config

    loaded = load_config(config or DEFAULT_CONFIG)
    if db is not None:
        if not db.resolve().parent.is_dir():
            raise UsageError(f"--db {db}: the folder {db.resolve().parent} does not exist.")
        loaded = replace(loaded, db=db)
    return loaded


def fixed_now() -> datetime | None:
    """M365AUDIT_NOW (ISO date-time) pins the run's clock, for tests and reproducible backfills."""
    import os

    from m365audit.cli.collect import parse_instant

    return parse_instant(os.environ.get("M365AUDIT_NOW") or None, "M365AUDIT_NOW")


def register(app: typer.Typer) -> None:
    @app.command()
    def run(config: ConfigPath = None, db: DbOverride = None, progress: ProgressMode = "auto") -> None:
        """The nightly job: collect, apply retention, check, report, answer FOI and email, as configured.

        Logs one line per step to stderr (JSON lines when not on a terminal, errors included). Exit
        codes: 0 done; 1 findings at or above [checks] fail_on; 2 bad configuration or database;
        3 collection or delivery failed; 4 internal error."""
        from m365audit.ops.log import RunLog
        from m365audit.ops.pipeline import run_logged

        raise typer.Exit(run_logged(lambda: (load(config, db), fixed_now()), RunLog(), progress))
