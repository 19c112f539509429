"""`m365audit run`: the nightly job, as configured in one TOML file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from m365audit import environment
from m365audit.cli.common import ProgressMode

if TYPE_CHECKING:
    from datetime import datetime

    from m365audit.collect.graph import RetryPolicy
    from m365audit.ops.config import RunConfig

DEFAULT_CONFIG = Path("m365audit.toml")
ConfigPath = Annotated[
    Path | None,
    typer.Option("--config", envvar=environment.CONFIG.name, dir_okay=False,
                 help="The run configuration (TOML, see docs/operations.md). Default: ./m365audit.toml."),
]
DbOverride = Annotated[
    Path | None,
    typer.Option("--db", envvar=environment.DB.name, dir_okay=False,
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
    """M365AUDIT_NOW (ISO date-time) pins the run's clock, for tests and reproducible backfills.

    Read here, at the command line, and passed down as ``now``: nothing below reads it."""
    from m365audit.cli.collect import parse_instant

    return parse_instant(environment.NOW.raw(), environment.NOW.name)


def retry_policy(budget_seconds: float | None = None) -> RetryPolicy:
    """How hard Graph requests are tried: the defaults, or M365AUDIT_MAX_ATTEMPTS and
    M365AUDIT_RETRY_BASE_DELAY (tests make failures fast with them). Read here and passed down."""
    from m365audit.collect.graph import RetryPolicy

    attempts, base_delay = environment.MAX_ATTEMPTS.read(), environment.RETRY_BASE_DELAY.read()
    return RetryPolicy(max_attempts=RetryPolicy.max_attempts if attempts is None else attempts,
                       base_delay=RetryPolicy.base_delay if base_delay is None else base_delay,
                       budget_seconds=budget_seconds)


def _loaded(config: Path | None, db: Path | None) -> tuple[RunConfig, datetime | None, RetryPolicy]:
    """What `run` needs before it starts: the configuration, the pinned clock, the retry policy."""
    loaded = load(config, db)
    return loaded, fixed_now(), retry_policy(loaded.budget_seconds)


def register(app: typer.Typer) -> None:
    @app.command()
    def run(config: ConfigPath = None, db: DbOverride = None, progress: ProgressMode = "auto") -> None:
        """The nightly job: collect, apply retention, check, report, answer FOI and email, as configured.

        Logs one line per step to stderr (JSON lines when not on a terminal, errors included). Exit
        codes: 0 done; 1 findings at or above [checks] fail_on; 2 bad configuration or database;
        3 collection or delivery failed; 4 internal error."""
        from m365audit.ops.log import RunLog
        from m365audit.ops.pipeline import run_logged

        raise typer.Exit(run_logged(lambda: _loaded(config, db), RunLog(), progress))
