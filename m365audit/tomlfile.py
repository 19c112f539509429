"""Reading the tool's TOML files (policy, nightly config) strictly, with the line of each problem.

Both files refuse a syntax error, an unknown key, a wrong type or an
impossible value with the file, line and key named. Each is parsed once into
immutable pydantic models (``Table``) whose fields are validated by the value
parsers here; ``validate`` turns every pydantic error into the file, line and
key it is about, and reports them all at once.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic_core import ErrorDetails

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


class Table(BaseModel):
    """One table of a TOML file, parsed once: immutable, and an unknown key is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


def parsed(parser: Parser) -> PlainValidator:
    """A field's validator: one of the parsers above (or the file's own), its ValueError the problem."""
    return PlainValidator(parser)


# The problem to report for an unknown key: (section, key, the keys the section knows) -> problem.
UnknownKey = Callable[[str, str, list[str]], str]


def _unknown_key(section: str, key: str, known: list[str]) -> str:
    return f"is not a known key (known: {', '.join(known)})"


T = TypeVar("T", bound=BaseModel)


def validate(model: type[T], data: dict[str, Any], *, text: str, source: str, kind: str,
             context: dict[str, Any] | None = None, unknown_key: UnknownKey = _unknown_key) -> T:
    """``data`` as ``model``, or one UsageError naming every problem with its file, line and key.

    One problem is one sentence ("FILE, line N: section.key problem."); several are joined into one
    line, in the order of the file, so that one edit fixes them all.
    """
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        locate = Locator(text)
        problems = sorted((_problem(model, error, locate, unknown_key) for error in exc.errors()),
                          key=lambda problem: problem[0])
    messages = [f"{source}, line {line}: {problem}" for line, problem in problems]
    if len(messages) == 1:
        raise UsageError(messages[0] + ".")
    raise UsageError(f"The {kind} has {len(messages)} problems: " + "; ".join(messages) + ".")


def _problem(model: type[BaseModel], error: ErrorDetails, locate: Locator, unknown_key: UnknownKey) -> tuple[int, str]:
    """(line, "section.key problem") for one pydantic error, located by its ``loc``."""
    loc = tuple(error["loc"])
    prefix, last = (loc, None) if len(loc) == 1 else (loc[:-1], loc[-1])
    if isinstance(last, int):  # a table of an array of tables ([[section]]) as a whole
        prefix, last = loc, None
    section = ".".join(str(part) for part in prefix if isinstance(part, str))
    occurrence = next((part for part in reversed(prefix) if isinstance(part, int)), 0)
    key = None if last is None else str(last)
    kind = error["type"]
    if kind == "value_error":
        problem = str(error.get("ctx", {}).get("error", error["msg"]))
    elif kind == "extra_forbidden" and key is None:
        problem = f"is not a known section (known: {', '.join(_keys(model))})"
    elif kind == "extra_forbidden":
        problem = unknown_key(section, str(key), _keys(_table_at(model, prefix)))
    elif kind == "missing":
        problem = "is required"
    elif kind in ("tuple_type", "list_type"):
        problem = f"must be an array of tables ([[{section}.{key}]])" if key else \
            f"must be an array of tables ([[{section}]])"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        problem = "must be an array of tables" if isinstance(loc[-1], int) else "must be a table"
    else:
        problem = error["msg"][0].lower() + error["msg"][1:]
    where = f"{section}.{key}" if key else section
    return locate.line_of(section, key, occurrence), f"{where} {problem}"


def _keys(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return sorted(info.alias or name for name, info in model.model_fields.items())


def _table_at(model: type[BaseModel], path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The table model a ``loc`` prefix points into (through nested tables and arrays of tables)."""
    current: type[BaseModel] | None = model
    for part in path:
        if isinstance(part, int) or current is None:
            continue
        field = next((info for name, info in current.model_fields.items() if (info.alias or name) == part), None)
        current = None if field is None else model_in(field.annotation)
    return current


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: ``Table``, ``Table | None`` or ``tuple[Table, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((found for arg in get_args(annotation) if (found := model_in(arg)) is not None), None)
