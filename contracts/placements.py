"""The rules a placement keeps, in one place: the form, the import and the API record, change
and end placements through this module (docs/rules.md, Placements).

Per placement (`PlacementChecker.check`): a known authority, home and contract; the authority a
member of the contract's consortium; a framework placement in a home of an admitted provider, a
block placement in one of the block's homes; start before end; a fee above zero for framework
and spot placements; no child under 16 in supported accommodation; a fee above the framework's
price says why, when a person records it (`check_fee_reason`). Across placements (checked in SQL
after writing, inside the same transaction: `problem_across`, `problems_across_lines`): no two
placements of one child of one authority overlap, and a block is never above its beds on any
night. A fee changed (`check_fee_change`) or an end recorded (`check_end`) keeps them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, and_, func, literal, or_, select
from sqlalchemy.orm import aliased

from consortium.core.dates import FAR_FUTURE
from consortium.core.extensions import db
from consortium.core.formatting import day, money
from consortium.core.models import Authority, Membership
from consortium.core.services import RuleBroken
from consortium.core.sql import CalendarDay
from consortium.core.tabular import too_long
from contracts.models import (
    END_REASONS,
    NEED_LEVELS,
    PLACEMENT_TYPES,
    TYPES_WITHOUT_A_HOME,
    Admission,
    Contract,
    Lot,
    Placement,
    PlacementFee,
)
from providers.models import Home

SUPPORTED_ACCOMMODATION_MIN_AGE = 16  # the law since October 2023


@dataclass
class PlacementValues:
    """A placement as a person or a file gives it, before it is checked."""

    authority_code: str
    child_ref: str
    contract_ref: str | None
    home_urn: str | None
    start_date: date
    end_date: date | None
    weekly_pence: int | None
    placement_type: str
    distance_miles: Decimal | None = None
    age_at_start: int | None = None
    need_level: str | None = None
    ssda903_code: str | None = None
    end_reason: str | None = None
    end_reason_code: str | None = None


class PlacementChecker:
    """Checks placements against their rules. It looks up only what the placements it is given
    name (their authorities, contracts and homes), once, however many rows a file has."""

    def __init__(self, codes: set[str], refs: set[str], urns: set[str]):
        """`codes`, `refs`, `urns`: the authorities, contracts and homes the placements name."""
        self.authorities = set(_where_in(select(Authority.code), Authority.code, codes))
        self.contracts = {c.ref: c for c in _where_in(select(Contract), Contract.ref, refs)}
        self._contracts_by_id = {c.id: c for c in self.contracts.values()}
        self.homes: dict[str, Home] = {home.urn: home for home in _where_in(select(Home), Home.urn, urns)}
        self._members: dict[int, dict[str, list[tuple[date, date | None]]]] = {}
        self._admitted: dict[int, dict[int, int]] = {}
        self._block_homes: dict[int, set[int]] = {}

    @classmethod
    def for_values(cls, named: Iterable[PlacementValues]) -> PlacementChecker:
        named = list(named)
        return cls(
            {v.authority_code for v in named},
            {v.contract_ref for v in named if v.contract_ref},
            {v.home_urn for v in named if v.home_urn},
        )

    def contract(self, contract_id: int) -> Contract:
        return self._contracts_by_id[contract_id]

    def home(self, urn: str) -> Home | None:
        return self.homes.get(urn)

    def memberships(self, consortium_id: int) -> dict[str, list[tuple[date, date | None]]]:
        """Each member's periods of membership (joined, left), by authority code."""
        if consortium_id not in self._members:
            periods: dict[str, list[tuple[date, date | None]]] = {}
            for code, joined, left in db.session.execute(
                select(Membership.authority_code, Membership.joined, Membership.left).where(
                    Membership.consortium_id == consortium_id
                )
            ):
                periods.setdefault(code, []).append((joined, left))
            self._members[consortium_id] = periods
        return self._members[consortium_id]

    def membership_problem(self, contract: Contract, code: str, on: date) -> str | None:
        """A placement under a consortium's contract needs its authority to be a member on its start date."""
        periods = self.memberships(contract.consortium_id).get(code)
        if not periods:
            return f"{code} is not a member of the consortium of {contract.ref}"
        if not any(joined <= on and (left is None or on <= left) for joined, left in periods):
            spans = ", ".join(f"{day(joined)} to {day(left) if left else 'now'}" for joined, left in sorted(periods))
            return f"{code} was not a member of the consortium of {contract.ref} on {day(on)} (a member {spans})"
        return None

    def admitted_lot(self, contract: Contract, provider_id: int) -> int | None:
        """The lot a provider is admitted to (and not withdrawn) on a framework."""
        if contract.id not in self._admitted:
            rows = db.session.execute(
                select(Admission.provider_id, Lot.id)
                .join(Admission.lot)
                .where(Lot.contract_id == contract.id, Admission.status != "withdrawn")
                .order_by(Lot.name)
            )
            admitted: dict[int, int] = {}
            for provider, lot in rows:
                admitted.setdefault(provider, lot)
            self._admitted[contract.id] = admitted
        return self._admitted[contract.id].get(provider_id)

    def block_homes(self, contract: Contract) -> set[int]:
        if contract.id not in self._block_homes:
            self._block_homes[contract.id] = {home.id for home in contract.homes}
        return self._block_homes[contract.id]

    def check(self, values: PlacementValues) -> tuple[list[str], dict]:
        """Problems with one placement, and the column values to store when there are none."""
        problems = []
        if values.authority_code not in self.authorities:
            problems.append(f"unknown authority {values.authority_code!r}")
        if not values.child_ref:
            problems.append("the child reference is empty")
        elif len(values.child_ref) > 40:
            problems.append("the child reference is longer than 40 characters")
        problems += too_long(Placement, {"end_reason": values.end_reason, "ssda903_code": values.ssda903_code})
        if values.end_reason_code and values.end_reason_code not in END_REASONS:
            problems.append(f"unknown end reason code {values.end_reason_code!r} (one of {', '.join(END_REASONS)})")
        if values.placement_type not in PLACEMENT_TYPES:
            problems.append(f"unknown placement type {values.placement_type!r} (one of {', '.join(PLACEMENT_TYPES)})")
        if values.need_level and values.need_level not in NEED_LEVELS:
            problems.append(f"unknown need level {values.need_level!r} (one of {', '.join(NEED_LEVELS)})")
        if values.end_date is not None and values.end_date <= values.start_date:
            problems.append("the end date must be after the start date")
        if values.placement_type == "supported_accommodation":
            if values.age_at_start is None:
                problems.append("give the age at start: supported accommodation is only for young people of 16 or over")
            elif values.age_at_start < SUPPORTED_ACCOMMODATION_MIN_AGE:
                problems.append(
                    f"a child of {values.age_at_start} cannot be placed in supported accommodation: "
                    f"it is only for young people of {SUPPORTED_ACCOMMODATION_MIN_AGE} or over"
                )
        home = None
        if values.home_urn:
            home = self.home(values.home_urn)
            if home is None:
                problems.append(f"unknown home {values.home_urn!r}")
        elif values.placement_type not in TYPES_WITHOUT_A_HOME:
            problems.append("a home URN is needed (only in-house fostering and kinship care have no home)")
        contract, lot_id = None, None
        if values.contract_ref:
            contract = self.contracts.get(values.contract_ref)
            if contract is None:
                problems.append(f"unknown contract {values.contract_ref!r}")
            else:
                if values.authority_code in self.authorities and (
                    problem := self.membership_problem(contract, values.authority_code, values.start_date)
                ):
                    problems.append(problem)
                if home is not None and contract.kind == "framework":
                    lot_id = self.admitted_lot(contract, home.provider_id)
                    if lot_id is None:
                        problems.append(
                            f"{home.provider.name}, which runs {home.urn}, is not admitted to {contract.ref}"
                        )
                if contract.kind == "block" and home is not None and home.id not in self.block_homes(contract):
                    problems.append(f"{home.urn} is not one of the homes of {contract.ref}")
                if contract.kind == "block" and home is None and values.home_urn is None:
                    problems.append(f"a placement under the block contract {contract.ref} needs one of its homes")
        is_block = contract is not None and contract.kind == "block"
        if not is_block and (values.weekly_pence is None or values.weekly_pence <= 0):
            problems.append("the weekly fee must be above zero for framework and spot placements")
        columns = {
            "authority_code": values.authority_code,
            "child_ref": values.child_ref,
            "contract_id": contract.id if contract else None,
            "lot_id": lot_id,
            "home_id": home.id if home else None,
            "start_date": values.start_date,
            "end_date": values.end_date,
            "end_reason": values.end_reason,
            "end_reason_code": values.end_reason_code,
            "need_level": values.need_level,
            "placement_type": values.placement_type,
            "ssda903_code": values.ssda903_code,
            "age_at_start": values.age_at_start,
            "distance_miles": values.distance_miles,
        }
        # A block placement costs the block's price: its fee is never recorded as spend.
        fee = None if is_block else values.weekly_pence
        return problems, {"columns": columns, "fee": fee}


def _where_in(query, column, values: set, chunk: int = 10_000) -> list:
    """The query's results for the values of a column, asked in chunks: PostgreSQL takes at most
    65,535 parameters."""
    ordered = sorted(values)
    found = []
    for start in range(0, len(ordered), chunk):
        found += db.session.scalars(query.where(column.in_(ordered[start : start + chunk]))).all()
    return found


def check_fee_reason(values: PlacementValues, fee_reason: str | None) -> None:
    """A framework placement recorded through the form whose fee is above the framework's price
    for its need level says why."""
    if fee_reason or values.weekly_pence is None or not values.contract_ref or not values.home_urn:
        return
    contract = db.session.scalar(select(Contract).where(Contract.ref == values.contract_ref))
    home = db.session.scalar(select(Home).where(Home.urn == values.home_urn))
    if contract is None or home is None:
        return  # the placement's own rules say what is wrong
    price = framework_price(contract, home, values.need_level, values.start_date)
    if price is not None and values.weekly_pence > price:
        raise RuleBroken(
            f"The fee is above {contract.ref}'s price of {money(price)} a week for "
            f"{values.need_level or 'standard'} need: say why",
            "fee_reason",
        )


def framework_price(contract: Contract, home: Home, need_level: str | None, on: date) -> int | None:
    """The weekly price a framework sets for a home's provider at a need level (standard when none
    is given) on a date: what a placement's fee is set against."""
    if contract.kind != "framework":
        return None
    # The lot a placement is counted in, as `PlacementChecker.admitted_lot` picks it.
    admission = db.session.scalar(
        select(Admission)
        .join(Admission.lot)
        .where(
            Lot.contract_id == contract.id, Admission.provider_id == home.provider_id, Admission.status != "withdrawn"
        )
        .order_by(Lot.name)
        .limit(1)
    )
    return admission.price_on(need_level or "standard", on) if admission else None


def check_fee_change(placement: Placement, pence: int, effective_from: date) -> None:
    """A new weekly fee from a date: framework and spot placements only, above zero, starting
    inside the placement, not on a date another fee starts."""
    if placement.contract is not None and placement.contract.kind == "block":
        raise RuleBroken("A block placement costs the block's price: it has no fee of its own", "weekly_fee")
    if pence <= 0:
        raise RuleBroken("The weekly fee must be above zero", "weekly_fee")
    if effective_from <= placement.start_date or (placement.end_date and effective_from >= placement.end_date):
        raise RuleBroken("The new fee starts after the placement starts and before it ends", "effective_from")
    if any(fee.effective_from == effective_from for fee in placement.fees):
        raise RuleBroken("A fee already starts on that date", "effective_from")


def check_end(placement: Placement, end_date: date, reason_code: str | None = None) -> None:
    """A placement ends after it starts, for a reason the SSDA903 return codes (and, once
    written, keeps the rules across placements)."""
    if end_date <= placement.start_date:
        raise RuleBroken(f"The end date must be after the start date, {day(placement.start_date)}", "end_date")
    if reason_code is not None and reason_code not in END_REASONS:
        raise RuleBroken(f"Choose why the placement ended: one of {', '.join(END_REASONS)}", "end_reason_code")


def problem_across(placement: Placement) -> str | None:
    """What one placement just written breaks among the rules across placements, in a sentence."""
    overlaps = overlapping_children([placement.id])
    if overlaps:
        other = db.session.get(Placement, overlaps[0][1])
        return f"Child {other.child_ref} is already placed from {day(other.start_date)}" + (
            f" to {day(other.end_date)}" if other.end_date else ""
        )
    if placement.contract is not None and placement.contract.kind == "block":
        night = first_night_over_beds(placement.contract)
        if night is not None:
            return over_capacity_message(placement.contract, night)
    return None


def problems_across_lines(written: dict[int, tuple[int, dict]], checker: PlacementChecker, errors) -> None:
    """What a file's placements just written (placement id -> its line and columns) break among
    the rules across placements, added to `errors` by line."""
    reported = set()
    for first, second in overlapping_children(list(written)):
        # Name the later line of a pair, pointing at the earlier line or the placement on record.
        if second in written and written[second][0] > written[first][0]:
            first, second = second, first
        if (first, second) in reported:
            continue
        reported.add((first, second))
        other = db.session.get(Placement, second)
        where = f"line {written[second][0]}" if second in written else "a placement already recorded"
        until = f" to {other.end_date:%d/%m/%Y}" if other.end_date else ""
        errors.add(
            written[first][0],
            f"child {other.child_ref} of {other.authority_code} overlaps {where} "
            f"(from {other.start_date:%d/%m/%Y}{until})",
        )
    blocks = {c["contract_id"] for _, c in written.values() if c["contract_id"]}
    for contract_id in sorted(blocks):
        contract = checker.contract(contract_id)
        night = first_night_over_beds(contract) if contract.kind == "block" else None
        if night is not None:
            open_then = [
                line
                for line, c in written.values()
                if c["contract_id"] == contract_id
                and c["start_date"] <= night
                and (c["end_date"] is None or c["end_date"] > night)
            ]
            errors.add(max(open_then, default=None), over_capacity_message(contract, night))


def overlapping_children(placement_ids: list[int]) -> list[tuple[int, int]]:
    """Pairs (placement among those given, another placement) of the same child of the same
    authority whose nights overlap. Asked in chunks: PostgreSQL takes at most 65,535 parameters."""
    other = aliased(Placement)
    pairs = []
    for start in range(0, len(placement_ids), 10_000):
        query = (
            select(Placement.id, other.id)
            .join(
                other,
                and_(
                    other.authority_code == Placement.authority_code,
                    other.child_ref == Placement.child_ref,
                    other.id != Placement.id,
                    other.start_date < func.coalesce(Placement.end_date, literal(FAR_FUTURE, Date)),
                    Placement.start_date < func.coalesce(other.end_date, literal(FAR_FUTURE, Date)),
                ),
            )
            .where(Placement.id.in_(placement_ids[start : start + 10_000]))
        )
        pairs += [tuple(row) for row in db.session.execute(query)]
    return pairs


def first_night_over_beds(contract: Contract) -> date | None:
    """The first night a block has more placements than beds, or None."""
    night = CalendarDay.day
    query = (
        select(night)
        .join(
            Placement,
            and_(
                Placement.contract_id == contract.id,
                Placement.start_date <= night,
                or_(Placement.end_date.is_(None), Placement.end_date > night),
            ),
        )
        .where(night.between(contract.start_date, contract.end_date))
        .group_by(night)
        .having(func.count(Placement.id) > contract.beds)
        .order_by(night)
        .limit(1)
    )
    return db.session.scalar(query)


def over_capacity_message(contract: Contract, night: date) -> str:
    return f"{contract.ref} would have more placements than its {contract.beds} beds on the night of {day(night)}"


def save_fee(placement: Placement, fee: int | None) -> bool:
    """Set the placement's first fee; True when it changed."""
    if fee is None:
        return False
    first = placement.fees[0] if placement.fees else None
    if first is None:
        placement.fees.append(PlacementFee(weekly_pence=fee, effective_from=placement.start_date))
        return True
    if first.weekly_pence != fee:
        first.weekly_pence = fee
        return True
    return False
