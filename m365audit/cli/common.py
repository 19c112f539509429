"""Options shared by several commands, and terminal helpers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from m365audit import environment

DbPath = Annotated[
    Path,
    typer.Option("--db", envvar=environment.DB.name, help="The DuckDB file to read or write.",
                 dir_okay=False, show_default=True),
]
DEFAULT_DB = Path("m365audit.duckdb")
GraphUrl = Annotated[
    str,
    typer.Option("--graph-url", envvar=environment.GRAPH_URL.name,
                 help="Graph root, e.g. https://graph.microsoft.us/v1.0 or http://127.0.0.1:8765/v1.0 "
                      "for the simulated tenant (plain http only on loopback)."),
]
AuthMode = Annotated[
    str,
    typer.Option("--auth", envvar=environment.AUTH.name,
                 help="token (bearer token from M365AUDIT_TOKEN), environment, client-secret, certificate, "
                      "managed-identity, azure-cli or device-code."),
]


def is_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress_reporter(enabled: bool | None = None) -> Iterator[Any]:
    """A callable (label, n) that advances a rich progress bar on a terminal, else nothing."""
    if enabled is None:
        enabled = is_terminal()
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed:,} records"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def advance(label: str, n: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(f"Collecting {label}", total=None)
            bar.advance(tasks[label], n)

        yield advance


def echo_json(payload: Any) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")
