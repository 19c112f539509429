"""Making tenant-controlled text safe in spreadsheets (CSV, XLSX) and HTML."""

from __future__ import annotations

import html
from typing import Any

from m365audit.csv_output import display_text, safe_cell

spreadsheet_safe = safe_cell  # one rule for CSV and spreadsheets: m365audit/csv_output.py


def html_text(value: Any) -> str:
    """Escaped for HTML, without NUL or bidirectional overrides (which make text read as it is not)."""
    return "" if value is None else html.escape(display_text(str(value)), quote=True)


# C0 and C1 control characters (ANSI escape sequences start with ESC) and the
# bidirectional overrides that can make text display differently from what it is.
_TERMINAL_UNSAFE = dict.fromkeys(
    [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)], " ")


def terminal_text(value: Any) -> str:
    """Tenant-controlled text made safe to print on a terminal: no escape sequences or direction overrides.

    Callers still pass the result to rich as plain ``Text``, never as markup.
    """
    return "" if value is None else str(value).translate(_TERMINAL_UNSAFE)
