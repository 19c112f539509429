"""How values read in the HTML report and in sentences (the workbook keeps raw typed values)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from m365audit.report.model import Kind

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
NOT_AVAILABLE = "–"


def money(value: float | None, currency: str) -> str:
    if value is None:
        return NOT_AVAILABLE
    symbol = SYMBOLS.get(currency)
    amount = f"{abs(value):,.2f}"
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def count(value: float | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def percent(value: float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{value * 100:.1f}%"


def day(value: date | datetime | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return f"{value:%Y-%m-%d}"


def cell(value: Any, kind: Kind, currency: str) -> str:
    """The text of one table cell (escaped later by the template)."""
    if value is None:
        return NOT_AVAILABLE if kind != "text" else ""
    if kind == "money":
        return money(value, currency)
    if kind == "percent":
        return percent(value)
    if kind in ("int", "float"):
        return count(value)
    if kind in ("date", "datetime"):
        return day(value)
    if kind == "bool":
        return "yes" if value else "no"
    return str(value)


def by_unit(value: float | None, unit: str, currency: str) -> str:
    """A headline figure, formatted by its unit column."""
    if unit == "currency":
        return money(value, currency)
    if unit == "share":
        return percent(value)
    return count(value)

