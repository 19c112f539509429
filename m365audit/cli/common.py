"""Options shared by several commands, and printing JSON results."""

from __future__ import annotations

import sys
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


ProgressMode = Annotated[
    str,
    typer.Option("--progress", envvar=environment.PROGRESS.name, metavar="MODE",
                 help="auto (bars on a terminal, JSON lines on stderr otherwise), bars, json or off."),
]


def echo_json(payload: Any) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")
