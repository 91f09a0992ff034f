"""How numbers and dates are shown: money as £1,234.56 from integer pence, dates as 1 Apr 2024."""

from datetime import date
from decimal import Decimal

from markupsafe import Markup


def money(pence: int | None) -> str:
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    pounds, pennies = divmod(abs(int(pence)), 100)
    return f"{sign}£{pounds:,}.{pennies:02d}"


def number(value) -> str:
    """A measured value without trailing zeros: 78, 70.5."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"


def day(value: date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else ""


def long_day(value: date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


FILTERS = {"money": money, "day": day, "long_day": long_day, "number": number}


def link(href: str, text, hidden: str = "") -> Markup:
    """A GOV.UK link for table cells and summary lists; `hidden` is read out by screen readers only."""
    suffix = Markup('<span class="govuk-visually-hidden"> {}</span>').format(hidden) if hidden else ""
    return Markup('<a class="govuk-link" href="{}">{}{}</a>').format(href, text, suffix)


GLOBALS = {"link": link}
