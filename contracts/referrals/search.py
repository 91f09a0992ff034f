"""What the search of DESIGN §4a reads: which blocks have a bed free, which framework
providers suit a referral, and how offers rank. No changes here: `referrals.services` makes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from consortium.core.extensions import db
from contracts.models import Admission, BlockNight, Contract, Lot, care_type_of_provision
from contracts.referrals.models import Offer, Referral
from providers import geo
from providers.models import Home, Judgement
from providers.quality import newest_graded

SEARCH_NIGHTS = 28  # a void block bed is free on each of the 28 nights from the needed-by date
SPOT_CHECK_NIGHTS = 7  # block_void_while_spot: a bed free on each of the 7 nights from the start
OFFER_VALID_HOURS = 48
URGENCY_WINDOWS = {"Today": "window_today_hours", "< 5 days": "window_soon_hours", "> 5 days": "window_later_hours"}
# Quality points by the home's current judgement's rank (1 Outstanding ... 4 Inadequate); None: not yet inspected.
QUALITY_POINTS = {1: 60, 2: 45, 3: 15, 4: 0}
NOT_INSPECTED_POINTS = 30
QUALITY_WEIGHT, PRICE_WEIGHT = 60, 40
INADEQUATE_RANK = 4


def urgency(needed_by: date, opened_on: date) -> str:
    """PDS neededBy: Today (on or before the day it opens), < 5 days (1 to 4 days after), > 5 days."""
    days = (needed_by - opened_on).days
    return "Today" if days <= 0 else "< 5 days" if days <= 4 else "> 5 days"


def window(contract: Contract, urgency_: str) -> timedelta:
    return timedelta(hours=getattr(contract, URGENCY_WINDOWS[urgency_]))


def home_suits(home: Home, referral: Referral) -> bool:
    return care_type_of_provision(home.provision_type) in referral.care_types


def beds_free(contract_ids, first: date, nights: int, except_offer: int | None = None) -> dict[int, int]:
    """For each block, the beds free on every one of `nights` nights from `first`: the least,
    over the nights, of capacity (beds less beds out of use) less beds occupied less beds held
    by standing block offers from their start. A block whose term does not cover every night
    has none free. In SQL over the block's nights."""
    contract_ids = list(contract_ids)
    if not contract_ids:
        return {}
    last = first + timedelta(days=nights)
    held = (
        select(func.count(Offer.id))
        .where(
            Offer.contract_id == BlockNight.contract_id,
            Offer.is_block,
            Offer.status == "standing",
            Offer.start_date <= BlockNight.day,
            Offer.id != (except_offer or 0),
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(BlockNight.contract_id, func.min(BlockNight.capacity - BlockNight.occupied - held), func.count())
        .where(BlockNight.contract_id.in_(contract_ids), BlockNight.day >= first, BlockNight.day < last)
        .group_by(BlockNight.contract_id)
    )
    return {contract_id: max(free, 0) if count == nights else 0 for contract_id, free, count in rows}


def judgement_ranks(home_ids) -> dict[int, int | None]:
    """Each home's current graded judgement's rank today (None: not yet inspected)."""
    home_ids = list(home_ids)
    if not home_ids:
        return {}
    newest = newest_graded(Home.id)
    return dict(
        db.session.execute(
            select(Home.id, Judgement.rank).outerjoin(Judgement, Judgement.id == newest).where(Home.id.in_(home_ids))
        ).all()
    )


def suitable_blocks(referral: Referral, on: date) -> list[tuple[Contract, list[Home]]]:
    """The consortium's blocks with a home that suits the referral (its kind of placement,
    registered Active, not judged Inadequate) and a bed free on each of the 28 nights from
    `on`: each with its suitable homes."""
    blocks = db.session.scalars(
        select(Contract)
        .where(
            Contract.consortium_id == referral.consortium_id,
            Contract.kind == "block",
            Contract.start_date <= on,
            Contract.end_date >= on,
        )
        .options(selectinload(Contract.homes))
        .order_by(Contract.ref)
    ).all()
    homes = {home.id: home for block in blocks for home in block.homes}
    ranks = judgement_ranks(homes)
    suitable = []
    for block in blocks:
        fitting = [
            home
            for home in block.homes
            if home_suits(home, referral)
            and home.registration_status == "Active"
            and ranks.get(home.id) != INADEQUATE_RANK
        ]
        if fitting:
            suitable.append((block, fitting))
    free = beds_free([block.id for block, _ in suitable], on, SEARCH_NIGHTS)
    return [(block, fitting) for block, fitting in suitable if free.get(block.id, 0) >= 1]


def framework_admissions(referral: Referral, on: date) -> dict[str, list[Admission]]:
    """By tier, the active admissions to the consortium's frameworks (in their term on `on`) on a
    lot of a kind that suits the referral: one per provider and framework, its best tier."""
    tiers = ("Preferred", "Reserve", "Other")
    if not referral.care_types:
        return {tier: [] for tier in tiers}
    rows = db.session.scalars(
        select(Admission)
        .join(Admission.lot)
        .join(Lot.contract)
        .where(
            Contract.consortium_id == referral.consortium_id,
            Contract.kind == "framework",
            Contract.start_date <= on,
            Contract.end_date >= on,
            Admission.status == "active",
            Lot.care_type.in_(referral.care_types),
        )
        .options(selectinload(Admission.lot).selectinload(Lot.contract), selectinload(Admission.provider))
        .order_by(Admission.id)
    ).all()
    best: dict[tuple[int, int], Admission] = {}
    for admission in rows:
        key = (admission.provider_id, admission.lot.contract_id)
        if key not in best or tiers.index(admission.tier) < tiers.index(best[key].tier):
            best[key] = admission
    by_tier: dict[str, list[Admission]] = {tier: [] for tier in tiers}
    for admission in best.values():
        by_tier[admission.tier].append(admission)
    return by_tier


# ---------------------------------------------------------------- ranking


@dataclass
class RankedOffer:
    offer: Offer
    quality_points: int
    price_points: Decimal | None  # None for a block offer: its nights are already paid for
    score: Decimal | None
    distance: geo.Distance | None
    rank: int | None  # the home's current judgement's rank (None: not yet inspected)

    @property
    def within_20_miles(self) -> bool | None:
        return None if self.distance is None else self.distance.local


def price_points(lowest_total: int, total: int) -> Decimal:
    """40 x the lowest total weekly fee among the standing non-block offers / this one's, half-up to one decimal."""
    return (Decimal(PRICE_WEIGHT) * Decimal(lowest_total) / Decimal(total)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def quality_points(rank: int | None) -> int:
    return NOT_INSPECTED_POINTS if rank is None else QUALITY_POINTS.get(rank, 0)


def rank_offers(referral: Referral, offers: list[Offer]) -> list[RankedOffer]:
    """The standing offers, best first: block offers first (nearer, then earlier), then by score
    (quality 60 + price 40), ties nearer first, then earlier."""
    standing = [offer for offer in offers if offer.status == "standing"]
    return _ranked(referral, standing, judgement_ranks({o.home_id for o in standing}), _points(standing))


def rank_many(referrals: list[Referral]) -> dict[int, list[RankedOffer]]:
    """Each referral's standing offers ranked, the homes' judgements and points read once for all."""
    standing = [offer for referral in referrals for offer in referral.offers if offer.status == "standing"]
    ranks, points = judgement_ranks({o.home_id for o in standing}), _points(standing)
    return {
        referral.id: _ranked(referral, [o for o in referral.offers if o.status == "standing"], ranks, points)
        for referral in referrals
    }


def _points(offers: list[Offer]) -> dict[int, geo.Point]:
    return geo.home_points(list({offer.home_id: offer.home for offer in offers}.values())) if offers else {}


def _ranked(referral: Referral, standing: list[Offer], ranks: dict, points: dict) -> list[RankedOffer]:
    distances = geo.distances_to(
        referral.authority, {o.home_id: points[o.home_id] for o in standing if o.home_id in points}
    )
    paid = [offer.total_pence for offer in standing if not offer.is_block and offer.total_pence > 0]
    lowest = min(paid, default=None)
    ranked = []
    for offer in standing:
        quality = quality_points(ranks.get(offer.home_id))
        priced = not offer.is_block and lowest is not None and offer.total_pence > 0
        price = price_points(lowest, offer.total_pence) if priced else None
        ranked.append(
            RankedOffer(
                offer=offer,
                quality_points=quality,
                price_points=price,
                score=None if price is None else quality + price,
                distance=distances.get(offer.home_id),
                rank=ranks.get(offer.home_id),
            )
        )
    far = Decimal("1e9")

    def order(item: RankedOffer):
        near = item.distance.miles if item.distance else far
        return (not item.offer.is_block, -(item.score or 0), near, item.offer.made_at, item.offer.id)

    return sorted(ranked, key=order)


def standing_block_offer(referral: Referral) -> Offer | None:
    return next((o for o in referral.offers if o.status == "standing" and o.is_block), None)


def pending(referral: Referral, now: datetime) -> list:
    """The invitations still waiting for an answer before their deadline."""
    return [i for i in referral.invitations if i.status == "invited" and aware(i.deadline) > now]


SPOT_WAITS = (
    "A spot purchase waits until every invited provider has answered or its deadline has passed "
    "and no tier is left to ask (at once only for a referral needed today)"
)


def spot_allowed(referral: Referral, now: datetime) -> bool:
    """Spot only when every invitation has been answered or has expired and no tier is still to
    be asked (or the offers that stand were not acceptable), or at once for a Today referral."""
    if referral.status != "open":
        return False
    if referral.urgency == "Today":
        return True
    if pending(referral, now):
        return False
    return referral.next_stage_at is None or any(o.status == "standing" for o in referral.offers)


def aware(moment: datetime | None) -> datetime | None:
    """A time read back from SQLite (which keeps no zone) as the UTC it was written in."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)
