"""The one CSV writer: every CSV m365audit writes (check, licences, report, FOI, reject files).

Spreadsheet programs are the readers, so each file:

- ends every line with CRLF, as RFC 4180 and Excel expect;
- quotes any cell holding CR, LF, the delimiter or a quote (a bare CR left
  unquoted ends the row in Excel, and the rest of the cell becomes a new row);
- neutralises formulas (OWASP "CSV injection"): a text cell whose first
  character, after any leading whitespace and control characters, is
  ``= + - @`` (or their full-width forms), or which starts with a tab or CR,
  gets a leading single quote. Numbers stay numbers: ints and floats, and
  text that is a plain decimal number such as ``-5`` or ``1.5e3``;
- drops NUL and the bidirectional overrides and isolates (U+202A-U+202E,
  U+2066-U+2069), which make text display as something it is not.

``display_text`` does the last step for HTML (html.escape does not).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

LINE_END = "\r\n"
_HIDDEN = dict.fromkeys([0x00, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_HIDDEN_PATTERN = "[\x00\u202a-\u202e\u2066-\u2069]"
_FORMULA = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LEADING = re.compile(r"^[\s\x00-\x1f\x7f-\x9f]+")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# The same test as a regular expression, for polars (Rust regex syntax).
_RISKY_PATTERN = r"^(?:[\t\r]|[\s\x00-\x1f\x7f-\x9f]*[=+\-@\x{ff1d}\x{ff0b}\x{ff0d}\x{ff20}])"
_NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def display_text(value: str) -> str:
    """Text without NUL or bidirectional overrides (for CSV, HTML and Markdown)."""
    return value.translate(_HIDDEN)


def is_formula(text: str) -> bool:
    """Would a spreadsheet run this text cell as a formula (or start a new cell or row with it)?"""
    if text.startswith(("\t", "\r")):
        return True
    if _NUMBER.match(text):
        return False
    return _LEADING.sub("", text).startswith(_FORMULA)


def safe_cell(value: Any) -> Any:
    """One cell made safe for a spreadsheet; numbers, booleans and None pass through."""
    if not isinstance(value, str):
        return value
    text = display_text(value)
    return "'" + text if is_formula(text) else text


def write_rows(stream: IO[str], header: Iterable[Any] | None, rows: Iterable[Iterable[Any]]) -> None:
    """Write ``header`` (if any) and ``rows`` to a text stream opened with ``newline=''``."""
    writer = csv.writer(stream, lineterminator=LINE_END, quoting=csv.QUOTE_MINIMAL)
    if header is not None:
        writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])


def csv_text(header: Iterable[Any] | None, rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO(newline="")
    write_rows(out, header, rows)
    return out.getvalue()


def csv_bytes(header: Iterable[Any] | None, rows: Iterable[Iterable[Any]], *, bom: bool = False) -> bytes:
    """UTF-8 bytes; ``bom`` adds the byte-order mark Excel needs to read UTF-8 (accents, the pound sign)."""
    return ("\ufeff" if bom else "").encode() + csv_text(header, rows).encode("utf-8")


def safe_column(name: str) -> pl.Expr:
    """``safe_cell`` as a polars expression over a text column (vectorised, same rules)."""
    import polars as pl

    column = pl.col(name).str.replace_all(_HIDDEN_PATTERN, "")
    risky = column.str.contains(_RISKY_PATTERN) & ~column.str.contains(_NUMBER_PATTERN)
    return pl.when(risky).then(pl.lit("'") + column).otherwise(column).alias(name)


def write_frame(frame: pl.DataFrame, path: Any, text_columns: Iterable[str]) -> None:
    """A polars frame as CSV by the same rules: text columns made safe, CRLF, a field holding CR, LF,
    the comma or a quote quoted (polars' "necessary" style quotes each of them), and a byte-order
    mark so that Excel reads UTF-8 (accents, the pound sign)."""
    names = list(text_columns)
    safe = frame.with_columns([safe_column(n) for n in names]) if names else frame
    safe.write_csv(path, include_bom=True, date_format="%Y-%m-%d", datetime_format="%Y-%m-%dT%H:%M:%SZ",
                   float_precision=None, line_terminator=LINE_END, quote_style="necessary")
