"""The `m365audit` command. Heavy libraries are imported inside commands so --help is instant."""

from __future__ import annotations

import logging
import sys

import typer

from m365audit import __version__, environment
from m365audit.cli import agents, check, collect, demo, doctor, export, foi, imports, licences, report, run, simulate
from m365audit.cli.helptext import unlabelled_flags
from m365audit.errors import M365AuditError

EXIT_INTERNAL = 4

app = typer.Typer(
    name="m365audit",
    help="Audit Microsoft 365 Copilot licences, activity and AI-policy compliance from the tenant itself.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"m365audit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Exit codes: 0 done; 1 findings at or above --fail-on; 2 bad usage, config or input
    (nothing written); 3 collection failed (nothing half-written); 4 internal error."""


for module in (demo, collect, imports, licences, agents, check, report, simulate, run, doctor, foi, export):
    module.register(app)
unlabelled_flags()


def main() -> None:
    """Entry point: one clear sentence and an exit code for every expected failure."""
    try:
        logging.basicConfig(level=environment.LOG_LEVEL.read() or "WARNING",
                            format="%(levelname)s %(name)s: %(message)s")
        app()  # standalone: click reports its own usage errors with exit code 2
    except M365AuditError as exc:
        print(f"m365audit: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("m365audit: interrupted.", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if environment.DEBUG.raw():
            raise
        print(f"m365audit: internal error ({type(exc).__name__}: {exc}). "
              "Set M365AUDIT_DEBUG=1 for the traceback and please report it.", file=sys.stderr)
        sys.exit(EXIT_INTERNAL)
