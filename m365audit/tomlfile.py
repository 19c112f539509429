"""Reading the tool's TOML files (policy, nightly config) strictly, with the line of each problem.

Both files refuse a syntax error, an unknown key, a wrong type or an
impossible value with the file, line and key named; the value parsers and
the line finder they share live here.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from m365audit.errors import UsageError

# A parser turns a TOML value into the setting, or raises ValueError with the problem.
Parser = Callable[[Any], Any]


def read_toml(path: Path, kind: str, hint: str = "") -> tuple[dict[str, Any], str]:
    """The parsed file and its text; any failure is a UsageError naming the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{kind} {path} does not exist{hint}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{kind} {path} cannot be read: {exc}.") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}.") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively; no setting nests deeply.
        raise UsageError(f"{path}: not valid TOML for m365audit: arrays or tables are nested too deeply.") from None


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def number(minimum: float, maximum: float, *, above: bool = False) -> Parser:
    """A finite number (int or float) in [minimum, maximum]; ``above``: strictly above minimum.

    TOML has nan and inf, and floats up to 1e308: none is a price, a tolerance or an interval.
    """
    span = f"above {minimum:g} and at most {maximum:g}" if above else f"from {minimum:g} to {maximum:g}"

    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"must be a finite number {span}")
        if value < minimum or (above and value == minimum) or value > maximum:
            raise ValueError(f"must be a number {span}, not {value:g}")
        return float(value)
    return parse


def whole(minimum: int, maximum: int | None = None) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number")
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise ValueError(f"must be {bound}, not {value}")
        return value
    return parse


def one_of(*choices: str) -> Parser:
    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return str(value)
    return parse


class Locator:
    """Finds the line of a key in the TOML text, for error messages."""

    def __init__(self, source_text: str) -> None:
        self.lines = source_text.splitlines()

    def line_of(self, section: str, key: str | None, occurrence: int = 0) -> int:
        header = re.compile(r"^\s*\[\[?\s*" + re.escape(section) + r"\s*\]\]?\s*(#.*)?$")
        seen = -1
        start = None
        for number, line in enumerate(self.lines, 1):
            if header.match(line):
                seen += 1
                if seen == occurrence:
                    start = number
                    if key is None:
                        return number
                    continue
            if start is not None and number > start:
                if re.match(r"^\s*\[", line):
                    break
                if key and re.match(r"^\s*\"?" + re.escape(key) + r"\"?\s*=", line):
                    return number
        return start or 1
