"""Changes people make to contracts and placements. Services flush; the request commits.

Edits of frameworks, admissions, prices, block contracts and placements carry the version the
person saw: if someone else changed the record since, the edit is refused, never overwritten.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from consortium.core.access import scoped
from consortium.core.extensions import db
from consortium.core.formatting import day, money
from consortium.core.inputs import MAX_WEEKLY_PENCE
from consortium.core.money import apply_percent
from consortium.core.services import RuleBroken
from contracts import cofunding
from contracts import placements as rules
from contracts.models import (
    ADMISSION_STATUSES,
    CARE_TYPES,
    NEED_LEVELS,
    PRICED_PER,
    REVIEW_OUTCOMES,
    TIERS,
    Admission,
    BedOutage,
    BlockPrice,
    BreakDate,
    Contract,
    ExtensionDecision,
    HighCostReview,
    Lot,
    Placement,
    PlacementFee,
    Price,
    care_type_of_provision,
)
from contracts.transparency import ROUTES
from providers.models import Home, Provider

OUTAGE_BACKDATING_DAYS = 366  # beds can be recorded out of use up to a year back
STALE = "This record was changed by someone else while you were editing it. Check the new values and try again."


def check_version(obj, seen_version: int | None) -> None:
    if seen_version is not None and obj.version != seen_version:
        raise RuleBroken(STALE)


# ---------------------------------------------------------------- frameworks


def add_lot(contract: Contract, name: str, care_type: str | None = None) -> Lot:
    """A lot of a framework, buying one of the standard's kinds of placement (by default the one
    its name says: "Supported accommodation 16+" buys supported accommodation)."""
    name = " ".join(name.split())
    if contract.kind != "framework":
        raise RuleBroken("Only a framework has lots")
    if any(lot.name.lower() == name.lower() for lot in contract.lots):
        raise RuleBroken(f"{contract.ref} already has a lot named {name}", "name")
    care_type = care_type or care_type_of_provision(name)
    if care_type not in CARE_TYPES:
        raise RuleBroken(f"Choose the kind of placement: {', '.join(CARE_TYPES)}", "care_type")
    lot = Lot(name=name, care_type=care_type)
    contract.lots.append(lot)
    db.session.flush()
    return lot


def admit(lot: Lot, provider, tier: str) -> Admission:
    if tier not in TIERS:
        raise RuleBroken(f"Tier must be one of {', '.join(TIERS)}", "tier")
    if any(a.provider_id == provider.id for a in lot.admissions):
        raise RuleBroken(f"{provider.name} is already admitted to {lot.name}", "provider_id")
    admission = Admission(provider=provider, tier=tier)
    lot.admissions.append(admission)
    db.session.flush()
    return admission


def set_admission_status(
    admission: Admission,
    status: str,
    seen_version: int | None,
    reason: str | None = None,
    status_from: date | None = None,
    status_until: date | None = None,
) -> None:
    """Suspend (with a reason and dates), reinstate (back to active) or withdraw an admission."""
    check_version(admission, seen_version)
    if status not in ADMISSION_STATUSES:
        raise RuleBroken(f"Status must be one of {', '.join(ADMISSION_STATUSES)}", "status")
    if status != "active" and not (reason or "").strip():
        raise RuleBroken("Give the reason", "reason")
    if status_from and status_until and status_until < status_from:
        raise RuleBroken("The end of the suspension must be on or after its start", "status_until")
    admission.status = status
    admission.status_reason = (reason or "").strip() or None
    admission.status_from = status_from
    admission.status_until = status_until if status == "suspended" else None
    db.session.flush()


def add_price(
    admission: Admission, need_level: str, pence: int, effective_from: date, effective_to: date | None = None
) -> Price:
    if need_level not in NEED_LEVELS:
        raise RuleBroken(f"Need level must be one of {', '.join(NEED_LEVELS)}", "need_level")
    if pence <= 0:
        raise RuleBroken("The weekly price must be above zero", "weekly_price")
    if effective_to is not None and effective_to < effective_from:
        raise RuleBroken("The last day must be on or after the first", "effective_to")
    for other in admission.prices:
        if other.need_level != need_level:
            continue
        ends = other.effective_to or date.max
        if effective_from <= ends and (effective_to or date.max) >= other.effective_from:
            until = f" to {day(other.effective_to)}" if other.effective_to else " with no end"
            raise RuleBroken(
                f"It overlaps the {need_level} price from {day(other.effective_from)}{until}", "effective_from"
            )
    price = Price(need_level=need_level, weekly_pence=pence, effective_from=effective_from, effective_to=effective_to)
    admission.prices.append(price)
    db.session.flush()
    return price


def uplift(contract: Contract, percent_change: Decimal, effective_from: date, lot: Lot | None = None) -> int:
    """Raise every price of the framework (or of one lot) in force on a date by a percentage:
    each such price ends the day before and a new one starts; the history stays. Returns how
    many prices were uplifted."""
    if contract.kind != "framework":
        raise RuleBroken("Uplifts apply to framework prices")
    lots = [lot] if lot is not None else contract.lots
    uplifted = 0
    for admission in [a for lt in lots for a in lt.admissions]:
        for price in list(admission.prices):
            in_force = price.effective_from < effective_from and (
                price.effective_to is None or price.effective_to >= effective_from
            )
            if not in_force:
                continue
            later_end = price.effective_to
            price.effective_to = effective_from - timedelta(days=1)
            admission.prices.append(
                Price(
                    need_level=price.need_level,
                    weekly_pence=apply_percent(price.weekly_pence, percent_change),
                    effective_from=effective_from,
                    effective_to=later_end,
                )
            )
            uplifted += 1
    if not uplifted:
        raise RuleBroken(f"No price is in force on {day(effective_from)} and started before it", "effective_from")
    db.session.flush()
    return uplifted


# ---------------------------------------------------------------- both kinds of contract


def record_decision(
    contract: Contract,
    decision: str,
    user,
    seen_version: int | None,
    extend_to: date | None = None,
    note: str | None = None,
) -> ExtensionDecision:
    """Extend to a date (which becomes the end date), or let the contract expire."""
    check_version(contract, seen_version)
    if decision == "extend":
        if extend_to is None or extend_to <= contract.end_date:
            raise RuleBroken(f"Extend to a date after the current end, {day(contract.end_date)}", "extend_to")
        if extend_to > contract.max_end_date:
            raise RuleBroken(f"It can be extended to {day(contract.max_end_date)} at the latest", "extend_to")
    elif decision == "expire":
        extend_to = None
    else:
        raise RuleBroken("Choose to extend or to let it expire", "decision")
    record = ExtensionDecision(
        decision=decision,
        extend_to=extend_to,
        previous_end_date=contract.end_date,
        note=(note or "").strip() or None,
        decided_by=user,
    )
    contract.decisions.append(record)
    if extend_to is not None:
        contract.end_date = extend_to
    db.session.flush()
    return record


def change_block_settings(
    contract: Contract,
    seen_version: int | None,
    beds: int,
    threshold: int,
    window: int,
    notice_days: int,
    compared_lot: str | None = None,
    priced_per: str | None = None,
) -> None:
    """A block's beds, underuse check, notice period, comparison and (`priced_per`, None: as it
    is) whether its price is per bed-week or per bed-night."""
    check_version(contract, seen_version)
    if beds <= 0:
        raise RuleBroken("A block needs at least one bed", "beds")
    if not 0 <= threshold <= 100:
        raise RuleBroken("The threshold is a percentage from 0 to 100", "underuse_threshold_percent")
    if not 1 <= window <= 366:
        raise RuleBroken("The window is from 1 to 366 nights", "underuse_window_nights")
    if priced_per is not None:
        set_priced_per(contract, priced_per)
    contract.beds, contract.underuse_threshold_percent = beds, threshold
    contract.underuse_window_nights, contract.notice_days = window, notice_days
    contract.compared_lot = compared_lot or None
    db.session.flush()
    night = rules.first_night_over_beds(contract)
    if night is not None:
        raise RuleBroken(rules.over_capacity_message(contract, night), "beds")


def set_register_details(
    contract: Contract,
    seen_version: int | None,
    description: str | None,
    department: str | None,
    value_pence: int | None,
    procurement_route: str | None,
    review_date: date | None,
) -> None:
    """What the Transparency Code's contracts register shows of the contract."""
    check_version(contract, seen_version)
    if value_pence is not None and value_pence < 0:
        raise RuleBroken("The value cannot be negative", "value")
    if procurement_route and procurement_route not in ROUTES:
        raise RuleBroken("Choose a procurement route from the list", "procurement_route")
    if review_date and review_date < contract.start_date:
        raise RuleBroken(f"The review date is on or after the start, {day(contract.start_date)}", "review_date")
    contract.description, contract.department = (description or "").strip() or None, (department or "").strip() or None
    contract.value_pence, contract.procurement_route, contract.review_date = (
        value_pence,
        procurement_route or None,
        review_date,
    )
    db.session.flush()


def set_priced_per(contract: Contract, priced_per: str) -> None:
    """Price a block per bed-week or per bed-night (short breaks). Its prices are kept per
    bed-week either way, so its figures do not change; only a price that is a whole number of
    pence a night can be shown per night."""
    if priced_per not in PRICED_PER:
        raise RuleBroken("Choose whether the price is per bed-week or per bed-night", "priced_per")
    if priced_per == "night":
        for price in contract.block_prices:
            if price.weekly_pence % 7:
                raise RuleBroken(
                    f"The price from {day(price.effective_from)}, {money(price.weekly_pence)} a bed-week, "
                    "is not a whole number of pence a night",
                    "priced_per",
                )
    contract.priced_per = priced_per


def change_block_price(contract: Contract, pence: int, effective_from: date) -> BlockPrice:
    """A new price from a date, in the block's own unit (per bed-week, or per bed-night for a
    block priced per night: kept as the night's price × 7). The price in force ends the day before."""
    if pence <= 0:
        raise RuleBroken("The price must be above zero", "weekly_price")
    if contract.weekly_pence_of(pence) > MAX_WEEKLY_PENCE:
        most = MAX_WEEKLY_PENCE // 7 if contract.priced_per == "night" else MAX_WEEKLY_PENCE
        raise RuleBroken(f"The price must be {money(most)} a {contract.price_unit} or less", "weekly_price")
    if not contract.start_date <= effective_from <= contract.end_date:
        raise RuleBroken(
            f"Choose a date within the term, {day(contract.start_date)} to {day(contract.end_date)}", "effective_from"
        )
    if any(p.effective_from >= effective_from for p in contract.block_prices):
        raise RuleBroken("A price already starts on or after that date", "effective_from")
    for price in contract.block_prices:
        if price.effective_to is None or price.effective_to >= effective_from:
            price.effective_to = effective_from - timedelta(days=1)
    price = BlockPrice(weekly_pence=contract.weekly_pence_of(pence), effective_from=effective_from)
    contract.block_prices.append(price)
    db.session.flush()
    return price


def add_break_date(contract: Contract, break_date: date) -> BreakDate:
    if not contract.start_date < break_date <= contract.end_date:
        raise RuleBroken("A break date falls within the term", "break_date")
    if any(b.break_date == break_date for b in contract.break_dates):
        raise RuleBroken("That break date is already recorded", "break_date")
    record = BreakDate(break_date=break_date)
    contract.break_dates.append(record)
    db.session.flush()
    return record


def record_outage(contract: Contract, beds: int, start: date, end: date | None, reason: str) -> BedOutage:
    if not 1 <= beds <= (contract.beds or 0):
        raise RuleBroken(f"Between 1 and {contract.beds} beds", "beds")
    if end is not None and end <= start:
        raise RuleBroken("The date back in use must be after the first date out of use", "end_date")
    # Beds out of use lower the void cost and can hide an underuse flag: not backdated past the
    # term, nor by more than a year.
    earliest = max(contract.start_date, date.today() - timedelta(days=OUTAGE_BACKDATING_DAYS))
    if start < earliest:
        raise RuleBroken(
            f"The first night out of use can be no earlier than {day(earliest)}"
            + (" (the contract's start)" if earliest == contract.start_date else " (a year ago)"),
            "start_date",
        )
    if start > contract.end_date:
        raise RuleBroken(
            f"The first night out of use must be within the term, which ends on {day(contract.end_date)}", "start_date"
        )
    if not reason.strip():
        raise RuleBroken("Give the reason", "reason")
    outage = BedOutage(beds=beds, start_date=start, end_date=end, reason=reason.strip())
    contract.outages.append(outage)
    db.session.flush()
    return outage


# ---------------------------------------------------------------- placements


def contract_choices() -> list[tuple[str, str]]:
    """The contracts the signed-in user may see, as (ref, "ref: title") for a select."""
    return [
        (ref, f"{ref}: {title}")
        for ref, title in db.session.execute(
            scoped(Contract).select(Contract.ref, Contract.title).order_by(Contract.ref)
        )
    ]


def lot_names(consortium_id: int) -> list[str]:
    """The names of the lots of a consortium's frameworks, each once: what a block may be compared with."""
    return list(
        db.session.scalars(
            select(Lot.name)
            .join(Lot.contract)
            .where(Contract.consortium_id == consortium_id)
            .distinct()
            .order_by(Lot.name)
        )
    )


def open_contracts_with_homes(on: date) -> list[Contract]:
    """The contracts the user may place under on a day, with what the placement form lists: a
    block's homes, and each framework lot's admitted providers, their homes and prices."""
    admissions = selectinload(Contract.lots).selectinload(Lot.admissions)
    return db.session.scalars(
        scoped(Contract)
        .select()
        .where(Contract.end_date >= on)
        .order_by(Contract.ref)
        .options(
            selectinload(Contract.homes),
            admissions.selectinload(Admission.provider).selectinload(Provider.homes),
            admissions.selectinload(Admission.prices),
        )
    ).all()


def placements_query(
    authority: str = "",
    contract: str = "",
    home: str = "",
    status: str = "",
    start_from: date | None = None,
    start_to: date | None = None,
):
    """The placements the user may see, narrowed by authority code, contract ref, home URN,
    status (`open`, `ended`) and start dates; each with its contract, home, fees and authority."""
    query = (
        scoped(Placement)
        .select()
        .options(
            selectinload(Placement.contract),
            selectinload(Placement.home),
            selectinload(Placement.fees),
            selectinload(Placement.authority),
        )
    )
    if authority:
        query = query.where(Placement.authority_code == authority.upper())
    if contract:
        query = query.where(Placement.contract_id.in_(select(Contract.id).where(Contract.ref == contract)))
    if home:
        query = query.where(Placement.home_id.in_(select(Home.id).where(Home.urn == home.upper())))
    today = date.today()
    if status == "open":
        query = query.where(or_(Placement.end_date.is_(None), Placement.end_date > today))
    elif status == "ended":
        query = query.where(Placement.end_date <= today)
    if start_from:
        query = query.where(Placement.start_date >= start_from)
    if start_to:
        query = query.where(Placement.start_date <= start_to)
    return query


def record_placement(values: rules.PlacementValues, fee_reason: str | None = None) -> Placement:
    """A new placement, kept to every rule of `contracts.placements`. `fee_reason`: from the form,
    asked for when the fee is above the framework's price (see `check_fee_reason`)."""
    rules.check_fee_reason(values, fee_reason)
    problems, stored = rules.PlacementChecker.for_values([values]).check(values)
    if problems:
        raise RuleBroken(_sentence("; ".join(problems)))
    savepoint = db.session.begin_nested()
    placement = Placement(**stored["columns"], fee_reason=fee_reason)
    db.session.add(placement)
    rules.save_fee(placement, stored["fee"])
    db.session.flush()
    problem = rules.problem_across(placement)
    if problem:
        savepoint.rollback()
        raise RuleBroken(problem)
    savepoint.commit()
    return placement


def change_fee(placement: Placement, pence: int, effective_from: date) -> PlacementFee:
    """A new weekly fee from a date (framework and spot placements)."""
    rules.check_fee_change(placement, pence, effective_from)
    fee = PlacementFee(weekly_pence=pence, effective_from=effective_from)
    placement.fees.append(fee)
    db.session.flush()
    cofunding.check_fee_still_covers(placement)  # a lower fee can fall below a fixed contribution
    return fee


def end_placement(
    placement: Placement,
    end_date: date,
    reason: str | None,
    seen_version: int | None,
    reason_code: str | None = None,
) -> None:
    """The day the child left, why (an SSDA903 code) and a note beside it."""
    check_version(placement, seen_version)
    reason_code = (reason_code or "").strip().upper() or None
    rules.check_end(placement, end_date, reason_code)
    placement.end_date, placement.end_reason = end_date, (reason or "").strip() or None
    placement.end_reason_code = reason_code
    db.session.flush()
    problem = rules.problem_across(placement)  # a later end can meet the child's next placement
    if problem:
        raise RuleBroken(problem, "end_date")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def works_with(consortium_id: int, provider_id: int) -> bool:
    """Whether a consortium has a contract, an admission or a placement with a provider."""
    own = select(Contract.id).where(Contract.consortium_id == consortium_id)
    placed = (
        select(Placement.id)
        .join(Home, Home.id == Placement.home_id)
        .where(Home.provider_id == provider_id, Placement.contract_id.in_(own))
    )
    admitted = (
        select(Admission.id).join(Admission.lot).where(Admission.provider_id == provider_id, Lot.contract_id.in_(own))
    )
    contracted = select(Contract.id).where(Contract.consortium_id == consortium_id, Contract.provider_id == provider_id)
    return db.session.scalar(select(placed.exists() | admitted.exists() | contracted.exists()))


# ---------------------------------------------------------------- high-cost reviews

REVIEW_EVERY_DAYS = 183  # a high-cost placement is reviewed at least this often (DESIGN §4b)


def record_review(placement: Placement, reviewed_on: date, outcome: str, note: str | None, user=None) -> HighCostReview:
    """A review of a high-cost placement: the day it was held, its outcome and a note."""
    if outcome not in REVIEW_OUTCOMES:
        raise RuleBroken(f"Choose the outcome: {', '.join(REVIEW_OUTCOMES.values())}", "outcome")
    if reviewed_on > date.today():
        raise RuleBroken(f"The review date must be today, {day(date.today())}, or earlier", "reviewed_on")
    if reviewed_on < placement.start_date:
        raise RuleBroken(f"The review date must be on or after the start, {day(placement.start_date)}", "reviewed_on")
    review = HighCostReview(
        placement=placement,
        reviewed_on=reviewed_on,
        outcome=outcome,
        note=(note or "").strip() or None,
        recorded_by_id=user.id if user is not None else None,
    )
    db.session.add(review)
    db.session.flush()
    return review
