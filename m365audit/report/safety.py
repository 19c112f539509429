"""Making tenant-controlled text safe in spreadsheets (CSV, XLSX) and HTML."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with a single quote (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def html_text(value: Any) -> str:
    return "" if value is None else html.escape(str(value), quote=True)


# C0 and C1 control characters (ANSI escape sequences start with ESC) and the
# bidirectional overrides that can make text display differently from what it is.
_TERMINAL_UNSAFE = dict.fromkeys(
    [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)], " ")


def terminal_text(value: Any) -> str:
    """Tenant-controlled text made safe to print on a terminal: no escape sequences or direction overrides.

    Callers still pass the result to rich as plain ``Text``, never as markup.
    """
    return "" if value is None else str(value).translate(_TERMINAL_UNSAFE)


def spreadsheet_safe_column(name: str) -> pl.Expr:
    """``spreadsheet_safe`` as a polars expression over a text column (same prefixes, vectorised)."""
    import polars as pl

    column = pl.col(name)
    risky = pl.any_horizontal([column.str.starts_with(prefix) for prefix in _FORMULA_START])
    return pl.when(risky).then(pl.lit("'") + column).otherwise(column).alias(name)
