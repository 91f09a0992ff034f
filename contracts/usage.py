"""Usage of contracts, all computed in SQL: occupancy night by night, utilisation, voids and
their cost, placements and bed-nights per member authority, and spend.

Nights: a placement occupies a bed each night from its start date up to, not including, its end
date. A period is its first and last night, both included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import BigInteger, Date, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import aliased

from consortium.core.dates import FAR_FUTURE
from consortium.core.extensions import db
from consortium.core.money import div_half_up, percent
from consortium.core.sql import CalendarDay, days_between, greatest, least, quarter_of
from contracts.models import BlockNight, Contract, Placement, PlacementFee


def _day(value: date):
    return literal(value, Date)


def _nightly_many(condition, first, last):
    """One row per block matching `condition` and night of [first, last] in its term (SQL
    expressions, which may use the contract's columns): capacity (beds less beds out of use),
    occupied (the placements that night, at most the capacity) and the price per bed-week that
    night, read from the block nights kept by `contracts.summaries`."""
    return (
        select(
            BlockNight.contract_id,
            BlockNight.day,
            Contract.beds,
            BlockNight.capacity,
            BlockNight.occupied,
            BlockNight.price,
        )
        .join(Contract, Contract.id == BlockNight.contract_id)
        .where(condition, BlockNight.day.between(first, last))
        .subquery("nightly")
    )


def nightly(contract: Contract, first: date, last: date):
    """The nights of [first, last] of one block (see `_nightly_many`)."""
    return _nightly_many(Contract.id == contract.id, _day(first), _day(last))


@dataclass
class Occupancy:
    """A block contract's use over some nights."""

    first: date
    last: date
    nights: int
    capacity: int  # bed-nights available (beds out of use left out)
    occupied: int
    void_cost_pence: int
    cost_pence: int = 0  # beds x price for every night, used or not

    @property
    def void(self) -> int:
        return self.capacity - self.occupied

    @property
    def utilisation(self) -> Decimal | None:
        """Percent to one decimal place, or None when there was no capacity."""
        return percent(self.occupied, self.capacity)

    @property
    def average_occupied_beds(self) -> Decimal | None:
        return (Decimal(self.occupied) / self.nights).quantize(Decimal("0.1")) if self.nights else None


def _totals(night, group_by=None):
    columns = [
        func.count().label("nights"),
        func.coalesce(func.sum(night.c.capacity), 0).label("capacity"),
        func.coalesce(func.sum(night.c.occupied), 0).label("occupied"),
        func.coalesce(func.sum((night.c.capacity - night.c.occupied) * night.c.price), 0).label("void_price"),
        func.coalesce(func.sum(night.c.beds * night.c.price), 0).label("full_price"),
        func.min(night.c.day).label("first"),
        func.max(night.c.day).label("last"),
    ]
    query = select(*columns)
    if group_by is not None:
        query = query.add_columns(group_by).group_by(group_by).order_by(group_by)
    return query


def _occupancy(row) -> Occupancy:
    return Occupancy(
        first=row.first,
        last=row.last,
        nights=row.nights,
        capacity=int(row.capacity),
        occupied=int(row.occupied),
        void_cost_pence=div_half_up(int(row.void_price), 7),
        cost_pence=div_half_up(int(row.full_price), 7),
    )


def occupancy(contract: Contract, first: date, last: date) -> Occupancy:
    """Utilisation, void bed-nights and void cost of a block over [first, last] (DESIGN §4)."""
    row = db.session.execute(_totals(nightly(contract, first, last))).one()
    if not row.nights:
        return Occupancy(first, last, 0, 0, 0, 0)
    return _occupancy(row)


def occupancies(condition, first, last) -> dict[int, Occupancy]:
    """`occupancy` of every block matching `condition`, each over its own [first, last] (SQL
    expressions that may use the contract's columns, such as its term): one query."""
    return occupancies_from(occupancies_query(condition, first, last))


def occupancies_query(condition, first, last):
    night = _nightly_many(condition, first, last)
    return _totals(night, night.c.contract_id)


def occupancies_from(query, params=None) -> dict[int, Occupancy]:
    """The occupancies an `occupancies_query` finds (with its bind parameters, if it has any)."""
    return {row.contract_id: _occupancy(row) for row in db.session.execute(query, params or {})}


def monthly_occupancy(contract: Contract, first: date, last: date) -> list[Occupancy]:
    """The same, month by month (a part month where [first, last] starts or ends inside one)."""
    night = nightly(contract, first, last)
    query = _totals(night, CalendarDay.month_start).join(CalendarDay, CalendarDay.day == night.c.day)
    return [_occupancy(row) for row in db.session.execute(query)]


def window_occupancies(blocks: list[Contract], as_of: date) -> dict[int, Occupancy]:
    """Each block's occupancy over its underuse window: the `underuse_window_nights` nights before
    `as_of`, clipped to its term. A block with none of those nights in its term is left out. One
    query per window length (nearly every block keeps the default)."""
    found: dict[int, Occupancy] = {}
    for nights in {block.underuse_window_nights for block in blocks}:
        found |= occupancies(
            Contract.id.in_([block.id for block in blocks if block.underuse_window_nights == nights]),
            greatest(Contract.start_date, _day(as_of - timedelta(days=nights))),
            least(Contract.end_date, _day(as_of - timedelta(days=1))),
        )
    return found


# ---------------------------------------------------------------- per member authority


def _nights_in(first: date, last: date):
    """Nights each placement occupied within [first, last]."""
    after_last = last + timedelta(days=1)
    start = greatest(Placement.start_date, _day(first))
    end = least(func.coalesce(Placement.end_date, _day(FAR_FUTURE)), _day(after_last))
    return greatest(days_between(start, end), 0)


def _under(consortium_id: int, contract_id: int | None):
    """Placements under the consortium's contracts (spot placements never count), or one contract."""
    if contract_id is not None:
        return Placement.contract_id == contract_id
    return Placement.contract_id.in_(select(Contract.id).where(Contract.consortium_id == consortium_id))


def placements_started(consortium_id: int, first: date, last: date, contract_id: int | None = None) -> dict[str, int]:
    """Placements started in [first, last] under the consortium's contracts, per authority."""
    query = (
        select(Placement.authority_code, func.count(Placement.id))
        .where(_under(consortium_id, contract_id), Placement.start_date.between(first, last))
        .group_by(Placement.authority_code)
    )
    return dict(db.session.execute(query).all())


def bed_nights(consortium_id: int, first: date, last: date, contract_id: int | None = None) -> dict[str, int]:
    """Nights occupied in [first, last] under the consortium's contracts, per authority."""
    query = (
        select(Placement.authority_code, func.sum(_nights_in(first, last)))
        .where(
            _under(consortium_id, contract_id),
            Placement.start_date <= last,
            or_(Placement.end_date.is_(None), Placement.end_date > first),
        )
        .group_by(Placement.authority_code)
    )
    return {code: int(nights) for code, nights in db.session.execute(query) if nights}


def spend(first: date, last: date, authority_codes: list[str] | None = None) -> dict[str, int]:
    """Spend in pence per authority (see `spend_and_nights`)."""
    return {key[0]: pence for key, (pence, _) in spend_and_nights(first, last, authority_codes).items()}


def spend_and_nights(
    first: date,
    last: date,
    authority_codes: list[str] | None = None,
    by: tuple = (Placement.authority_code,),
    condition=None,
) -> dict[tuple, tuple[int, int]]:
    """Spend in pence and nights on framework and spot placements in [first, last], grouped by
    placement columns (`by`): each fee applies from its date until the next fee or the
    placement's end. Block placements cost the block's price and are never spend here."""
    # The next fee's date, looked up per fee through the (placement, date) index: a window over
    # every fee in the country would be computed before the period's few placements are picked.
    later = aliased(PlacementFee)
    next_from = (
        select(func.min(later.effective_from))
        .where(later.placement_id == PlacementFee.placement_id, later.effective_from > PlacementFee.effective_from)
        .scalar_subquery()
    )
    after_last = last + timedelta(days=1)
    start = greatest(PlacementFee.effective_from, Placement.start_date, _day(first))
    end = least(
        func.coalesce(next_from, _day(FAR_FUTURE)),
        func.coalesce(Placement.end_date, _day(FAR_FUTURE)),
        _day(after_last),
    )
    nights = greatest(days_between(start, end), 0)
    query = (
        # Pence-nights overflow PostgreSQL's integer (£15,000 a week for seven years).
        select(*by, func.sum(nights * cast(PlacementFee.weekly_pence, BigInteger)), func.sum(nights))
        .select_from(Placement)
        .join(PlacementFee, PlacementFee.placement_id == Placement.id)
        .outerjoin(Contract, Contract.id == Placement.contract_id)
        .where(
            or_(Placement.contract_id.is_(None), Contract.kind == "framework"),
            PlacementFee.effective_from <= last,
            Placement.start_date <= last,
            or_(Placement.end_date.is_(None), Placement.end_date > first),
        )
        .group_by(*by)
    )
    if authority_codes is not None:
        query = query.where(Placement.authority_code.in_(authority_codes))
    if condition is not None:
        query = query.where(condition)
    return {
        tuple(row[: len(by)]): (div_half_up(int(row[-2]), 7), int(row[-1]))
        for row in db.session.execute(query)
        if row[-2]
    }


def quarterly(consortium_id: int, first: date, last: date) -> dict[tuple[date, str], tuple[int, int]]:
    """Placements started and nights occupied under the consortium's contracts, per financial
    quarter from the one containing `first` up to `last`, per authority: one query."""
    quarters = (
        select(CalendarDay.quarter_start.label("start"), least(CalendarDay.quarter_end, _day(last)).label("end"))
        .where(
            CalendarDay.day == CalendarDay.quarter_start,
            CalendarDay.day.between(_day(quarter_of(first)[0]), _day(last)),
        )
        .subquery("quarters")
    )
    ends = func.coalesce(Placement.end_date, _day(FAR_FUTURE))
    # Nights from the later of the starts to the earlier of the ends; the quarter's last night
    # counts when the placement runs past it.
    nights = greatest(
        days_between(greatest(Placement.start_date, quarters.c.start), least(ends, quarters.c.end))
        + case((ends > quarters.c.end, 1), else_=0),
        0,
    )
    started = case((Placement.start_date.between(quarters.c.start, quarters.c.end), 1), else_=0)
    query = (
        select(quarters.c.start, Placement.authority_code, func.sum(started), func.sum(nights))
        .select_from(quarters)
        .join(Placement, and_(Placement.start_date <= quarters.c.end, ends > quarters.c.start))
        .where(_under(consortium_id, None))
        .group_by(quarters.c.start, Placement.authority_code)
    )
    return {(start, code): (int(s or 0), int(n or 0)) for start, code, s, n in db.session.execute(query)}
