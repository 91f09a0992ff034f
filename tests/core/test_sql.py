"""The SQL written once for SQLite and PostgreSQL: the median and hours between two moments."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import Integer, literal, select, union_all

from consortium.core.extensions import db
from consortium.core.sql import hours_between, median


def values(*numbers):
    return union_all(*(select(literal(n, Integer()).label("v")) for n in numbers))


@pytest.mark.parametrize(
    "numbers, expected",
    [
        ((5,), 5.0),
        ((9, 2, 5), 5.0),  # the middle of 2, 5, 9
        ((12, 2, 9, 5), 7.0),  # between 5 and 9
        ((2, 2, 5, 9, 12), 5.0),
        ((None, 4, None, 10), 7.0),  # no value is not a value
    ],
)
def test_the_median_is_the_middle_value_or_the_mean_of_the_two_middle_ones(numbers, expected):
    assert median(values(*numbers)) == pytest.approx(expected)


def test_the_median_of_nothing_is_none():
    assert median(values(None)) is None


def test_hours_between_two_moments_keep_their_fraction():
    opened = literal(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    placed = literal(datetime(2026, 12, 2, 11, 30, tzinfo=timezone.utc))
    assert db.session.scalar(select(hours_between(opened, placed))) == pytest.approx(26.5)
