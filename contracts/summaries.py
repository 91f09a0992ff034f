"""Figures kept as rows so that pages do not work them out from years of placements.

Usage: for each series (consortium, authority, placement type) the running totals on each day
something changed (`UsageDay`). Any period's placements open, started and active, distances,
paid nights and spend are then read from three rows per series, however long the period.

Block nights: each night of each block contract's term with its capacity, occupancy and price
(`BlockNight`), so that occupancy over any window is a sum over its nights.

Both are worked out again at every flush, with the return obligations of `contracts.returns`,
for the authorities and contracts a write touched: usage and obligations from the day of the
change onwards, a block's nights whole. The bulk inserts of the placements import and the
national seed call the refreshes themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import (
    Date,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from consortium.core.access import Viewer, scoped, viewer
from consortium.core.dates import FAR_FUTURE
from consortium.core.extensions import db
from consortium.core.money import div_half_up
from consortium.core.sql import (
    CALENDAR_FROM,
    CalendarDay,
    day_after,
    days_between,
    greatest,
    least,
    serialise,
)
from contracts import returns
from contracts.models import (
    BedOutage,
    BlockNight,
    BlockPrice,
    Contract,
    Placement,
    PlacementFee,
    UsageDay,
    UsageSeries,
)

DAY_ZERO = CALENDAR_FROM  # day numbers count from here
BEGINNING = date.min  # every series has a row of zeros on this day, so any day finds a row on or before it
WITHIN_MILES = 20
LEVELS = ("placed", "known", "within", "started", "started_known", "started_within", "paying", "rate")


# ---------------------------------------------------------------- keeping the rows current


def refresh_usage(authority_codes=None, session: Session | None = None, since: date | None = None) -> None:
    """Work out again the usage series of some authorities (all when None) from their placements
    and fees: from nothing, or, given `since` (no change to them is earlier), its rows from that
    day on, each series carrying on from its row before it. Flushes nothing, so it may run
    inside a flush."""
    connection = (session or db.session).connection()
    codes = None if authority_codes is None else sorted(set(authority_codes))
    if codes == []:
        return
    serialise(connection, "usage", codes)
    for statement in _usage_statements(codes is not None, since is not None):
        connection.execute(statement, {"codes": codes, "since": since})


@lru_cache(maxsize=4)
def _usage_statements(some: bool, from_day: bool) -> list:
    """`refresh_usage`'s statements, for some authorities (the bind parameter `codes`) or all,
    from nothing or from a day (`since`): built once and kept, as a save runs them each time."""
    codes, since = bindparam("codes", expanding=True), bindparam("since", type_=Date)
    series = UsageSeries.authority_code.in_(codes) if some else true()
    placements = select(
        Placement.id,
        Placement.authority_code,
        Placement.placement_type,
        Placement.start_date,
        Placement.end_date,
        Placement.distance_miles,
        Contract.consortium_id,
        or_(Placement.contract_id.is_(None), Contract.kind == "framework").label("paid"),
    ).outerjoin(Contract, Contract.id == Placement.contract_id)
    if some:
        placements = placements.where(Placement.authority_code.in_(codes))
    days_of = UsageDay.series_id.in_(select(UsageSeries.id).where(series))
    if from_day:
        # Series left with no placements go; a new one starts with its row of zeros.
        empty = series & ~exists(placements.where(_same_key(placements.selected_columns)))
        statements = [
            delete(UsageDay).where(UsageDay.series_id.in_(select(UsageSeries.id).where(empty))),
            delete(UsageSeries).where(empty),
            delete(UsageDay).where(days_of, UsageDay.day >= since),
        ]
    else:
        statements = [delete(UsageDay).where(days_of), delete(UsageSeries).where(series)]
    keys = placements.subquery("keys")
    statements.append(
        insert(UsageSeries).from_select(
            ["consortium_id", "authority_code", "placement_type"],
            select(keys.c.consortium_id, keys.c.authority_code, keys.c.placement_type)
            .distinct()
            .where(~exists(select(UsageSeries.id).where(_same_key(keys.c)))),
        )
    )
    statements.append(
        insert(UsageDay).from_select(
            ["series_id", "day", *LEVELS, "paying_days", "rate_days"],
            select(UsageSeries.id, literal(BEGINNING, Date), *[literal(0)] * (len(LEVELS) + 2)).where(
                series, ~exists(select(UsageDay.day).where(UsageDay.series_id == UsageSeries.id))
            ),
        )
    )
    if from_day:
        # Only placements with a change on or after `since` (an ending, or a fee, of an open one).
        placements = placements.where(
            or_(Placement.start_date >= since, Placement.end_date >= since, Placement.end_date.is_(None))
        )
    placements = placements.subquery("placements")
    # Worked out once and read by each kind of change (inlined, PostgreSQL ran it four times over).
    keyed = (
        select(placements, UsageSeries.id.label("series_id"))
        .join(UsageSeries, _same_key(placements.c))
        .cte("keyed")
        .prefix_with("MATERIALIZED")
    )
    per_day = _changes(keyed, since if from_day else None)
    number = days_between(literal(DAY_ZERO, Date), per_day.c.day)
    in_order = {"partition_by": per_day.c.series_id, "order_by": per_day.c.day}
    sums = [
        *(func.sum(per_day.c[name]).over(**in_order) for name in LEVELS),
        func.sum(per_day.c.paying * number).over(**in_order),
        func.sum(per_day.c.rate * number).over(**in_order),
    ]
    if from_day:
        # Each series carries on from its newest row before the day.
        latest = (
            select(UsageDay.series_id, func.max(UsageDay.day).label("day"))
            .where(days_of, UsageDay.day < since)
            .group_by(UsageDay.series_id)
            .subquery("latest")
        )
        base = (
            select(UsageDay)
            .join(latest, and_(UsageDay.series_id == latest.c.series_id, UsageDay.day == latest.c.day))
            .subquery("base")
        )
        running = select(
            per_day.c.series_id,
            per_day.c.day,
            *(base.c[name] + total for name, total in zip((*LEVELS, "paying_days", "rate_days"), sums)),
        ).join(base, base.c.series_id == per_day.c.series_id)
    else:
        running = select(per_day.c.series_id, per_day.c.day, *sums)
    statements.append(insert(UsageDay).from_select(["series_id", "day", *LEVELS, "paying_days", "rate_days"], running))
    return statements


def _same_key(columns):
    """The usage series of placements' columns (consortium, authority, placement type)."""
    return and_(
        func.coalesce(UsageSeries.consortium_id, 0) == func.coalesce(columns.consortium_id, 0),
        UsageSeries.authority_code == columns.authority_code,
        UsageSeries.placement_type == columns.placement_type,
    )


def _changes(keyed, since: date | None):
    """Per series and day, how each level changed: placements starting (+1) and ending (-1),
    fees beginning and stopping (a fee runs from its date, or the placement's start, to the next
    fee's date or the placement's end); on or after `since`, when given."""
    known = case((keyed.c.distance_miles.is_not(None), 1), else_=0)
    within = case((keyed.c.distance_miles <= WITHIN_MILES, 1), else_=0)
    zero = literal(0)

    def change(day, placed, known_, within_, started, paying, rate):
        return select(
            keyed.c.series_id,
            day.label("day"),
            placed.label("placed"),
            known_.label("known"),
            within_.label("within"),
            started.label("started"),
            (started * known).label("started_known"),
            (started * within).label("started_within"),
            paying.label("paying"),
            rate.label("rate"),
        )

    next_from = func.lead(PlacementFee.effective_from).over(
        partition_by=PlacementFee.placement_id, order_by=PlacementFee.effective_from
    )
    far = literal(FAR_FUTURE, Date)
    spans = (
        select(
            keyed.c.series_id,
            PlacementFee.weekly_pence,
            greatest(PlacementFee.effective_from, keyed.c.start_date).label("start"),
            least(func.coalesce(next_from, far), func.coalesce(keyed.c.end_date, far)).label("end"),
        )
        .join(PlacementFee, PlacementFee.placement_id == keyed.c.id)
        .where(keyed.c.paid)
        .subquery("spans")
    )
    fees = select(spans).where(spans.c.start < spans.c.end).cte("fees").prefix_with("MATERIALIZED")
    one = literal(1)

    def fee_change(day, sign):
        return select(
            fees.c.series_id,
            day.label("day"),
            zero,
            zero,
            zero,
            zero,
            zero,
            zero,
            (sign * one).label("paying"),
            (sign * fees.c.weekly_pence).label("rate"),
        )

    changes = union_all(
        change(keyed.c.start_date, one, known, within, one, zero, zero),
        change(keyed.c.end_date, -one, -known, -within, zero, zero, zero).where(keyed.c.end_date.is_not(None)),
        fee_change(fees.c.start, 1),
        fee_change(fees.c.end, -1).where(fees.c.end < far),
    ).subquery("changes")
    per_day = select(changes.c.series_id, changes.c.day, *(func.sum(changes.c[name]).label(name) for name in LEVELS))
    if since is not None:
        per_day = per_day.where(changes.c.day >= since)
    return per_day.group_by(changes.c.series_id, changes.c.day).subquery("per_day")


def refresh_all(session: Session | None = None) -> None:
    """Every summary worked out again from nothing: after bulk inserts, or data changed by SQL
    outside the service (`flask summaries refresh`)."""
    refresh_usage(session=session)
    refresh_block_nights(session=session)
    returns.refresh_obligations(session=session)


def refresh_block_nights(contract_ids=None, session: Session | None = None) -> None:
    """Work out again the nights of some block contracts (all when None) from their placements,
    beds out of use and prices; flushes nothing, so it may run inside a flush. Each level is a
    running sum of its changes (a placement starting, +1; ending, -1; and so on) over the nights."""
    connection = (session or db.session).connection()
    blocks = Contract.kind == "block"
    stale = delete(BlockNight)
    if contract_ids is not None:
        ids = sorted(set(contract_ids))
        if not ids:
            return
        blocks = blocks & Contract.id.in_(ids)
        stale = stale.where(BlockNight.contract_id.in_(ids))
    serialise(connection, "block nights", None if contract_ids is None else ids)
    connection.execute(stale)
    in_blocks = select(Contract.id).where(blocks)
    zero = literal(0)

    def change(model, day, placed, out, price, *where):
        return select(
            model.contract_id, day.label("day"), placed.label("placed"), out.label("out_of_use"), price.label("price")
        ).where(model.contract_id.in_(in_blocks), *where)

    changes = union_all(
        # Every night of each term, so that each has a row whatever changed before it.
        select(
            Contract.id.label("contract_id"),
            CalendarDay.day.label("day"),
            zero.label("placed"),
            zero.label("out_of_use"),
            zero.label("price"),
        )
        .join(CalendarDay, CalendarDay.day.between(Contract.start_date, Contract.end_date))
        .where(blocks),
        change(Placement, Placement.start_date, literal(1), zero, zero),
        change(Placement, Placement.end_date, literal(-1), zero, zero, Placement.end_date.is_not(None)),
        change(BedOutage, BedOutage.start_date, zero, BedOutage.beds, zero),
        change(BedOutage, BedOutage.end_date, zero, -BedOutage.beds, zero, BedOutage.end_date.is_not(None)),
        change(BlockPrice, BlockPrice.effective_from, zero, zero, BlockPrice.weekly_pence),
        change(
            BlockPrice,
            day_after(BlockPrice.effective_to),
            zero,
            zero,
            -BlockPrice.weekly_pence,
            BlockPrice.effective_to.is_not(None),
        ),
    ).subquery("changes")
    per_day = (
        select(
            changes.c.contract_id,
            changes.c.day,
            *(func.sum(changes.c[name]).label(name) for name in ("placed", "out_of_use", "price")),
        )
        .group_by(changes.c.contract_id, changes.c.day)
        .subquery("per_day")
    )
    in_order = {"partition_by": per_day.c.contract_id, "order_by": per_day.c.day}
    # Prices never overlap (DESIGN §4), so the running sum is the one price in force.
    levels = select(
        per_day.c.contract_id,
        per_day.c.day,
        *(func.sum(per_day.c[name]).over(**in_order).label(name) for name in ("placed", "out_of_use", "price")),
    ).subquery("levels")
    capacity = greatest(Contract.beds - levels.c.out_of_use, 0)
    nights = (
        select(levels.c.contract_id, levels.c.day, capacity, least(levels.c.placed, capacity), levels.c.price)
        .join(Contract, Contract.id == levels.c.contract_id)
        .where(levels.c.day.between(Contract.start_date, Contract.end_date))
    )
    connection.execute(insert(BlockNight).from_select(["contract_id", "day", "capacity", "occupied", "price"], nights))


# What a contract's derived rows depend on: its placements' usage moves with kind and consortium,
# its nights with beds and term, its return obligations with term and kind.
_CONTRACT_TERMS = ("kind", "consortium_id", "beds", "start_date", "end_date")
# What the summaries read of a placement.
_PLACEMENT_FIGURES = (
    "authority_code",
    "contract_id",
    "home_id",
    "placement_type",
    "start_date",
    "end_date",
    "distance_miles",
)


def remember_before_flush(session: Session, _flush_context, _instances) -> None:
    """What the rows about to change or go held, read from the database: an attribute set
    without having been loaded keeps no history of its old value."""

    def ids(model):
        # The identity, not `o.id`: reading an expired attribute would load the row, one query each.
        return sorted(
            inspect(o).identity[0]
            for o in (*session.dirty, *session.deleted)
            if isinstance(o, model) and inspect(o).identity is not None
        )

    connection = session.connection()
    codes, contracts, days = set(), set(), set()
    placements = {}
    if placement_ids := ids(Placement):
        for row in connection.execute(
            select(Placement.id, *(getattr(Placement, name) for name in _PLACEMENT_FIGURES)).where(
                Placement.id.in_(placement_ids)
            )
        ):
            placements[row[0]] = dict(zip(_PLACEMENT_FIGURES, row[1:]))
    if fee_ids := ids(PlacementFee):
        for code, effective_from in connection.execute(
            select(Placement.authority_code, PlacementFee.effective_from)
            .join(PlacementFee, PlacementFee.placement_id == Placement.id)
            .where(PlacementFee.id.in_(fee_ids))
        ):
            codes.add(code)
            days.add(effective_from)
    for model in (BedOutage, BlockPrice):
        if row_ids := ids(model):
            contracts.update(connection.scalars(select(model.contract_id).where(model.id.in_(row_ids))))
    terms = {}
    if contract_ids := ids(Contract):
        terms = {
            row[0]: tuple(row[1:])
            for row in connection.execute(
                select(Contract.id, *(getattr(Contract, name) for name in _CONTRACT_TERMS)).where(
                    Contract.id.in_(contract_ids)
                )
            )
        }
    contracts.discard(None)
    session.info["summaries_before"] = (codes, contracts, days, placements, terms)


def refresh_after_flush(session: Session, _flush_context) -> None:
    """Keep the summaries (and the return obligations) current whatever wrote the placements,
    fees, beds out of use, prices and contracts (forms, imports, fixtures): work them out again
    for what the rows held before the flush and hold now."""
    codes, contracts, days, placements, terms = session.info.pop("summaries_before", (set(), set(), set(), {}, {}))
    codes, contracts, days = set(codes), set(contracts), set(days)
    fee_placements, moved, terms_changed = set(), set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, Placement):
            continue
        before = None if obj in session.new else placements.get(inspect(obj).identity[0])
        after = None if obj in session.deleted else {name: getattr(obj, name) for name in _PLACEMENT_FIGURES}
        if before == after:
            continue  # nothing the summaries read has changed
        for figures in (before, after):
            if figures is not None:
                codes.add(figures["authority_code"])
                contracts.add(figures["contract_id"])
        if (
            before is not None
            and after is not None
            and all(before[k] == after[k] for k in _PLACEMENT_FIGURES if k != "end_date")
        ):
            # Only the end moved: nothing changed before the earlier of the two ends.
            days.add(min(d for d in (before["end_date"], after["end_date"]) if d is not None))
        else:
            days.update(figures["start_date"] for figures in (before, after) if figures is not None)
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, PlacementFee):
            fee_placements.add(obj.placement_id)
            days.add(obj.effective_from)
        elif isinstance(obj, (BedOutage, BlockPrice)):
            contracts.add(obj.contract_id)
        elif isinstance(obj, Contract):
            now = tuple(getattr(obj, name) for name in _CONTRACT_TERMS)
            before = terms.get(obj.id)
            if before != now:
                terms_changed.add(obj.id)
                # Moved to another consortium, or from framework to block: its placements' usage moves.
                if before is not None and before[:2] != now[:2]:
                    moved.add(obj.id)
    contracts.discard(None)
    fee_placements.discard(None)
    connection = session.connection()
    if fee_placements:
        codes.update(
            connection.scalars(select(Placement.authority_code).where(Placement.id.in_(sorted(fee_placements))))
        )
    if moved:
        codes.update(
            connection.scalars(
                select(Placement.authority_code).where(Placement.contract_id.in_(sorted(moved))).distinct()
            )
        )
    # Nothing that changed starts before the earliest of these days: the rows before it stand.
    since = min(days, default=None)
    if codes:
        refresh_usage(codes, session, since=None if moved else since)
    if contracts | terms_changed:
        refresh_block_nights(contracts | terms_changed, session)
        returns.refresh_obligations(sorted(terms_changed), session)
        returns.refresh_obligations(sorted(contracts - terms_changed), session, since=since)


# ---------------------------------------------------------------- reading them


@dataclass
class Usage:
    """A group's placements over a period [first, last]."""

    open: int  # on the last night
    started: int  # in the period
    active: int  # open on any night of the period
    known: int  # of the active, with a distance recorded
    within: int  # of those, within 20 miles of home
    paid_nights: int  # nights of framework and spot placements with a fee
    spend_pence: int  # those nights at their weekly fees, rounded once to the penny


# The three rows read per series, as Core aliases made once: building their columns at every
# request cost more than running the query.
_ROWS = {name: UsageDay.__table__.alias(name) for name in ("eve", "first", "last")}
_SUMS = [
    func.sum(_ROWS[row].c[name]).label(f"{row}_{name}")
    for row, name in (
        ("eve", "started"),
        ("eve", "paying"),
        ("eve", "paying_days"),
        ("eve", "rate"),
        ("eve", "rate_days"),
        ("first", "placed"),
        ("first", "known"),
        ("first", "within"),
        ("first", "started"),
        ("first", "started_known"),
        ("first", "started_within"),
        *(("last", name) for name in (*LEVELS, "paying_days", "rate_days")),
    )
]


def usage_by(first: date, last: date, *columns, user=None) -> dict[tuple, Usage]:
    """The usage the user (by default the signed-in one) may see over [first, last], grouped by
    series columns (`UsageSeries.authority_code`, `UsageSeries.placement_type`); groups with no
    placement active in the period are left out. One query, reading three rows per series: on
    the eve of the period, its first night and its last night."""
    eve = first - timedelta(days=1)
    group = tuple(c.key for c in columns)
    found = {}
    for row in db.session.execute(_usage_query(viewer(user), group), {"eve": eve, "first": first, "last": last}):
        if row.first_placed is None:
            continue  # ungrouped, over no series: sums of nothing
        # The sums are of each series' rows; the figures are linear in them.
        usage = Usage(
            open=int(row.last_placed),
            started=int(row.last_started - row.eve_started),
            active=int(row.first_placed + row.last_started - row.first_started),
            known=int(row.first_known + row.last_started_known - row.first_started_known),
            within=int(row.first_within + row.last_started_within - row.first_started_within),
            paid_nights=int(
                _nights(last, row.last_paying, row.last_paying_days) - _nights(eve, row.eve_paying, row.eve_paying_days)
            ),
            spend_pence=div_half_up(
                int(_nights(last, row.last_rate, row.last_rate_days) - _nights(eve, row.eve_rate, row.eve_rate_days)), 7
            ),
        )
        if usage.active:
            found[tuple(row[: len(group)])] = usage
    return found


@lru_cache(maxsize=256)
def _usage_query(who: Viewer, group: tuple[str, ...]):
    """`usage_by`'s statement for a viewer and grouping, with the days as bind parameters: built
    once and kept (building and keying it cost more than running it)."""

    def row_on(name: str):
        return (
            select(func.max(UsageDay.day))
            .where(UsageDay.series_id == UsageSeries.id, UsageDay.day <= bindparam(name, type_=Date))
            .scalar_subquery()
        )

    points = (
        scoped(UsageSeries, who)
        .select(
            UsageSeries.id,
            *(getattr(UsageSeries, key) for key in group),
            *(row_on(name).label(name) for name in _ROWS),
        )
        .subquery("points")
    )
    columns = [points.c[key] for key in group]
    query = select(*columns, *_SUMS).select_from(points)
    for name, row in _ROWS.items():
        query = query.join(row, and_(row.c.series_id == points.c.id, row.c.day == points.c[name]))
    return query.group_by(*columns).order_by(*columns)


def _nights(day: date, level, weighted):
    """A level's nights (or pence-nights) up to and including `day`, from its row on that day."""
    return ((day - DAY_ZERO).days + 1) * level - weighted
