"""What the nightly job tells its operator: one line per step, JSON when a machine reads it.

On a terminal each step is a readable line; otherwise (cron, systemd, a CI
runner, Azure) each is one JSON object on stderr with the step, its status,
its duration and its counts, which log collectors parse without rules.
Library warnings are routed through the same writer while a run lasts.

Nothing secret is ever written: the values of the environment variables that
hold secrets, bearer tokens and JWT-shaped strings are replaced by
``[redacted]`` in every line, whatever produced it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from m365audit import environment

SECRET_ENV = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD",
              *(variable.name for variable in environment.VARIABLES if variable.secret))
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # a JWT
    re.compile(r"(?i)((?:client_secret|password|access_token|sig)=)[^&\s\"']+"),
)
REDACTED = "[redacted]"


class Redactor:
    """Removes known secret values and token-shaped strings from text."""

    def __init__(self, extra_env: Iterable[str] = ()) -> None:
        names = {*SECRET_ENV, *extra_env}
        # Short values would redact ordinary words; real secrets are long.
        self.values = sorted({v for n in names if len(v := environment.value_of(n) or "") >= 6},
                             key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
        return text


class RunLog:
    """Writes steps and events to ``stream`` (stderr), as JSON lines or for a person."""

    def __init__(self, stream: TextIO | None = None, json_lines: bool | None = None,
                 redactor: Redactor | None = None) -> None:
        self._stream = stream
        self.json_lines = (not self.stream.isatty()) if json_lines is None else json_lines
        self.redact = redactor or Redactor()

    @property
    def stream(self) -> TextIO:
        # stderr as it is now: while progress bars are drawn, rich writes these lines above them.
        return self._stream or sys.stderr

    def step(self, step: str, status: str, seconds: float, counts: dict[str, Any] | None = None,
             message: str | None = None, exit_code: int = 0) -> None:
        """A finished step: an error when it failed, a warning when it decides exit code 1 (findings)."""
        level = "error" if status == "failed" else "warning" if exit_code == 1 else "info"
        self.emit("step", level=level, step=step, status=status,
                  seconds=round(seconds, 3), counts=counts or {}, message=message)

    def emit(self, event: str, level: str = "info", **fields: Any) -> None:
        fields = {k: v for k, v in fields.items() if v is not None}
        if self.json_lines:
            record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": level,
                      "event": event, **fields}
            line = orjson.dumps(record, default=str).decode()
        else:
            line = _human(event, level, fields)
        self.stream.write(self.redact(line) + "\n")
        self.stream.flush()

    def progress(self, record: dict[str, Any]) -> None:
        """A progress record (m365audit/progress.py) as a log line of event "progress"."""
        self.emit("progress", **{k: v for k, v in record.items() if k != "event"})

    @contextmanager
    def capture_library_logs(self, level: int = logging.WARNING) -> Iterator[None]:
        """Route log records (ours and the SDK's) through this writer while the block runs."""
        handler = _Handler(self, level)
        root = logging.getLogger()
        saved = root.handlers[:]
        root.handlers = [handler]
        try:
            yield
        finally:
            root.handlers = saved


class _Handler(logging.Handler):
    def __init__(self, log: RunLog, level: int) -> None:
        super().__init__(level)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not stop the run
            message = str(record.msg)
        self.log.emit("log", level=record.levelname.lower(), logger=record.name, message=message)


def _human(event: str, level: str, fields: dict[str, Any]) -> str:
    if event == "run":
        if fields.get("status") == "started":
            return f"run started: {fields.get('config')} -> {fields.get('database')}"
        return f"run {fields.get('status')}: exit code {fields.get('exit_code')} after {fields.get('seconds', 0):.1f} s"
    if event == "step":
        counts = _flat(fields.get("counts") or {})
        tail = f" ({counts})" if counts else ""
        note = f": {fields['message']}" if fields.get("message") else ""
        return f"{fields['step']:<10} {fields['status']:<8} {fields['seconds']:>8.1f} s{tail}{note}"
    text = fields.pop("message", "")
    rest = " ".join(f"{k}={v}" for k, v in fields.items())
    return f"{level}: {event}: {text} {rest}".rstrip()


def _flat(counts: dict[str, Any], prefix: str = "") -> str:
    parts = []
    for key, value in counts.items():
        if isinstance(value, dict):
            inner = _flat(value, f"{prefix}{key}.")
            if inner:
                parts.append(inner)
        elif isinstance(value, bool | int | float):  # people read numbers; times and paths are in the JSON
            parts.append(f"{prefix}{key}={value}")
    return ", ".join(parts)
