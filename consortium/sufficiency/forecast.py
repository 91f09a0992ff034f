"""The sufficiency forecast (DESIGN §4b): how many placements of a type will be open at each of
the next 24 month-ends, from how long placements have lasted (Kaplan-Meier survival over five
years of them) and how many started a day last year; beside the block beds contracted.

The database groups the placements (by duration, by age); Python then steps through at most a
few thousand days of the survival curve, never through placements one by one.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, literal, or_, select

from consortium.core.extensions import db
from consortium.core.models import Authority, Consortium, Membership
from consortium.core.sql import CalendarDay, days_between
from contracts.models import Contract, Placement, care_type_of_provision

MONTHS = 24
HISTORY_YEARS = 5
DAYS_A_MONTH = Decimal("365.25") / 12
# Each placement type's kind of home, for the block beds beside its forecast.
KIND_OF_TYPE = {
    "residential": "residential",
    "residential_education": "residential",
    "supported_accommodation": "supported",
    "in_house_fostering": "foster",
    "ifa_fostering": "foster",
    "kinship": "foster",
}


@dataclass(frozen=True)
class Scope:
    """Whose placements: one authority's, or those of a consortium's member authorities."""

    name: str
    authority_codes: tuple[str, ...]
    consortium_id: int | None = None  # a consortium's members; None: one authority
    authority_code: str | None = None


def consortium_scope(consortium: Consortium, on: date) -> Scope:
    codes = db.session.scalars(
        select(Membership.authority_code).where(
            Membership.consortium_id == consortium.id,
            Membership.joined <= on,
            or_(Membership.left.is_(None), Membership.left >= on),
        )
    ).all()
    return Scope(consortium.name, tuple(sorted(codes)), consortium.id)


def authority_scope(authority: Authority) -> Scope:
    return Scope(authority.name, (authority.code,), authority_code=authority.code)


class Survival:
    """S(d): the share of placements still open d days after they started (open on day
    start + d, i.e. lasting more than d nights), the Kaplan-Meier estimate from (duration,
    ended, censored) counts. A placement still open on the as-of day is censored at its age:
    it is at risk of ending up to that day and counts for no ending."""

    def __init__(self, rows: list[tuple[int, int, int]]):
        self.total = at_risk = sum(ended + censored for _, ended, censored in rows)
        self.steps: list[tuple[int, float]] = []  # (day, S from that day on), where S falls
        share = 1.0
        for day, ended, censored in sorted(rows):
            if ended and at_risk:
                share *= 1 - ended / at_risk
                self.steps.append((day, share))
            at_risk -= ended + censored

    def curve(self, last_day: int) -> list[float]:
        """S(0), S(1), ... S(last_day); flat after the last ending seen."""
        values, share, steps = [], 1.0, iter(self.steps)
        following = next(steps, None)
        for day in range(last_day + 1):
            while following is not None and following[0] <= day:
                share = following[1]
                following = next(steps, None)
            values.append(share)
        return values

    def median_days(self) -> int | None:
        """The first day by which half have ended; None if fewer than half ever did."""
        return next((day for day, share in self.steps if share <= 0.5), None)


@dataclass
class Point:
    month_end: date
    forecast: Decimal  # placements open that day, to one decimal
    block_beds: int

    @property
    def gap(self) -> Decimal:
        return self.forecast - self.block_beds


@dataclass
class Forecast:
    scope: Scope
    placement_type: str
    as_of: date
    points: list[Point]
    open_now: int
    starts_last_year: int
    median_days: int | None
    history: int  # placements the survival was estimated from

    @property
    def starts_a_month(self) -> Decimal:
        return _tenths(Decimal(self.starts_last_year) / 12)

    @property
    def median_months(self) -> Decimal | None:
        return None if self.median_days is None else _tenths(Decimal(self.median_days) / DAYS_A_MONTH)


def _tenths(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def month_ends(after: date, count: int = MONTHS) -> list[date]:
    """The `count` month-ends after a day (the day itself never)."""
    ends, year, month = [], after.year, after.month
    while len(ends) < count:
        end = date(year, month, calendar.monthrange(year, month)[1])
        if end > after:
            ends.append(end)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ends


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _placements(scope: Scope, placement_type: str):
    return (Placement.authority_code.in_(scope.authority_codes), Placement.placement_type == placement_type)


def survival_rows(scope: Scope, placement_type: str, as_of: date) -> list[tuple[int, int, int]]:
    """(days, ended, still open) over the placements started in the five years up to the day:
    an ended placement's nights, or an open one's age on the day."""
    ended = (Placement.end_date.is_not(None)) & (Placement.end_date <= as_of)
    days = case(
        (ended, days_between(Placement.start_date, Placement.end_date)),
        else_=days_between(Placement.start_date, literal(as_of)),
    )
    rows = db.session.execute(
        select(days, func.sum(case((ended, 1), else_=0)), func.sum(case((ended, 0), else_=1)))
        .where(
            *_placements(scope, placement_type),
            Placement.start_date > years_before(as_of, HISTORY_YEARS),
            Placement.start_date <= as_of,
        )
        .group_by(days)
    ).all()
    return [(int(d), int(e), int(c)) for d, e, c in rows]


def open_by_age(scope: Scope, placement_type: str, as_of: date) -> list[tuple[int, int]]:
    """(age in days, placements) of those open on the day, however long ago they started."""
    age = days_between(Placement.start_date, literal(as_of))
    rows = db.session.execute(
        select(age, func.count())
        .where(
            *_placements(scope, placement_type),
            Placement.start_date <= as_of,
            or_(Placement.end_date.is_(None), Placement.end_date > as_of),
        )
        .group_by(age)
    ).all()
    return [(int(a), int(n)) for a, n in rows]


def starts_in_year(scope: Scope, placement_type: str, as_of: date) -> int:
    return db.session.scalar(
        select(func.count(Placement.id)).where(
            *_placements(scope, placement_type),
            Placement.start_date > as_of - timedelta(days=365),
            Placement.start_date <= as_of,
        )
    )


def project(survival: Survival, open_ages: list[tuple[int, int]], daily_starts: float, as_of: date, days: list[date]):
    """For each day after `as_of`: Σ over open placements S(age + Δ) / S(age), plus the starts a
    day × Σ for t = 1..Δ of S(Δ − t). A placement whose own age has S = 0 (older than every
    ending seen, after which S is flat at 0) counts for nothing."""
    furthest = max((d - as_of).days for d in days)
    oldest = max((age for age, _ in open_ages), default=0)
    curve = survival.curve(oldest + furthest)
    running, total = [], 0.0  # running[k] = S(0) + ... + S(k - 1)
    for share in curve[: furthest + 1]:
        running.append(total)
        total += share
    running.append(total)
    values = []
    for day in days:
        delta = (day - as_of).days
        staying = sum(n * curve[age + delta] / curve[age] for age, n in open_ages if curve[age] > 0)
        values.append(staying + daily_starts * running[delta])
    return values


def block_beds(scope: Scope, placement_type: str, days: list[date]) -> list[int]:
    """The beds of the scope's blocks whose homes give the type's kind of placement, in their term on each day:
    the consortium's blocks, or for an authority the blocks it holds itself, in any consortium."""
    kind = KIND_OF_TYPE.get(placement_type)
    if kind is None:
        return [0 for _ in days]
    query = select(Contract).where(Contract.kind == "block")
    if scope.authority_code is not None:
        query = query.where(Contract.owner_code == scope.authority_code)
    else:
        query = query.where(Contract.consortium_id == scope.consortium_id)
    blocks = [
        b for b in db.session.scalars(query) if b.homes and care_type_of_provision(b.homes[0].provision_type) == kind
    ]
    return [sum(b.beds for b in blocks if b.start_date <= day <= b.end_date) for day in days]


def forecast(scope: Scope, placement_type: str, as_of: date, months: int = MONTHS) -> Forecast:
    rows = survival_rows(scope, placement_type, as_of)
    survival = Survival(rows)
    ages = open_by_age(scope, placement_type, as_of)
    started = starts_in_year(scope, placement_type, as_of)
    days = month_ends(as_of, months)
    values = project(survival, ages, started / 365, as_of, days)
    beds = block_beds(scope, placement_type, days)
    return Forecast(
        scope=scope,
        placement_type=placement_type,
        as_of=as_of,
        points=[Point(day, _tenths(value), bed) for day, value, bed in zip(days, values, beds)],
        open_now=sum(n for _, n in ages),
        starts_last_year=started,
        median_days=survival.median_days(),
        history=survival.total,
    )


@dataclass
class BackTest:
    """The forecast made a year before the as-of day, against the placements open on its month-ends."""

    made_on: date
    rows: list[tuple[date, Decimal, int]]  # month-end, forecast then, open in fact

    @property
    def mean_error(self) -> Decimal | None:
        """The mean of |forecast − open|, in placements."""
        if not self.rows:
            return None
        return _tenths(sum(abs(f - n) for _, f, n in self.rows) / len(self.rows))

    @property
    def mean_percent_error(self) -> Decimal | None:
        """The mean of |forecast − open| ÷ open, over the month-ends with any open."""
        counted = [(f, n) for _, f, n in self.rows if n]
        if not counted:
            return None
        return _tenths(sum(abs(f - n) / n for f, n in counted) * 100 / len(counted))


def open_on(scope: Scope, placement_type: str, days: list[date]) -> dict[date, int]:
    """Placements of the scope and type open on each day (start ≤ day < end), in one query."""
    rows = db.session.execute(
        select(CalendarDay.day, func.count(Placement.id))
        .select_from(CalendarDay)
        .outerjoin(
            Placement,
            (Placement.start_date <= CalendarDay.day)
            & (or_(Placement.end_date.is_(None), Placement.end_date > CalendarDay.day))
            & Placement.authority_code.in_(scope.authority_codes)
            & (Placement.placement_type == placement_type),
        )
        .where(CalendarDay.day.in_(days))
        .group_by(CalendarDay.day)
    ).all()
    return {day: int(n) for day, n in rows}


def back_test(scope: Scope, placement_type: str, as_of: date) -> BackTest:
    made_on = as_of - timedelta(days=365)
    then = forecast(scope, placement_type, made_on, months=12)
    days = [p.month_end for p in then.points if p.month_end <= as_of]
    actual = open_on(scope, placement_type, days)
    return BackTest(
        made_on, [(p.month_end, p.forecast, actual.get(p.month_end, 0)) for p in then.points if p.month_end in actual]
    )
