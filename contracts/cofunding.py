"""Co-funding (DESIGN §4c): co-funders' contributions to placements' fees, contracts' funding
shares, and what each co-funder owes for a period.

A contribution is a percentage of the weekly fee or a fixed amount a week, over nights from its
first to its last (both included). The contributions of one placement never come to more than
its fee on any night. What a co-funder owes is worked out in SQL, per quarter: the sum of
nights x weekly share / 7 over its contributions, exact, rounded once to the penny; each
placement's part then gets whole pence by largest remainder, so the parts add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import BigInteger, Date, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased, joinedload

from consortium.core.dates import FAR_FUTURE
from consortium.core.extensions import db
from consortium.core.formatting import day, money
from consortium.core.models import Authority, Cofunder
from consortium.core.money import div_half_up, largest_remainder
from consortium.core.services import RuleBroken
from consortium.core.sql import day_after, days_between, greatest, least, quarter_of
from contracts.models import BASIS_POINTS, Contract, Contribution, FundingShare, Placement, PlacementFee

# The exact amounts are held in units of 1/70,000 of a penny: a week is 7 nights, and a
# percentage is held in hundredths (BASIS_POINTS to the whole).
PER_PENNY = 7 * BASIS_POINTS


def _day(value: date):
    return literal(value, Date)


# ---------------------------------------------------------------- contributions


def weekly_share(contribution: Contribution, fee_pence: int) -> Fraction:
    """A contribution's pence a week against a weekly fee, exact."""
    if contribution.weekly_pence is not None:
        return Fraction(contribution.weekly_pence)
    return Fraction(fee_pence * contribution.basis_points, BASIS_POINTS)


def fee_on(placement: Placement, night: date) -> int | None:
    fees = [fee for fee in placement.fees if fee.effective_from <= night]
    return max(fees, key=lambda fee: fee.effective_from).weekly_pence if fees else None


def over_the_fee(placement: Placement, contributions: list[Contribution]) -> str | None:
    """The first night on which the contributions would come to more than the fee, in words, or
    None. The total can rise only where a contribution starts or the fee changes, so those
    nights are the ones to look at."""
    nights = {placement.start_date} | {c.first_night for c in contributions}
    nights |= {fee.effective_from for fee in placement.fees}
    for night in sorted(nights):
        if night < placement.start_date or (placement.end_date and night >= placement.end_date):
            continue
        fee = fee_on(placement, night)
        active = [c for c in contributions if c.covers(night)]
        if fee is None or not active:
            continue
        total = sum(weekly_share(c, fee) for c in active)
        if total > fee:
            return (
                f"On the night of {day(night)} the contributions would come to "
                f"{money(div_half_up(total.numerator, total.denominator))} a week, more than the fee of {money(fee)}"
            )
    return None


def check_fee_still_covers(placement: Placement) -> None:
    """After a fee changes: the contributions already agreed must still fit within it."""
    if problem := over_the_fee(placement, contributions_of(placement)):
        raise RuleBroken(f"{problem}: end or change a contribution first", "weekly_fee")


def contributions_of(placement: Placement) -> list[Contribution]:
    return list(
        db.session.scalars(
            select(Contribution)
            .where(Contribution.placement_id == placement.id)
            .order_by(Contribution.first_night, Contribution.id)
        )
    )


def _share_problem(percent: Decimal | None, weekly_pence: int | None) -> tuple[str, str] | None:
    if (percent is None) == (weekly_pence is None):
        return "Give a percentage of the weekly fee or a fixed amount a week, not both", "percent"
    if percent is not None and not (0 < percent <= 100 and percent == percent.quantize(Decimal("0.01"))):
        return "The percentage must be more than 0 and at most 100, with at most 2 decimal places", "percent"
    if weekly_pence is not None and weekly_pence <= 0:
        return "The amount a week must be more than £0.00", "weekly"
    return None


def add_contribution(
    placement: Placement,
    cofunder: Cofunder,
    first_night: date,
    last_night: date | None = None,
    percent: Decimal | None = None,
    weekly_pence: int | None = None,
) -> Contribution:
    """A co-funder's share of a placement's fee from a night; the placing authority pays the
    rest. Refused if it starts before the placement, overlaps the same co-funder's share, or
    would take the shares over the fee on any night (the night is named)."""
    if problem := _share_problem(percent, weekly_pence):
        raise RuleBroken(*problem)
    if not placement.fees:
        raise RuleBroken(
            "This placement has no weekly fee (a block placement costs the block's price): "
            "share a block's cost through its funding shares instead",
            "cofunder",
        )
    if first_night < placement.start_date:
        raise RuleBroken(
            f"A contribution cannot start before the placement, which started on {day(placement.start_date)}", "from"
        )
    if placement.end_date and first_night >= placement.end_date:
        raise RuleBroken(f"The placement ended on {day(placement.end_date)}: a contribution must start before", "from")
    if last_night is not None and last_night < first_night:
        raise RuleBroken("The last night must be on or after the first", "until")
    new = Contribution(
        placement_id=placement.id,
        cofunder_id=cofunder.id,
        cofunder=cofunder,
        basis_points=None if percent is None else int(percent * 100),
        weekly_pence=weekly_pence,
        first_night=first_night,
        last_night=last_night,
    )
    existing = contributions_of(placement)
    for other in existing:
        if other.cofunder_id == cofunder.id and _overlap(other, new):
            raise RuleBroken(
                f"{cofunder.name} already contributes from {day(other.first_night)}: end that contribution first",
                "from",
            )
    if problem := over_the_fee(placement, [*existing, new]):
        raise RuleBroken(problem, "percent" if percent is not None else "weekly")
    db.session.add(new)
    db.session.flush()
    return new


def _overlap(a: Contribution, b: Contribution) -> bool:
    return (a.last_night is None or b.first_night <= a.last_night) and (
        b.last_night is None or a.first_night <= b.last_night
    )


def end_contribution(contribution: Contribution, last_night: date) -> None:
    """The last night a contribution pays for; its earlier nights stay as they were."""
    if last_night < contribution.first_night:
        raise RuleBroken(f"The last night must be on or after the first, {day(contribution.first_night)}", "until")
    if contribution.last_night is not None and last_night > contribution.last_night:
        raise RuleBroken(
            f"It already ends on {day(contribution.last_night)}: add a new contribution for later nights", "until"
        )
    contribution.last_night = last_night
    db.session.flush()


# ---------------------------------------------------------------- what co-funders owe


@dataclass(frozen=True)
class Due:
    """A co-funder's contributions on one placement in one period."""

    cofunder_id: int
    placement_id: int
    authority_code: str
    child_ref: str
    nights: int
    exact: Fraction  # pence
    amount_pence: int = 0  # whole pence, by largest remainder within the period's total


def _period_parts(period: int, first: date, last: date, condition, extra: tuple):
    """The two selects of one period (fixed amounts; percentages of each fee), their rows
    tagged with the period's number."""
    after = _day(last + timedelta(days=1))
    far = _day(FAR_FUTURE)
    ends = (func.coalesce(day_after(Contribution.last_night), far), func.coalesce(Placement.end_date, far), after)
    live = (
        Contribution.first_night <= last,
        or_(Contribution.last_night.is_(None), Contribution.last_night >= first),
        Placement.start_date <= last,
        or_(Placement.end_date.is_(None), Placement.end_date > first),
    )
    columns = (
        literal(period).label("period"),
        Contribution.cofunder_id,
        Placement.id.label("placement_id"),
        Placement.authority_code,
        Placement.child_ref,
        *(column.label(f"by_{n}") for n, column in enumerate(extra)),
    )
    nights = greatest(
        days_between(greatest(Contribution.first_night, Placement.start_date, _day(first)), least(*ends)), 0
    )
    fixed = (
        select(
            *columns,
            nights.label("nights"),
            (nights * cast(Contribution.weekly_pence, BigInteger) * BASIS_POINTS).label("part"),
        )
        .join(Placement, Placement.id == Contribution.placement_id)
        .where(Contribution.weekly_pence.is_not(None), *live)
    )
    # A percentage follows the fee: each fee holds from its date until the next.
    later = aliased(PlacementFee)
    next_from = (
        select(func.min(later.effective_from))
        .where(later.placement_id == PlacementFee.placement_id, later.effective_from > PlacementFee.effective_from)
        .scalar_subquery()
    )
    start = greatest(PlacementFee.effective_from, Contribution.first_night, Placement.start_date, _day(first))
    fee_nights = greatest(days_between(start, least(func.coalesce(next_from, far), *ends)), 0)
    shares = (
        select(
            *columns,
            fee_nights.label("nights"),
            (fee_nights * cast(PlacementFee.weekly_pence, BigInteger) * Contribution.basis_points).label("part"),
        )
        .join(Placement, Placement.id == Contribution.placement_id)
        .join(PlacementFee, PlacementFee.placement_id == Placement.id)
        .where(Contribution.basis_points.is_not(None), PlacementFee.effective_from <= last, *live)
    )
    if condition is not None:
        fixed, shares = fixed.where(condition), shares.where(condition)
    return fixed, shares


def _due_rows(periods: list[tuple[date, date]], condition=None, extra: tuple = ()):
    """Per period, co-funder and placement (and any `extra` placement columns): nights
    contributed and the exact amount in 1/PER_PENNY pence. One statement for all the periods."""
    parts = [
        part for n, (first, last) in enumerate(periods) for part in _period_parts(n, first, last, condition, extra)
    ]
    both = union_all(*parts).subquery()
    keys = [both.c.period, both.c.cofunder_id, both.c.placement_id, both.c.authority_code, both.c.child_ref]
    keys += [both.c[f"by_{n}"] for n in range(len(extra))]
    return db.session.execute(
        select(*keys, func.sum(both.c.nights), func.sum(both.c.part))
        .group_by(*keys)
        .having(func.sum(both.c.nights) > 0)
    ).all()


def _due_by_period(periods: list[tuple[date, date]], condition=None, extra: tuple = ()):
    """For each period, per co-funder: its total, the exact sum rounded once, and each
    placement's part in whole pence adding up to it (largest remainder, ties to the lower
    authority code and child reference), with the `extra` columns of each placement."""
    rows: dict[tuple[int, int], list[tuple[Due, tuple]]] = {}
    for period, cofunder_id, placement_id, code, child_ref, *more, nights, part in _due_rows(periods, condition, extra):
        due = Due(cofunder_id, placement_id, code, child_ref, int(nights), Fraction(int(part), PER_PENNY))
        rows.setdefault((period, cofunder_id), []).append((due, tuple(more)))
    found: dict[int, dict[int, tuple[int, list[tuple[Due, tuple]]]]] = {n: {} for n in range(len(periods))}
    for (period, cofunder_id), dues in rows.items():
        total = sum(d.exact for d, _ in dues)
        total_pence = div_half_up(total.numerator, total.denominator)
        whole = largest_remainder({_order(d): d.exact for d, _ in dues}, total_pence)
        parts = [(replace(d, amount_pence=whole[_order(d)]), more) for d, more in dues]
        found[period][cofunder_id] = (total_pence, sorted(parts, key=lambda part: _order(part[0])))
    return found


def _order(due: Due) -> tuple:
    return (due.authority_code, due.child_ref, due.placement_id)


def due_in_periods(periods: list[tuple[date, date]], condition=None) -> list[dict[int, tuple[int, list[Due]]]]:
    """For each period, per co-funder: its total, the exact sum rounded once, and each
    placement's part in whole pence adding up to it. One statement for all the periods."""
    found = _due_by_period(periods, condition)
    return [
        {cofunder_id: (total, [due for due, _ in parts]) for cofunder_id, (total, parts) in found[n].items()}
        for n in range(len(periods))
    ]


def due_in_period(first: date, last: date, condition=None) -> dict[int, tuple[int, list[Due]]]:
    return due_in_periods([(first, last)], condition)[0]


def quarters(first: date, last: date) -> list[tuple[date, date]]:
    """The financial-year quarters covering [first, last], each clipped to it."""
    found, start = [], first
    while start <= last:
        q_first, q_last = quarter_of(start)
        found.append((max(q_first, first), min(q_last, last)))
        start = q_last + timedelta(days=1)
    return found


@dataclass(frozen=True)
class DueLine:
    authority_code: str
    child_ref: str
    nights: int
    amount_pence: int


def due_for(cofunder: Cofunder, first: date, last: date, condition=None) -> tuple[list[DueLine], int]:
    """What a co-funder owes for [first, last]: its placements' lines (the quarters' parts added
    up) and the total, each quarter's exact sum rounded once and added up over the quarters."""
    mine = Contribution.cofunder_id == cofunder.id
    by_quarter = _due_by_period(quarters(first, last), mine if condition is None else mine & condition)
    lines: dict[tuple[str, str], list[int]] = {}
    total = 0
    for found in by_quarter.values():
        pence, parts = found.get(cofunder.id, (0, []))
        total += pence
        for due, _ in parts:
            line = lines.setdefault((due.authority_code, due.child_ref), [0, 0])
            line[0] += due.nights
            line[1] += due.amount_pence
    return [DueLine(code, ref, nights, pence) for (code, ref), (nights, pence) in sorted(lines.items())], total


def income_by(first: date, last: date, by: tuple, condition=None) -> dict[tuple, int]:
    """Contributions due in [first, last] grouped by placement columns (`by`), in pence: per
    co-funder and quarter rounded once (as statements are), each placement's whole pence then
    added up by group, so the groups add up to what the co-funders owe. One statement."""
    grouped: dict[tuple, int] = {}
    for found in _due_by_period(quarters(first, last), condition, by).values():
        for _, parts in found.values():
            for due, key in parts:
                grouped[key] = grouped.get(key, 0) + due.amount_pence
    return grouped


# ---------------------------------------------------------------- funding shares


def funding_shares_on(contract: Contract, on: date) -> list[FundingShare]:
    """The funding shares in force on a day: those of the latest date on or before it."""
    latest = db.session.scalar(
        select(func.max(FundingShare.effective_from)).where(
            FundingShare.contract_id == contract.id, FundingShare.effective_from <= on
        )
    )
    if latest is None:
        return []
    return list(
        db.session.scalars(
            select(FundingShare)
            .where(FundingShare.contract_id == contract.id, FundingShare.effective_from == latest)
            .options(joinedload(FundingShare.authority), joinedload(FundingShare.cofunder))
            .order_by(FundingShare.basis_points.desc(), FundingShare.id)
        )
    )


def funding_share_dates(contract: Contract) -> list[date]:
    return list(
        db.session.scalars(
            select(FundingShare.effective_from)
            .where(FundingShare.contract_id == contract.id)
            .distinct()
            .order_by(FundingShare.effective_from)
        )
    )


def set_funding_shares(
    contract: Contract, effective_from: date, authorities: dict[str, Decimal], cofunders: dict[int, Decimal]
) -> list[FundingShare]:
    """Agreed percentages of a contract's cost from a date, for member authorities (by code) and
    co-funders (by id): they must add up to 100. Shares from the same date are replaced."""
    given = {**{("a", k): v for k, v in authorities.items()}, **{("c", k): v for k, v in cofunders.items()}}
    given = {key: value for key, value in given.items() if value}
    if any(v < 0 or v > 100 or v != v.quantize(Decimal("0.01")) for v in given.values()):
        raise RuleBroken("Each share is a percentage from 0 to 100, with at most 2 decimal places", "shares")
    if sum(given.values()) != 100:
        raise RuleBroken(f"The shares add up to {sum(given.values()).normalize():f}%, not 100%", "shares")
    if not contract.start_date <= effective_from <= contract.max_end_date:
        raise RuleBroken(
            f"The shares must start within the contract's term, {day(contract.start_date)} "
            f"to {day(contract.max_end_date)}",
            "effective_from",
        )
    unknown = [k for kind, k in given if kind == "a" and db.session.get(Authority, k) is None]
    if unknown:
        raise RuleBroken(f"There is no authority {unknown[0]}", "shares")
    for old in db.session.scalars(
        select(FundingShare).where(
            FundingShare.contract_id == contract.id, FundingShare.effective_from == effective_from
        )
    ):
        db.session.delete(old)
    db.session.flush()
    shares = [
        FundingShare(
            contract_id=contract.id,
            effective_from=effective_from,
            authority_code=key if kind == "a" else None,
            cofunder_id=key if kind == "c" else None,
            basis_points=int(value * 100),
        )
        for (kind, key), value in given.items()
    ]
    db.session.add_all(shares)
    db.session.flush()
    return shares
