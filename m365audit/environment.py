"""Every ``M365AUDIT_*`` environment variable, declared once: name, meaning, default and parser.

Product code reads these variables only through this module (``DB_WAIT.read()``), and the
table in docs/environment.md lists exactly the variables declared here (tests/docs checks
both). A value that cannot be parsed is bad input: one sentence naming the variable, exit 2.

Test hooks are not read below the command line: the clock (``NOW``) and the retry tuning
(``MAX_ATTEMPTS``, ``RETRY_BASE_DELAY``) are read by the CLI once and passed down as
arguments. The simulated tenant (m365audit/simulator) keeps its own.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from m365audit.errors import UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class Variable(Generic[T]):
    name: str
    meaning: str  # one sentence for docs/environment.md
    default: str  # what applies when it is unset, as documented
    parse: Callable[[str], T]  # raises ValueError with the problem ("is not a whole number")
    secret: bool = False  # its value is masked in the run's log lines

    def raw(self) -> str | None:
        """The value as set, stripped; None when unset or blank."""
        return value_of(self.name)

    def read(self) -> T | None:
        """The parsed value, or None when unset; a bad value is a UsageError naming the variable."""
        raw = self.raw()
        if raw is None:
            return None
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise UsageError(f"{self.name}={raw!r} {exc}.") from None


def value_of(name: str) -> str | None:
    """A variable named at run time (``[storage] key_env``), stripped; None when unset or blank."""
    return os.environ.get(name, "").strip() or None


def _text(value: str) -> str:
    return value


def _whole(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError("is not a whole number") from None
        if not minimum <= number <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}")
        return number
    return parse


def _seconds(*, zero_ok: bool) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError("is not a number of seconds") from None
        if not math.isfinite(number) or number < 0 or (number == 0 and not zero_ok):
            raise ValueError(f"must be a finite number of seconds {'from 0' if zero_ok else 'above 0'}")
        return number
    return parse


_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


def _memory(value: str) -> str:
    if not _MEMORY.match(value):
        raise ValueError("is not a memory size like 512MB or 2GB")
    return value


def _level(value: str) -> str:
    if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return value.upper()


# Options of the command line that may come from the environment (typer reads them: envvar=X.name).
DB = Variable("M365AUDIT_DB", "The DuckDB file (`--db` of every command; `run`: overrides `[database] path`).",
              "`m365audit.duckdb`", _text)
GRAPH_URL = Variable("M365AUDIT_GRAPH_URL", "Microsoft Graph's address (`--graph-url`; `doctor` without a "
                     "configuration file).", "`https://graph.microsoft.com/v1.0`", _text)
AUTH = Variable("M365AUDIT_AUTH", "How to sign in (`--auth`; `doctor` without a configuration file).",
                "`environment`", _text)
POLICY = Variable("M365AUDIT_POLICY", "The organisation's policy file (`--policy` of check, report, agents, "
                  "collect).", "none", _text)
CONFIG = Variable("M365AUDIT_CONFIG", "The nightly job's configuration file (`--config` of run and doctor).",
                  "`m365audit.toml`", _text)
# Secrets: never in a file the tool reads or writes.
TOKEN = Variable("M365AUDIT_TOKEN", "A bearer token for Graph, with `--auth token` (e.g. from "
                 "`az account get-access-token`).", "none", _text, secret=True)
STORAGE_KEY = Variable("M365AUDIT_STORAGE_KEY", "The key of pseudonymised storage (`[storage] pseudonymise`; "
                       "`[storage] key_env` may name another variable).", "none", _text, secret=True)
PSEUDONYM_KEY = Variable("M365AUDIT_PSEUDONYM_KEY", "The key of `report --pseudonymise`.", "none", _text,
                         secret=True)
PSEUDONYM_KEY_FILE = Variable("M365AUDIT_PSEUDONYM_KEY_FILE", "A file holding the key of `report "
                              "--pseudonymise`, outside the report folder.", "none", _text)
SIMULATOR_TOKEN = Variable("M365AUDIT_SIMULATOR_TOKEN", "The one token `simulate` accepts (`--token`).",
                           "any token", _text, secret=True)
# Tuning.
AUDIT_RETENTION_DAYS = Variable("M365AUDIT_AUDIT_RETENTION_DAYS", "How many days the tenant's audit log keeps "
                                "(`collect --audit-retention-days`; `run` without `[audit] retention_days`).",
                                "`180`", _whole(1, 3650))
AUDIT_RECORD_TYPES = Variable("M365AUDIT_AUDIT_RECORD_TYPES", "Comma-separated audit record types to collect "
                              "when neither `--record-types` nor `[audit] record_types` names them.",
                              "`CopilotInteraction`", _text)
AUDIT_POLL_SECONDS = Variable("M365AUDIT_AUDIT_POLL_SECONDS", "Seconds between the first status polls of an "
                              "audit query when `[audit] poll_initial` is not set.", "`5`",
                              _seconds(zero_ok=False))
MEMORY_LIMIT = Variable("M365AUDIT_MEMORY_LIMIT", "DuckDB's memory cap for every connection (it spills to disk "
                        "beyond it; docs/performance.md).", "`512MB`", _memory)
DB_WAIT = Variable("M365AUDIT_DB_WAIT", "Seconds to wait for another process's hold on the database file.",
                   "`30` (the collector's writes: `300`)", _seconds(zero_ok=True))
LOG_LEVEL = Variable("M365AUDIT_LOG_LEVEL", "The level of the libraries' log lines on standard error.",
                     "`WARNING`", _level)
PROGRESS = Variable("M365AUDIT_PROGRESS", "How long-running work shows progress (`--progress` of demo, "
                    "collect, import, report and run): auto, bars, json or off.", "`auto`", _text)
DEBUG = Variable("M365AUDIT_DEBUG", "Any value: an internal error shows its traceback.", "unset", _text)
# Test hooks, read by the command line only and passed down.
NOW = Variable("M365AUDIT_NOW", "Pins the clock of `run` and `collect` (ISO date-time), for tests and "
               "reproducible backfills.", "the real time", _text)
MAX_ATTEMPTS = Variable("M365AUDIT_MAX_ATTEMPTS", "Tries of one Graph request before it fails.", "`6`",
                        _whole(1, 100))
RETRY_BASE_DELAY = Variable("M365AUDIT_RETRY_BASE_DELAY", "Seconds of the first retry's backoff (doubling, "
                            "with jitter).", "`1`", _seconds(zero_ok=True))

VARIABLES: tuple[Variable[Any], ...] = (
    DB, GRAPH_URL, AUTH, POLICY, CONFIG, TOKEN, STORAGE_KEY, PSEUDONYM_KEY, PSEUDONYM_KEY_FILE, SIMULATOR_TOKEN,
    AUDIT_RETENTION_DAYS, AUDIT_RECORD_TYPES, AUDIT_POLL_SECONDS, MEMORY_LIMIT, DB_WAIT, LOG_LEVEL, PROGRESS, DEBUG,
    NOW, MAX_ATTEMPTS, RETRY_BASE_DELAY,
)
