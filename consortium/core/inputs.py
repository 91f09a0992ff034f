"""What the service accepts from people and files, in one place: text without control
characters and within its column, numbers that are finite and bounded, dates within a range,
ids that fit their column. Forms, imports, filters and web addresses all ask here, so they
refuse the same things with the same words.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from consortium.core.formatting import long_day

# Placements, contracts, prices and payments all fall between these (the calendar table covers them).
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
# The largest id, page or count a 32-bit integer column holds.
MAX_INTEGER = 2**31 - 1
MAX_WEEKLY_PENCE = 100_000_000  # £1,000,000.00 a week: far above any real fee or price
MAX_AMOUNT_PENCE = 2_000_000_000  # £20,000,000.00: a cost pool or a statement
MAX_MILES = 1000
# Every decimal a person types is below this in size (the widest numeric column holds 10 digits before the point).
MAX_DECIMAL = Decimal("1e10")

# A version no record has: an edit that carries no readable version is refused as stale.
STALE = 0

# C0 and C1 control characters (NUL among them) and DEL; a multi-line field may hold tab and line breaks.
_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(text: str, multiline: bool = False) -> str | None:
    """The first control character in the text, described for a person, or None."""
    found = (_MULTI_LINE if multiline else _ONE_LINE).search(text)
    if found is None:
        return None
    char = found.group()
    return (
        "a NUL byte"
        if char == "\x00"
        else "a tab or line break"
        if char in "\t\r\n"
        else f"a control character (U+{ord(char):04X})"
    )


def text_problem(label: str, text: str | None, max_length: int | None = None, multiline: bool = False) -> str | None:
    """Why a piece of text cannot be stored, or None."""
    if not text:
        return None
    bad = control_character(text, multiline)
    if bad:
        return f"{label} must not contain {bad}"
    if max_length is not None and len(text) > max_length:
        return f"{label} must be {max_length:,} characters or fewer"
    return None


def strip_control_characters(text: str, multiline: bool = False) -> str:
    """For what the service writes out (file names, exports), never for what it stores."""
    return (_MULTI_LINE if multiline else _ONE_LINE).sub("", text)


def parse_id(value: str | None) -> int | None:
    """An id, page number or count given as text: decimal digits that fit a column, else None."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdecimal() or len(value) > 10:
        return None
    number = int(value)
    return number if number <= MAX_INTEGER else None


def date_problem(label: str, value: date | None, earliest: date = EARLIEST, latest: date = LATEST) -> str | None:
    if value is None or earliest <= value <= latest:
        return None
    return f"{label} must be between {long_day(earliest)} and {long_day(latest)}"


def parse_iso_date(value: str | None, earliest: date = EARLIEST, latest: date = LATEST) -> date | None:
    """A date given in a web address (YYYY-MM-DD) within the range, else None."""
    try:
        parsed = date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return parsed if earliest <= parsed <= latest else None


def date_arguments(args, *keys: str) -> tuple[dict[str, date | None], str | None]:
    """The dates a list is filtered by (`from`, `to`), and what to tell the person when one
    given is not a date within the range (it is then left out)."""
    dates, bad = {}, []
    for key in keys:
        given = (args.get(key) or "").strip()
        boxes = [(args.get(f"{key}_{part}") or "").strip() for part in ("year", "month", "day")]
        if any(boxes):  # the three boxes of the GOV.UK date input, as the period forms send them
            given = "-".join(box.zfill(2) for box in boxes) if all(b.isdecimal() for b in boxes) else "?"
        dates[key] = parse_iso_date(given) if given else None
        if given and dates[key] is None:
            bad.append(key)
    if not bad:
        return dates, None
    return dates, (
        f"The {' and '.join(repr(key) for key in bad)} date{'s' if len(bad) > 1 else ''} must be written "
        f"like 2025-03-27, between {long_day(EARLIEST)} and {long_day(LATEST)}: left out"
    )
