"""SQL that SQLite and PostgreSQL spell differently, written once.

Night and money arithmetic runs in the database; these constructs keep it portable.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy import Date, Float, Index, Integer, Select, event, func, insert, select, text, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import FunctionElement

from consortium.core.extensions import db


class days_between(FunctionElement):  # noqa: N801  (reads like the SQL function it is)
    """Whole days from the first date to the second (negative when the second is earlier)."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    first, second = list(element.clauses)
    return f"CAST(julianday({compiler.process(second, **kw)}) - julianday({compiler.process(first, **kw)}) AS INTEGER)"


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    first, second = list(element.clauses)
    return f"({compiler.process(second, **kw)} - {compiler.process(first, **kw)})"


class day_after(FunctionElement):  # noqa: N801
    """The date after a date."""

    type = Date()
    inherit_cache = True


@compiles(day_after, "sqlite")
def _day_after_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+1 day')"


@compiles(day_after)
def _day_after_default(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} + 1)"


class hours_between(FunctionElement):  # noqa: N801
    """Hours, with their fraction, from the first moment to the second."""

    type = Float()
    inherit_cache = True


@compiles(hours_between, "sqlite")
def _hours_between_sqlite(element, compiler, **kw):
    first, second = list(element.clauses)
    return f"((julianday({compiler.process(second, **kw)}) - julianday({compiler.process(first, **kw)})) * 24.0)"


@compiles(hours_between)
def _hours_between_default(element, compiler, **kw):
    first, second = list(element.clauses)
    return f"(EXTRACT(EPOCH FROM ({compiler.process(second, **kw)} - {compiler.process(first, **kw)})) / 3600.0)"


def median(values: Select):
    """The median of a one-column query's values, picked in SQL from the middle of their order
    (the mean of the two middle ones when their number is even); None when there are none. One
    statement: each value's place in the order and their number, then the middle places' mean."""
    inner = values.subquery()
    column = inner.c[0]
    ordered = (
        select(
            column.label("value"),
            func.row_number().over(order_by=column).label("place"),
            func.count().over().label("number"),
        )
        .where(column.is_not(None))
        .subquery()
    )
    # Whole-number division: (n + 1) / 2 and (n + 2) / 2 are the one middle place when n is odd, the two when even.
    middle = ordered.c.place.in_([(ordered.c.number + 1) // 2, (ordered.c.number + 2) // 2])
    found = db.session.scalar(select(func.avg(ordered.c.value)).where(middle))
    return None if found is None else float(found)


class least(FunctionElement):  # noqa: N801
    inherit_cache = True


class greatest(FunctionElement):  # noqa: N801
    inherit_cache = True


@compiles(least, "sqlite")
def _least_sqlite(element, compiler, **kw):
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(least)
def _least_default(element, compiler, **kw):
    return f"least({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element, compiler, **kw):
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(greatest)
def _greatest_default(element, compiler, **kw):
    return f"greatest({compiler.process(element.clauses, **kw)})"


CALENDAR_FROM, CALENDAR_TO = date(2000, 1, 1), date(2100, 12, 31)


class CalendarDay(db.Model):
    """One row per date, 2000 to 2100: lets night-by-night questions be asked as joins."""

    __tablename__ = "calendar"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    month_start: Mapped[date] = mapped_column(Date, index=True)
    # The financial-year quarter the day is in (Q1 is April to June).
    quarter_start: Mapped[date] = mapped_column(Date, index=True)
    quarter_end: Mapped[date] = mapped_column(Date)

    # The first day of each quarter alone (244 rows): "the quarters from ... to ..." reads these.
    __table_args__ = (
        Index(
            "ix_calendar_quarters",
            "quarter_start",
            "quarter_end",
            sqlite_where=text("day = quarter_start"),
            postgresql_where=text("day = quarter_start"),
        ),
    )

    @classmethod
    def visible_to(cls, user):
        return true()


def quarter_of(day: date) -> tuple[date, date]:
    """The first and last day of the financial-year quarter a day is in."""
    start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    following = date(start.year + (start.month + 3 > 12), (start.month + 2) % 12 + 1, 1)
    return start, following - timedelta(days=1)


def calendar_rows(first: date = CALENDAR_FROM, last: date = CALENDAR_TO) -> list[dict]:
    rows = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        start, end = quarter_of(day)
        rows.append({"day": day, "month_start": day.replace(day=1), "quarter_start": start, "quarter_end": end})
    return rows


def _fill_calendar(target, connection, **_):
    connection.execute(insert(target), calendar_rows())


# A schema built from the models gets the calendar too; the migration fills it the same way.
event.listen(CalendarDay.__table__, "after_create", _fill_calendar)


def new_ids(table, count: int, session=None) -> list[int] | None:
    """`count` fresh primary keys from PostgreSQL's sequence, so a bulk insert can be sent as one
    pipelined batch rather than with RETURNING; None on SQLite, where RETURNING is as fast."""
    connection = (session or db.session).connection()
    if connection.dialect.name != "postgresql" or not count:
        return None
    return list(
        connection.scalars(
            select(func.nextval(func.pg_get_serial_sequence(table.name, "id"))).select_from(
                func.generate_series(1, count)
            )
        )
    )


def serialise(connection, name: str, keys=None) -> None:
    """Make transactions that work on the same keys of `name` (all of them, when None) take turns,
    until each commits or rolls back: PostgreSQL's advisory locks. Two that delete and insert
    the same derived rows at once would otherwise clash on their unique keys. SQLite lets one
    transaction write at a time anyway."""
    if connection.dialect.name != "postgresql":
        return
    if keys is None:
        connection.execute(select(func.pg_advisory_xact_lock(_lock_key(name))))
        return
    connection.execute(select(func.pg_advisory_xact_lock_shared(_lock_key(name))))
    for key in sorted({str(k) for k in keys}):  # always in the same order: no deadlock between two
        connection.execute(select(func.pg_advisory_xact_lock(_lock_key(f"{name}:{key}"))))


def _lock_key(text_: str) -> int:
    return int.from_bytes(hashlib.sha256(text_.encode()).digest()[:8], "big", signed=True)
