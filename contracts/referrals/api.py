"""The API's referrals, invitations and offers: the same services as the pages, with the field
names of the national Placements Data Standard (v2), camelCase as the standard spells them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from flask import url_for
from flask_login import current_user
from pydantic import Field, StrictBool, StrictInt
from sqlalchemy.orm import selectinload

from consortium.core import api
from consortium.core.access import scoped
from consortium.core.inputs import EARLIEST, LATEST, MAX_WEEKLY_PENCE
from consortium.core.services import RuleBroken
from contracts.api import PlacementOut, _placement
from contracts.models import NEED_LEVELS, PLACEMENT_TYPES
from contracts.placements import PlacementValues
from contracts.referrals import fields, search, services
from contracts.referrals.models import (
    ADDITIONAL_SUPPORT,
    COMMUNICATION_NEEDS,
    CULTURAL_NEEDS,
    DECLINE_REASONS,
    LIVING_COMPANIONS,
    PETS,
    RISK_VALUES,
    SEXES,
    SPECIFIC_COMMUNICATION,
    STATUSES,
    SUITABILITY,
    Offer,
    Referral,
    ReferralInvitation,
)

bp = api.blueprint("referrals_api", __name__)

Day = Annotated[date, Field(ge=EARLIEST, le=LATEST)]
Pence = Annotated[StrictInt, Field(ge=0, le=MAX_WEEKLY_PENCE)]
Suitability = Literal[SUITABILITY]  # type: ignore[valid-type]
Risk = Literal[RISK_VALUES]  # type: ignore[valid-type]
Other = Annotated[str, Field(max_length=200, description="The standard's Other field: never a name")]


class ReferralIn(api.Schema):
    """A referral as the standard's PlacementAvailability, PlacementRequirements,
    PlacementRecommendation and Risks give it."""

    authority_code: str | None = Field(None, max_length=9, description="A partner's own authority when left out")
    child_id: str = Field(max_length=40, description="The placing authority's own pseudonymous reference")
    age_in_years: Annotated[StrictInt, Field(ge=0, le=25)]
    sex: Literal[SEXES] | None = Field(None, description="Only where it matters for matching")  # type: ignore[valid-type]
    needed_by: Day
    need_level: Literal[NEED_LEVELS] = "standard"  # type: ignore[valid-type]
    foster_care_suitability: Suitability
    residential_care_suitability: Suitability
    supported_accommodation_suitability: Suitability
    sibling_count: Annotated[StrictInt, Field(ge=0, le=20)] = 0
    is_preferred_location_local: StrictBool = True
    out_of_la_reason: Other | None = Field(None, alias="outOfLAReason")
    communication_needs: Literal[COMMUNICATION_NEEDS] = "Not Specified"  # type: ignore[valid-type]
    specific_communication_requirements: list[Literal[SPECIFIC_COMMUNICATION]] = ["None"]  # type: ignore[valid-type]
    home_adaptation: StrictBool = False
    cultural_needs: Literal[CULTURAL_NEEDS] = "Not Known"  # type: ignore[valid-type]
    living_companions: Literal[LIVING_COMPANIONS] = "No preference"  # type: ignore[valid-type]
    pets: Literal[PETS] = "Not Known"  # type: ignore[valid-type]
    additional_support: Literal[ADDITIONAL_SUPPORT] = "NA"  # type: ignore[valid-type]
    additional_support_other: Other | None = None
    deprivation_of_liberty: StrictBool = False
    risk_self_harm: Risk
    risk_sexual_exploitation: Risk
    risk_criminal_exploitation: Risk
    risk_drug_alcohol: Risk
    risk_eating_disorder: Risk
    risk_missing: Risk
    risk_other: Other | None = None
    risk_to_others_physical: Risk
    risk_to_others_sexual: Risk
    risk_to_others_fire: Risk
    risk_to_others_animals: Risk
    risk_to_others_criminal: Risk
    risk_to_others_other: Other | None = None
    max_weekly_fee_pence: Annotated[StrictInt, Field(ge=1, le=MAX_WEEKLY_PENCE)] | None = None


class InvitationOut(api.Schema):
    id: int
    referral_id: int
    referral_number: str | None
    provider_name: str
    contract_ref: str
    stage: str = Field(description="Block, or the framework tier: Preferred, Reserve, Other")
    sent_at: datetime
    deadline: datetime
    status: str
    decline_reason: str | None


class OfferOut(api.Schema):
    id: int
    invitation_id: int
    provider_name: str
    home_urn: str
    home_name: str
    is_block: bool
    start_date: date
    need_level: str
    core_weekly_cost_pence: int
    additional_support_weekly_cost_pence: int
    education_weekly_cost_pence: int
    other_weekly_cost_pence: int
    total_weekly_cost_pence: int
    above_framework_price: bool
    framework_price_pence: int | None
    reason: str | None
    valid_until: datetime
    status: str
    score: float | None = Field(description="Quality + price points, out of 100; none for a block offer")
    quality_points: int | None
    price_points: float | None
    distance_miles: float | None
    distance_from: str | None = Field(description="Which point of the home the distance used")
    within_20_miles: bool | None


class ReferralOut(api.Schema):
    id: int
    number: str | None
    status: str
    authority_code: str
    child_id: str | None = Field(description="Withheld from a provider until its offer is accepted")
    age_in_years: int
    sex: str | None
    needed_by: date | None
    urgency: str | None = Field(description="PDS neededBy: Today, < 5 days, > 5 days")
    need_level: str
    foster_care_suitability: str
    residential_care_suitability: str
    supported_accommodation_suitability: str
    sibling_count: int
    is_preferred_location_local: bool
    out_of_la_reason: str | None = Field(alias="outOfLAReason")
    needs: dict[str, str | bool | list[str] | None]
    risks: dict[str, str | None]
    max_weekly_fee_pence: int | None
    opened_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    placement_id: int | None
    spot_allowed: bool
    invitations: list[InvitationOut]
    offers: list[OfferOut] = Field(description="Standing offers, best first (DESIGN §4a), then the others")
    version: int


class ReferralList(api.Schema):
    items: list[ReferralOut]
    next: str | None


class ReferralsQuery(api.Schema):
    status: Literal[("", *STATUSES)] = ""  # type: ignore[valid-type]
    limit: api.Limit = api.PAGE_SIZE


class InvitationsQuery(api.Schema):
    status: Literal["", "invited", "offered", "declined", "no_response", "closed"] = ""
    limit: api.Limit = api.PAGE_SIZE


class InvitationForProvider(InvitationOut):
    referral: ReferralOut | None = Field(description="What the provider may see, while it is invited")


class InvitationList(api.Schema):
    items: list[InvitationForProvider]
    next: str | None


class OfferIn(api.Schema):
    home_urn: str = Field(max_length=20)
    start_date: Day
    need_level: Literal[NEED_LEVELS] = "standard"  # type: ignore[valid-type]
    core_weekly_cost_pence: Pence | None = Field(None, description="Ignored on a block invitation: the block's price")
    additional_support_weekly_cost_pence: Pence = 0
    education_weekly_cost_pence: Pence = 0
    other_weekly_cost_pence: Pence = 0
    valid_hours: Annotated[StrictInt, Field(ge=1, le=services.MAX_VALID_HOURS)] = search.OFFER_VALID_HOURS
    reason: str | None = Field(None, max_length=500, description="Why the core fee is above the framework price")


class DeclineIn(api.Schema):
    reason: Literal[DECLINE_REASONS]  # type: ignore[valid-type]
    note: str | None = Field(None, max_length=300)


class AcceptIn(api.Schema):
    passed_block_reason: str | None = Field(None, max_length=500, description="Why, while a block offer stands")
    inadequate_reason: str | None = Field(None, max_length=500, description="Why, if the home is now Inadequate")


class WithdrawIn(api.Schema):
    reason: str | None = Field(None, max_length=300)


class SpotIn(api.Schema):
    home_urn: str = Field(max_length=20)
    start_date: Day
    weekly_fee_pence: Annotated[StrictInt, Field(ge=1, le=MAX_WEEKLY_PENCE)]
    placement_type: Literal[tuple(PLACEMENT_TYPES)]  # type: ignore[valid-type]
    distance_miles: Annotated[Decimal, Field(ge=0, le=10_000, decimal_places=1)] | None = None
    reason: str = Field(max_length=500)


# ---------------------------------------------------------------- out


def _invitation(i: ReferralInvitation) -> dict:
    return {
        "id": i.id,
        "referral_id": i.referral_id,
        "referral_number": i.referral.number,
        "provider_name": i.provider.name,
        "contract_ref": i.contract.ref,
        "stage": i.stage,
        "sent_at": search.aware(i.sent_at),
        "deadline": search.aware(i.deadline),
        "status": i.status,
        "decline_reason": i.decline_reason,
    }


def _offer(item: search.RankedOffer | Offer) -> dict:
    ranked = item if isinstance(item, search.RankedOffer) else None
    o = ranked.offer if ranked else item
    return {
        "id": o.id,
        "invitation_id": o.invitation_id,
        "provider_name": o.provider.name,
        "home_urn": o.home.urn,
        "home_name": o.home.display_name,
        "is_block": o.is_block,
        "start_date": o.start_date,
        "need_level": o.need_level,
        "core_weekly_cost_pence": o.core_pence,
        "additional_support_weekly_cost_pence": o.additional_support_pence,
        "education_weekly_cost_pence": o.education_pence,
        "other_weekly_cost_pence": o.other_pence,
        "total_weekly_cost_pence": o.total_pence,
        "above_framework_price": o.above_framework_price,
        "framework_price_pence": o.framework_price_pence,
        "reason": o.reason,
        "valid_until": search.aware(o.valid_until),
        "status": o.status,
        "score": float(ranked.score) if ranked and ranked.score is not None else None,
        "quality_points": ranked.quality_points if ranked else None,
        "price_points": float(ranked.price_points) if ranked and ranked.price_points is not None else None,
        "distance_miles": float(ranked.distance.miles) if ranked and ranked.distance else None,
        "distance_from": ranked.distance.source if ranked and ranked.distance else None,
        "within_20_miles": ranked.within_20_miles if ranked else None,
    }


def _referral(r: Referral, for_provider: bool = False, ranked: list | None = None) -> dict:
    shown = fields.as_shown(r)
    ranked = search.rank_offers(r, r.offers) if ranked is None else ranked
    others = [o for o in r.offers if o.status != "standing"]
    invitations = r.invitations
    if for_provider:
        invitations = [i for i in invitations if i.provider_id == current_user.provider_id]
        ranked = [x for x in ranked if x.offer.provider_id == current_user.provider_id]
        others = [o for o in others if o.provider_id == current_user.provider_id]
    return ReferralOut(
        id=r.id,
        number=r.number,
        status=r.status,
        authority_code=r.authority_code,
        child_id=None if for_provider else r.child_ref,
        age_in_years=r.age_in_years,
        sex=r.sex,
        needed_by=r.needed_by,
        urgency=r.urgency,
        need_level=r.need_level,
        foster_care_suitability=r.foster_suitability,
        residential_care_suitability=r.residential_suitability,
        supported_accommodation_suitability=r.supported_suitability,
        sibling_count=r.sibling_count,
        is_preferred_location_local=r.local_preferred,
        out_of_la_reason=r.out_of_area_reason,
        needs=shown["needs"],
        risks=shown["risks"],
        max_weekly_fee_pence=None if for_provider else r.max_weekly_pence,
        opened_at=search.aware(r.opened_at),
        closed_at=search.aware(r.closed_at),
        close_reason=r.close_reason,
        placement_id=None if for_provider else r.placement_id,
        spot_allowed=search.spot_allowed(r, services.now()),
        invitations=[_invitation(i) for i in invitations],
        offers=[_offer(x) for x in ranked] + [_offer(o) for o in others],
        version=r.version,
    ).model_dump(by_alias=True, mode="json")


def _answer(referral: Referral, status: int = 200):
    headers = {"ETag": api.etag(referral.version)}
    if status == 201:
        headers["Location"] = url_for(".get_referral", referral_id=referral.id, _external=True)
    return _referral(referral), status, headers


# ---------------------------------------------------------------- referrers


@api.endpoint(
    bp,
    "POST",
    "/referrals",
    summary="Make a draft referral",
    roles=("partner", "lead"),
    body=ReferralIn,
    response=ReferralOut,
    status=201,
)
def create_referral(body: ReferralIn):
    """A draft: nothing is sent until it is opened. A lead names the member authority."""
    code = fields.referring_authority(current_user, body.authority_code)
    values = fields.columns_from_standard(body.model_dump())
    return _answer(services.new_draft(current_user, code, fields.consortium_for(current_user, code), **values), 201)


@api.endpoint(
    bp,
    "GET",
    "/referrals",
    summary="List referrals",
    roles=("partner", "lead"),
    query=ReferralsQuery,
    response=ReferralList,
)
def list_referrals(query: ReferralsQuery):
    found = scoped(Referral).select().options(*fields.LOADED)
    if query.status:
        found = found.where(Referral.status == query.status)
    rows, following = api.page_of(found, Referral.id, query.limit)
    ranked = search.rank_many(rows)  # the page's judgements and distances at once, not per referral
    return {"items": [_referral(r, ranked=ranked[r.id]) for r in rows], "next": following}


@api.endpoint(
    bp,
    "GET",
    "/referrals/<int:referral_id>",
    summary="Get a referral",
    roles=("partner", "lead"),
    response=ReferralOut,
)
def get_referral(referral_id: int):
    """With its invitations and its offers, the standing ones ranked (score, quality and price points, distance)."""
    return _answer(scoped(Referral).get_or_404(referral_id))


@api.endpoint(
    bp,
    "POST",
    "/referrals/<int:referral_id>/open",
    summary="Open a referral",
    roles=("partner", "lead"),
    response=ReferralOut,
)
def open_referral(referral_id: int):
    """Number it and invite the blocks with a bed free and the framework's Preferred tier."""
    referral = scoped(Referral).get_or_404(referral_id)
    services.open_referral(referral)
    return _answer(referral)


@api.endpoint(
    bp,
    "POST",
    "/referrals/<int:referral_id>/withdraw",
    summary="Withdraw a referral",
    roles=("partner", "lead"),
    body=WithdrawIn,
    response=ReferralOut,
)
def withdraw_referral(referral_id: int, body: WithdrawIn):
    referral = scoped(Referral).get_or_404(referral_id)
    services.withdraw(referral, body.reason)
    return _answer(referral)


@api.endpoint(
    bp,
    "POST",
    "/referrals/<int:referral_id>/spot",
    summary="Buy a spot placement for a referral",
    roles=("partner", "lead"),
    body=SpotIn,
    response=PlacementOut,
    status=201,
)
def buy_spot(referral_id: int, body: SpotIn):
    """Only when every invitation has been answered or has expired and no tier is left (at once for Today), with why."""
    referral = scoped(Referral).get_or_404(referral_id)
    values = PlacementValues(
        authority_code="",
        child_ref="",
        contract_ref=None,
        home_urn=body.home_urn.strip().upper(),
        start_date=body.start_date,
        end_date=None,
        weekly_pence=body.weekly_fee_pence,
        placement_type=body.placement_type,
        distance_miles=body.distance_miles,
    )
    return _placement(services.buy_spot(referral, values, body.reason)), 201


@api.endpoint(
    bp,
    "POST",
    "/offers/<int:offer_id>/accept",
    summary="Accept an offer",
    roles=("partner", "lead"),
    body=AcceptIn,
    response=PlacementOut,
    status=201,
)
def accept_offer(offer_id: int, body: AcceptIn):
    """Makes the placement, closes the referral as placed, and tells the other providers."""
    offer = scoped(Offer).get_or_404(offer_id)
    return _placement(services.accept(offer, body.passed_block_reason, body.inadequate_reason)), 201


# ---------------------------------------------------------------- providers


@api.endpoint(
    bp,
    "GET",
    "/invitations",
    summary="List your invitations",
    roles=("provider",),
    query=InvitationsQuery,
    response=InvitationList,
)
def list_invitations(query: InvitationsQuery):
    """Soonest deadline first. While invited, each carries what the provider may see of the
    referral (never the child's reference); every such view is in the audit log."""
    found = (
        scoped(ReferralInvitation)
        .select()
        .options(
            selectinload(ReferralInvitation.referral).options(*fields.LOADED),
            selectinload(ReferralInvitation.provider),
            selectinload(ReferralInvitation.contract),
        )
    )
    if query.status:
        found = found.where(ReferralInvitation.status == query.status)
    return api.page(found, _for_provider, ReferralInvitation.id, query.limit)


def _for_provider(invitation: ReferralInvitation) -> dict:
    visible = fields.provider_may_see(invitation)
    if visible:
        fields.record_provider_view(invitation.referral, current_user)
    shown = InvitationOut(**_invitation(invitation)).model_dump(by_alias=True, mode="json")
    return {**shown, "referral": _referral(invitation.referral, for_provider=True) if visible else None}


@api.endpoint(
    bp,
    "POST",
    "/invitations/<int:invitation_id>/offer",
    summary="Offer a placement",
    roles=("provider",),
    body=OfferIn,
    response=OfferOut,
    status=201,
)
def make_offer(invitation_id: int, body: OfferIn):
    """By the deadline, for one of your homes that suits. On a block invitation the fee fields
    are ignored: the block's price applies."""
    invitation = scoped(ReferralInvitation).get_or_404(invitation_id)
    if not invitation.is_block and body.core_weekly_cost_pence is None:
        raise RuleBroken("Enter the core weekly fee", "coreWeeklyCostPence")
    values = services.OfferValues(
        home_urn=body.home_urn,
        start_date=body.start_date,
        need_level=body.need_level,
        core_pence=body.core_weekly_cost_pence or 0,
        additional_support_pence=body.additional_support_weekly_cost_pence,
        education_pence=body.education_weekly_cost_pence,
        other_pence=body.other_weekly_cost_pence,
        valid_hours=body.valid_hours,
        reason=body.reason,
    )
    offer = services.make_offer(invitation, current_user, values)
    return OfferOut(**_offer(offer)).model_dump(by_alias=True, mode="json"), 201


@api.endpoint(
    bp,
    "POST",
    "/invitations/<int:invitation_id>/decline",
    summary="Decline an invitation",
    roles=("provider",),
    body=DeclineIn,
    response=InvitationOut,
)
def decline(invitation_id: int, body: DeclineIn):
    invitation = scoped(ReferralInvitation).get_or_404(invitation_id)
    services.decline(invitation, body.reason, body.note)
    return InvitationOut(**_invitation(invitation)).model_dump(by_alias=True, mode="json")


@api.endpoint(
    bp,
    "POST",
    "/offers/<int:offer_id>/withdraw",
    summary="Withdraw your offer",
    roles=("provider",),
    response=OfferOut,
)
def withdraw_offer(offer_id: int):
    """Before it is accepted; you may offer again before the deadline."""
    offer = scoped(Offer).get_or_404(offer_id)
    services.withdraw_offer(offer)
    return OfferOut(**_offer(offer)).model_dump(by_alias=True, mode="json")
