"""Making tenant-controlled text safe in spreadsheets (CSV, XLSX) and HTML."""

from __future__ import annotations

import html
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with a single quote (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def html_text(value: Any) -> str:
    return "" if value is None else html.escape(str(value), quote=True)
