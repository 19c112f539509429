"""Financial years and the periods an FOI answer reports on.

Days are UTC calendar days throughout: a snapshot taken at 23:30 UTC on
31 March belongs to 31 March, even though it is already 1 April in the UK
during British Summer Time. The difference is at most one hour a year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


@dataclass(frozen=True)
class FinancialYear:
    label: str  # "2025-26" (or "2025" when years start in January)
    start: date
    end: date  # inclusive: 31 March for a UK financial year


@dataclass(frozen=True)
class Period:
    financial_year: FinancialYear
    start: date
    end: date  # inclusive
    held: bool  # the database holds licence snapshots for these days

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def financial_year_of(day: date, start_month: int = 4) -> FinancialYear:
    year = day.year if day.month >= start_month else day.year - 1
    return _year_starting(year, start_month)


def _year_starting(year: int, start_month: int) -> FinancialYear:
    start = date(year, start_month, 1)
    end = date(year + 1, start_month, 1) - timedelta(days=1)
    label = str(year) if start_month == 1 else f"{year}-{(year + 1) % 100:02d}"
    return FinancialYear(label, start, end)


def last_financial_years(as_of: date, years: int, start_month: int = 4) -> list[FinancialYear]:
    """The ``years`` financial years ending with the one containing ``as_of``, oldest first."""
    current = financial_year_of(as_of, start_month)
    return [_year_starting(current.start.year - back, start_month) for back in range(years - 1, -1, -1)]


def reporting_periods(years: list[FinancialYear], as_of: date, first_held: date) -> list[Period]:
    """Each year up to ``as_of``, split where the snapshots begin into not-held and held parts."""
    periods: list[Period] = []
    for fy in years:
        end = min(fy.end, as_of)
        if first_held > end:
            periods.append(Period(fy, fy.start, end, held=False))
        elif first_held > fy.start:
            periods.append(Period(fy, fy.start, first_held - timedelta(days=1), held=False))
            periods.append(Period(fy, first_held, end, held=True))
        else:
            periods.append(Period(fy, fy.start, end, held=True))
    return periods


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` (UTC): snapshots before it count for ``day``."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def utc_day(instant: datetime) -> date:
    return instant.astimezone(UTC).date()
