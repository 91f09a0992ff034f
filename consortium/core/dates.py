"""Dates the whole service counts by."""

from __future__ import annotations

from datetime import date

# An open end, where SQL needs a date: later than any placement or term can run.
FAR_FUTURE = date(9999, 12, 31)


def financial_year(on: date) -> tuple[date, date]:
    """The financial year (1 April to 31 March) a day falls in: its first and last days."""
    start = date(on.year if on.month >= 4 else on.year - 1, 4, 1)
    return start, date(start.year + 1, 3, 31)


def financial_year_start(on: date) -> date:
    return financial_year(on)[0]
