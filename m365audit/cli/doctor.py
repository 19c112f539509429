"""`m365audit doctor`: check the configuration, credential, Graph permissions and database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from m365audit.cli.run import ConfigPath, DbOverride

if TYPE_CHECKING:
    from m365audit.ops.config import RunConfig


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(config: ConfigPath = None, db: DbOverride = None) -> None:
        """Check that the nightly job can run, and say how to fix what is missing.

        Checks the configuration, the credential, each Graph permission (by a minimal read), whether
        usage reports conceal names, the database and whether audit data is arriving. Exit codes:
        0 nothing missing; 2 bad configuration; 3 something the job needs is missing."""
        from dataclasses import replace

        from m365audit.cli.run import DEFAULT_CONFIG, fixed_now, load
        from m365audit.ops.doctor import MISSING, diagnose, render

        if config is None and not DEFAULT_CONFIG.exists():
            loaded = _from_environment()
            loaded = replace(loaded, db=db) if db is not None else loaded
        else:
            loaded = load(config, db)
        probes = diagnose(loaded, now=fixed_now())
        typer.echo(render(probes))
        if any(p.status == MISSING for p in probes):
            raise typer.Exit(3)


def _from_environment() -> RunConfig:
    """Without a config file: the defaults, with --graph-url and --auth from their environment variables."""
    from m365audit import environment
    from m365audit.errors import UsageError
    from m365audit.ops.config import parse_config

    tenant = {k: v for k, v in (("graph_url", environment.GRAPH_URL.raw()),
                                ("auth", environment.AUTH.raw())) if v}
    try:
        return parse_config({"tenant": tenant} if tenant else {}, source="environment (no config file)")
    except UsageError as exc:
        raise UsageError(exc.message.replace("tenant.graph_url", environment.GRAPH_URL.name)
                         .replace("tenant.auth", environment.AUTH.name)) from None
