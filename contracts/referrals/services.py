"""Changes to referrals, invitations and offers (DESIGN §4a). Services flush; the request, the
command or the job commits once.

The order of the search: on opening, the blocks with a bed free and the framework's Preferred
tier are invited; when a stage's window ends with no offer standing, the next tier is invited
(`advance`, run by the 5-minute job); spot only when `search.spot_allowed`. Accepting an offer
makes the placement through the placement rules, closes the referral and tells the others, in
one transaction; the referral row is locked first, so two officers accepting at once make one
placement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import selectinload

from consortium.core import messages
from consortium.core.extensions import db
from consortium.core.formatting import day, money, uk_minute
from consortium.core.models import Consortium, Membership, User
from consortium.core.services import RuleBroken
from contracts import services as contract_services
from contracts.models import NEED_LEVELS, Contract, Lot, Placement, care_type_of_provision
from contracts.placements import SUPPORTED_ACCOMMODATION_MIN_AGE, PlacementValues, framework_price
from contracts.referrals import search
from contracts.referrals.models import (
    CARE_TYPES,
    DECLINE_REASONS,
    STAGES,
    SUITS,
    UNMET_REASONS,
    Offer,
    Referral,
    ReferralInvitation,
)
from providers import geo
from providers.models import Home

MAX_VALID_HOURS = 14 * 24
# The service's placement type for each kind of placement an offer makes.
PLACEMENT_TYPE_OF = {"foster": "ifa_fostering", "residential": "residential", "supported": "supported_accommodation"}


def now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------- drafts and opening


def new_draft(user, authority_code: str, consortium: Consortium, **values) -> Referral:
    referral = Referral(authority_code=authority_code, consortium_id=consortium.id, created_by=user, **values)
    db.session.add(referral)
    db.session.flush()
    return referral


def update_draft(referral: Referral, **values) -> None:
    """Change a draft's answers (a referral once opened keeps what providers were sent)."""
    if referral.status != "draft":
        raise RuleBroken(f"{referral.label} is {referral.status}: its answers can no longer be changed")
    for name, value in values.items():
        setattr(referral, name, value)
    db.session.flush()


def problems(referral: Referral, today: date) -> list[tuple[str, str]]:
    """What stops a referral opening, as (field, message)."""
    found = []
    if not referral.care_types:
        found.append(("residential_suitability", "Say which kind of placement suits: at least one must be suitable"))
    if referral.supported_suitability in SUITS and referral.age_in_years < SUPPORTED_ACCOMMODATION_MIN_AGE:
        found.append(
            (
                "supported_suitability",
                f"Supported accommodation is only for young people of {SUPPORTED_ACCOMMODATION_MIN_AGE} or over",
            )
        )
    if referral.needed_by is None:
        found.append(("needed_by", "Enter the date the placement is needed by"))
    elif referral.needed_by < today:
        found.append(("needed_by", f"The date the placement is needed by must be today, {day(today)}, or later"))
    if referral.need_level not in NEED_LEVELS:
        found.append(("need_level", f"Need level must be one of {', '.join(NEED_LEVELS)}"))
    if not referral.local_preferred and not (referral.out_of_area_reason or "").strip():
        found.append(("out_of_area_reason", "Say why a placement outside the area is preferred"))
    return found


def open_referral(referral: Referral, at: datetime | None = None) -> list[ReferralInvitation]:
    """Open a draft: number it, work out its urgency and invite the first stage (DESIGN §4a)."""
    at = at or now()
    if referral.status != "draft":
        raise RuleBroken(f"{referral.label} is already {referral.status}")
    found = problems(referral, at.date())
    if found:
        raise RuleBroken(found[0][1], found[0][0])
    if not _is_member(referral.consortium_id, referral.authority_code, at.date()):
        raise RuleBroken(f"{referral.authority_code} is not a member of the consortium today")
    referral.year = at.year
    referral.sequence = _next_sequence(referral.consortium, at.year)
    referral.number = f"{referral.consortium.ref}-R-{at.year}-{referral.sequence:04d}"
    referral.status, referral.opened_at = "open", at
    referral.urgency = search.urgency(referral.needed_by, at.date())
    db.session.flush()
    return advance(referral, at)


def _is_member(consortium_id: int, code: str, on: date) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Membership.consortium_id == consortium_id,
                    Membership.authority_code == code,
                    Membership.joined <= on,
                    (Membership.left.is_(None)) | (Membership.left >= on),
                )
            )
        )
    )


def _next_sequence(consortium: Consortium, year: int) -> int:
    """The next referral number of a consortium's year. Locking the consortium's row makes two
    referrals opened at once take turns (SQLite lets one write at a time anyway); the unique
    key refuses a clash whatever happens."""
    db.session.execute(select(Consortium.id).where(Consortium.id == consortium.id).with_for_update())
    last = db.session.scalar(
        select(func.max(Referral.sequence)).where(Referral.consortium_id == consortium.id, Referral.year == year)
    )
    return (last or 0) + 1


def advance(referral: Referral, at: datetime) -> list[ReferralInvitation]:
    """Invite the next stage that has anyone to invite (the first: the blocks with a bed free
    and the Preferred tier), and set when its window ends: None when no tier is left to ask."""
    done = STAGES.index(referral.stage) if referral.stage else 0
    remaining = [stage for stage in STAGES[1:] if STAGES.index(stage) > done]
    tiers = search.framework_admissions(referral, referral.needed_by) if remaining else {}
    invited: list[ReferralInvitation] = []
    while remaining and not invited:
        stage = remaining.pop(0)
        asked = [(admission.lot.contract, admission, stage) for admission in tiers.get(stage, [])]
        if stage == "Preferred":
            blocks = search.suitable_blocks(referral, referral.needed_by)
            asked = [(block, None, "Block") for block, _ in blocks] + asked
        invited = [i for i in (_invite(referral, *one, at) for one in asked) if i is not None]
        referral.stage = stage
    later = invited and any(tiers.get(stage) for stage in remaining)
    referral.next_stage_at = max(i.deadline for i in invited) if later else None
    db.session.flush()
    for invitation in invited:
        _tell_invited(invitation)
    return invited


def _invite(referral, contract, admission, stage, at) -> ReferralInvitation | None:
    provider_id = admission.provider_id if admission else contract.provider_id
    if any((i.provider_id, i.contract_id) == (provider_id, contract.id) for i in referral.invitations):
        return None
    invitation = ReferralInvitation(
        provider_id=provider_id,
        contract_id=contract.id,
        admission_id=admission.id if admission else None,
        stage=stage,
        sent_at=at,
        deadline=at + search.window(contract, referral.urgency),
    )
    referral.invitations.append(invitation)
    return invitation


# ---------------------------------------------------------------- messages


def _provider_staff(provider_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.provider_id == provider_id, User.role == "provider", User.active).order_by(User.id)
        )
    )


def _tell_provider(provider_id: int, period: str, subject: str, body: str, always_email: bool = False) -> None:
    """A message to each of a provider's staff, in the service at once and by e-mail for those
    who want referral e-mails."""
    for user in _provider_staff(provider_id):
        messages.queue("referral", period, subject, body, user=user, by_email=always_email or user.wants_referral_email)


def _tell_invited(invitation: ReferralInvitation) -> None:
    referral = invitation.referral
    kinds = ", ".join(CARE_TYPES[kind][0].lower() for kind in referral.care_types)
    source = "your block contract" if invitation.is_block else f"the framework ({invitation.stage} tier)"
    _tell_provider(
        invitation.provider_id,
        f"invitation-{invitation.id}",
        f"Referral {referral.number}: answer by {uk_minute(invitation.deadline)}",
        f"You are invited through {invitation.contract.ref}, {source}, to answer referral {referral.number}: "
        f"a young person of {referral.age_in_years} needing {kinds} by {day(referral.needed_by)} "
        f"({referral.urgency}, {referral.need_level} need).\n\n"
        f"Make an offer or decline by {uk_minute(invitation.deadline)} (UK time): sign in to Manage placement "
        "contracts and open Referrals. After the deadline the invitation closes as no response.",
    )


def _tell_closed(referral: Referral, outcome: str, except_provider: int | None = None) -> None:
    for invitation in referral.invitations:
        if invitation.provider_id == except_provider or invitation.status == "closed":
            continue
        if invitation.status in ("invited", "offered"):
            invitation.status = "closed"
        _tell_provider(
            invitation.provider_id,
            f"closed-{invitation.id}",
            f"Referral {referral.number}: {outcome}",
            f"Referral {referral.number}, to which you were invited through {invitation.contract.ref}, "
            f"is now closed: {outcome}. Nothing more is needed from you for it.",
        )


# ---------------------------------------------------------------- the provider's answer


@dataclass
class OfferValues:
    home_urn: str
    start_date: date
    need_level: str
    core_pence: int = 0
    additional_support_pence: int = 0
    education_pence: int = 0
    other_pence: int = 0
    valid_hours: int = search.OFFER_VALID_HOURS
    reason: str | None = None


def _answerable(invitation: ReferralInvitation, at: datetime) -> Referral:
    referral = invitation.referral
    if referral.status != "open":
        raise RuleBroken(f"{referral.number} is closed ({referral.status}): it takes no more answers")
    if invitation.status not in ("invited",):
        raise RuleBroken(f"You have already answered {referral.number} ({invitation.status.replace('_', ' ')})")
    if search.aware(invitation.deadline) <= at:
        raise RuleBroken(
            f"The deadline for answering {referral.number} was {uk_minute(invitation.deadline)}: "
            "it can no longer be answered"
        )
    return referral


def make_offer(invitation: ReferralInvitation, user, values: OfferValues, at: datetime | None = None) -> Offer:
    at = at or now()
    referral = _answerable(invitation, at)
    home = db.session.scalar(select(Home).where(Home.urn == (values.home_urn or "").strip().upper()))
    if home is None or home.provider_id != invitation.provider_id:
        raise RuleBroken("Choose one of your homes", "home_urn")
    if not search.home_suits(home, referral):
        raise RuleBroken(f"{home.with_urn} does not give the kind of placement this referral needs", "home_urn")
    if invitation.is_block and home.id not in {h.id for h in invitation.contract.homes}:
        raise RuleBroken(f"{home.with_urn} is not one of the homes of {invitation.contract.ref}", "home_urn")
    if values.start_date < at.date():
        raise RuleBroken(f"The start date must be today, {day(at.date())}, or later", "start_date")
    if values.need_level not in NEED_LEVELS:
        raise RuleBroken(f"Need level must be one of {', '.join(NEED_LEVELS)}", "need_level")
    if not 1 <= values.valid_hours <= MAX_VALID_HOURS:
        raise RuleBroken(f"An offer is valid for 1 to {MAX_VALID_HOURS} hours", "valid_hours")
    if invitation.is_block:
        priced = _priced_as_block(invitation.contract, values.start_date)
    else:
        priced = _priced_as_framework(invitation, home, values)
    offer = Offer(
        invitation=invitation,
        referral=referral,
        provider_id=invitation.provider_id,
        contract=invitation.contract,
        home=home,
        is_block=invitation.is_block,
        start_date=values.start_date,
        need_level=values.need_level,
        valid_until=at + timedelta(hours=values.valid_hours),
        made_at=at,
        made_by_id=user.id if user is not None else None,
        **priced,
    )
    invitation.status, invitation.answered_at = "offered", at
    db.session.add(offer)
    db.session.flush()
    return offer


def _priced_as_block(block: Contract, start: date) -> dict:
    """A block offer costs the block's price (already paid for), and needs a bed free on each of
    the 28 nights from its start, counting the beds other standing block offers hold. The block's
    row is locked first, so two offers of its last bed take turns and the second sees it held."""
    db.session.execute(select(Contract.id).where(Contract.id == block.id).with_for_update())
    if search.beds_free([block.id], start, search.SEARCH_NIGHTS).get(block.id, 0) < 1:
        raise RuleBroken(
            f"{block.ref} has no bed free on each of the {search.SEARCH_NIGHTS} nights from {day(start)}: "
            "its beds are occupied or held by other offers",
            "start_date",
        )
    price = block.price_on(start)
    if price is None:
        raise RuleBroken(f"{block.ref} has no price on {day(start)}", "start_date")
    return {"core_pence": price, "total_pence": price}


def _priced_as_framework(invitation: ReferralInvitation, home: Home, values: OfferValues) -> dict:
    parts = (values.core_pence, values.additional_support_pence, values.education_pence, values.other_pence)
    if any(part is None or part < 0 for part in parts):
        raise RuleBroken("Each part of the fee is £0.00 or more", "core_fee")
    if values.core_pence <= 0:
        raise RuleBroken("Enter the core weekly fee", "core_fee")
    price = framework_price(invitation.contract, home, values.need_level, values.start_date)
    above = price is not None and values.core_pence > price
    reason = (values.reason or "").strip() or None
    if above and not reason:
        raise RuleBroken(
            f"The core fee is above the framework price of {money(price)} a week for {values.need_level} need: say why",
            "reason",
        )
    return {
        "core_pence": values.core_pence,
        "additional_support_pence": values.additional_support_pence,
        "education_pence": values.education_pence,
        "other_pence": values.other_pence,
        "total_pence": sum(parts),
        "framework_price_pence": price,
        "above_framework_price": above,
        "reason": reason,
    }


def decline(invitation: ReferralInvitation, reason: str, note: str | None, at: datetime | None = None) -> None:
    at = at or now()
    _answerable(invitation, at)
    if reason not in DECLINE_REASONS:
        raise RuleBroken(f"Choose a reason: {', '.join(DECLINE_REASONS)}", "reason")
    if reason == "Other" and not (note or "").strip():
        raise RuleBroken("Say why", "note")
    invitation.status, invitation.answered_at = "declined", at
    invitation.decline_reason, invitation.decline_note = reason, (note or "").strip() or None
    db.session.flush()


def withdraw_offer(offer: Offer, at: datetime | None = None) -> None:
    """The provider takes its offer back before it is accepted; it may offer again before the deadline."""
    at = at or now()
    if offer.status != "standing":
        raise RuleBroken(f"This offer is {offer.status.replace('_', ' ')}: it can no longer be withdrawn")
    offer.status, offer.closed_at = "withdrawn", at
    invitation = offer.invitation
    invitation.status = "invited" if search.aware(invitation.deadline) > at else "no_response"
    db.session.flush()


# ---------------------------------------------------------------- the referrer's decision


def lock(referral: Referral) -> Referral:
    """The referral read again under a row lock, so two decisions on it take turns."""
    return db.session.scalars(
        select(Referral).where(Referral.id == referral.id).with_for_update().execution_options(populate_existing=True)
    ).one()


def accept(
    offer: Offer,
    passed_block_reason: str | None = None,
    inadequate_reason: str | None = None,
    at: datetime | None = None,
) -> Placement:
    """Make the placement an offer describes, close the referral as placed, mark the other offers
    not selected and tell their providers: one transaction."""
    at = at or now()
    referral = lock(offer.referral)
    db.session.refresh(offer)
    if referral.status != "open":
        raise RuleBroken(f"{referral.number} is already {referral.status}: nothing was changed")
    if offer.status != "standing":
        raise RuleBroken(f"This offer is {offer.status.replace('_', ' ')}: it can no longer be accepted")
    if search.aware(offer.valid_until) <= at:
        raise RuleBroken(f"This offer was valid until {uk_minute(offer.valid_until)}: it has lapsed")
    block_offer = search.standing_block_offer(referral)
    if block_offer is not None and not offer.is_block:
        if not (passed_block_reason or "").strip():
            raise RuleBroken(
                f"A block bed is offered ({block_offer.contract.ref}, already paid for): say why this offer "
                "is chosen instead",
                "passed_block_reason",
            )
        referral.passed_block_reason = passed_block_reason.strip()
    if search.judgement_ranks([offer.home_id]).get(offer.home_id) == search.INADEQUATE_RANK:
        if not (inadequate_reason or "").strip():
            raise RuleBroken(
                f"{offer.home.with_urn} has since been judged Inadequate: say why it is still the right placement",
                "inadequate_reason",
            )
        referral.inadequate_reason = inadequate_reason.strip()
    placement = contract_services.record_placement(placement_values(referral, offer), fee_reason=_fee_reason(offer))
    offer.status, offer.closed_at = "accepted", at
    _close(referral, "placed", at, placement)
    _tell_provider(
        offer.provider_id,
        f"accepted-{offer.id}",
        f"Referral {referral.number}: your offer is accepted",
        f"{referral.authority.name} has accepted your offer of {offer.home.with_urn} from {day(offer.start_date)} "
        f"for referral {referral.number}. The child's reference is {referral.child_ref}.",
        always_email=True,
    )
    _tell_closed(referral, "placed elsewhere", except_provider=offer.provider_id)
    return placement


def _fee_reason(offer: Offer) -> str | None:
    if offer.is_block:
        return None
    if offer.reason:
        return offer.reason
    if offer.framework_price_pence is not None and offer.total_pence > offer.framework_price_pence:
        return (
            f"Offer for {offer.referral.number}: core fee {money(offer.core_pence)} within the framework price; "
            f"the total adds additional support, education and other costs"
        )
    return None


def placement_values(referral: Referral, offer: Offer) -> PlacementValues:
    lot = db.session.get(Lot, offer.invitation.admission.lot_id) if offer.invitation.admission else None
    kind = care_type_of_provision(offer.home.provision_type)
    placement_type = PLACEMENT_TYPE_OF[kind]
    if kind == "residential" and lot is not None and "education" in lot.name.lower():
        placement_type = "residential_education"
    distance = geo.distances_from(referral.authority, [offer.home]).get(offer.home_id)
    return PlacementValues(
        authority_code=referral.authority_code,
        child_ref=referral.child_ref,
        contract_ref=offer.contract.ref,
        home_urn=offer.home.urn,
        start_date=offer.start_date,
        end_date=None,
        weekly_pence=None if offer.is_block else offer.total_pence,
        placement_type=placement_type,
        distance_miles=distance.miles if distance else None,
        age_at_start=referral.age_in_years,
        need_level=offer.need_level,
    )


def _close(referral: Referral, status: str, at: datetime, placement: Placement | None = None) -> None:
    referral.status, referral.closed_at, referral.next_stage_at = status, at, None
    if placement is not None:
        referral.placement = placement
    for other in referral.offers:
        if other.status == "standing":
            other.status, other.closed_at = "not_selected", at
    db.session.flush()


def buy_spot(referral: Referral, values: PlacementValues, reason: str, at: datetime | None = None) -> Placement:
    """A spot placement for the referral, only when DESIGN §4a allows it, with the reason."""
    at = at or now()
    referral = lock(referral)
    if referral.status != "open":
        raise RuleBroken(f"{referral.number} is already {referral.status}: nothing was changed")
    if not search.spot_allowed(referral, at):
        raise RuleBroken(search.SPOT_WAITS)
    if not (reason or "").strip():
        raise RuleBroken("Say why a spot purchase is needed", "reason")
    values.authority_code, values.child_ref, values.contract_ref = referral.authority_code, referral.child_ref, None
    values.age_at_start = referral.age_in_years
    placement = contract_services.record_placement(values, fee_reason=None)
    referral.spot_reason = reason.strip()
    _close(referral, "placed", at, placement)
    _tell_closed(referral, "placed elsewhere")
    return placement


def withdraw(referral: Referral, reason: str | None = None, at: datetime | None = None) -> None:
    """The referral is no longer needed; a draft is simply withdrawn. Every invited provider is told."""
    at = at or now()
    referral = lock(referral)
    if referral.status not in ("draft", "open"):
        raise RuleBroken(f"{referral.label} is already {referral.status}")
    referral.close_reason = (reason or "").strip() or None
    was_open = referral.status == "open"
    _close(referral, "withdrawn", at)
    if was_open:
        _tell_closed(referral, "withdrawn by the placing authority")


def close_unmet(referral: Referral, reason: str, note: str | None = None, at: datetime | None = None) -> None:
    at = at or now()
    referral = lock(referral)
    if referral.status != "open":
        raise RuleBroken(f"{referral.label} is {referral.status}: only an open referral closes as unmet")
    if reason not in UNMET_REASONS:
        raise RuleBroken(f"Choose a reason: {', '.join(UNMET_REASONS)}", "reason")
    if reason == "Other" and not (note or "").strip():
        raise RuleBroken("Say why", "note")
    referral.close_reason = f"{reason}: {note.strip()}" if (note or "").strip() else reason
    _close(referral, "unmet", at)
    _tell_closed(referral, "closed without a placement")


# ---------------------------------------------------------------- the 5-minute job


@dataclass
class Tick:
    expired: int = 0
    lapsed: int = 0
    escalated: int = 0
    invited: int = 0


def tick(at: datetime | None = None) -> Tick:
    """What the clock does: unanswered invitations past their deadline become no response,
    standing offers past their validity lapse, and each open referral whose stage's window has
    ended with no offer standing invites the next tier. Set-based; safe to run again."""
    at = at or now()
    done = Tick()
    done.expired = db.session.execute(
        update(ReferralInvitation)
        .where(ReferralInvitation.status == "invited", ReferralInvitation.deadline <= at)
        .values(status="no_response")
        .execution_options(synchronize_session=False)
    ).rowcount
    lapsing = select(Offer.id).where(Offer.status == "standing", Offer.valid_until <= at)
    done.lapsed = db.session.execute(
        update(Offer)
        .where(Offer.id.in_(lapsing))
        .values(status="lapsed", closed_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    standing = exists().where(Offer.referral_id == Referral.id, Offer.status == "standing")
    due = db.session.scalars(
        select(Referral)
        .where(Referral.status == "open", Referral.next_stage_at <= at, ~standing)
        .options(selectinload(Referral.invitations), selectinload(Referral.authority))
        .order_by(Referral.id)
        .with_for_update(skip_locked=True)
    ).all()
    for referral in due:
        invited = advance(referral, at)
        done.escalated += 1
        done.invited += len(invited)
    db.session.expire_all()
    return done
