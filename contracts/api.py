"""The API's contracts, placements and block occupancy: the same services as the pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from flask import Response, url_for
from flask_login import current_user
from pydantic import Field, StrictInt
from sqlalchemy.orm import selectinload

from consortium.core import api
from consortium.core.access import scoped
from consortium.core.dates import financial_year
from consortium.core.extensions import db
from consortium.core.inputs import EARLIEST, LATEST, MAX_WEEKLY_PENCE
from consortium.core.models import Cofunder
from consortium.core.services import RuleBroken
from contracts import cofunding, pds, services, usage
from contracts.models import END_REASONS, PLACEMENT_TYPES, Admission, Contract, Contribution, Lot, Placement
from contracts.placements import PlacementValues

bp = api.blueprint("contracts_api", __name__)

Day = Annotated[date, Field(ge=EARLIEST, le=LATEST)]
Pence = Annotated[StrictInt, Field(ge=0, le=MAX_WEEKLY_PENCE)]
Text = Annotated[str, Field(max_length=200)]


# ---------------------------------------------------------------- schemas


class HomeRef(api.Schema):
    urn: str
    name: str


class PlacementOut(api.Schema):
    id: int
    authority_code: str
    child_ref: str
    contract_ref: str | None = Field(description="None for a spot purchase")
    home_urn: str | None
    start_date: date
    end_date: date | None
    end_reason_code: str | None = Field(description="Why it ended, as the SSDA903 return codes it")
    end_reason: str | None
    weekly_fee_pence: int | None = Field(
        description="The fee now: none for a block placement, which costs the block's price"
    )
    weekly_fee: api.Money | None
    placement_type: str
    distance_miles: float | None
    age_at_start: int | None
    need_level: str | None
    version: int


class PlacementList(api.Schema):
    items: list[PlacementOut]
    next: str | None


class PlacementIn(api.Schema):
    authority_code: str | None = Field(None, max_length=9, description="A partner's own authority when left out")
    child_ref: str = Field(max_length=40)
    contract_ref: str | None = Field(None, max_length=40, description="None for a spot purchase")
    home_urn: str | None = Field(None, max_length=20)
    start_date: Day
    end_date: Day | None = None
    weekly_fee_pence: Pence | None = Field(None, description="Above zero for framework and spot placements")
    placement_type: Literal[tuple(PLACEMENT_TYPES)]  # type: ignore[valid-type]
    distance_miles: Annotated[Decimal, Field(ge=0, le=10_000, decimal_places=1)] | None = None
    age_at_start: Annotated[StrictInt, Field(ge=0, le=25)] | None = None
    need_level: str | None = Field(None, max_length=20)
    fee_reason: str | None = Field(None, max_length=500, description="Why a fee is above the framework's price")


class PlacementsQuery(api.Schema):
    authority_code: str = Field("", max_length=9)
    contract_ref: str = Field("", max_length=40)
    home_urn: str = Field("", max_length=20)
    status: Literal["", "open", "ended"] = ""
    started_from: Day | None = None
    started_to: Day | None = None
    limit: api.Limit = api.PAGE_SIZE


class EndIn(api.Schema):
    end_date: Day
    end_reason_code: Literal[tuple(END_REASONS)] | None = None  # type: ignore[valid-type]
    end_reason: Text | None = None


class FeeIn(api.Schema):
    weekly_fee_pence: Pence
    effective_from: Day


class PriceOut(api.Schema):
    need_level: str
    weekly_pence: int
    effective_from: date
    effective_to: date | None


class AdmissionOut(api.Schema):
    provider_id: int
    provider_name: str
    tier: str
    status: str
    prices: list[PriceOut]


class LotOut(api.Schema):
    id: int
    name: str
    admissions: list[AdmissionOut]


class BlockPriceOut(api.Schema):
    weekly_pence: int
    effective_from: date
    effective_to: date | None


class ContractOut(api.Schema):
    id: int
    ref: str
    kind: Literal["framework", "block"]
    title: str
    consortium_ref: str
    owner_code: str | None
    start_date: date
    end_date: date
    max_end_date: date
    beds: int | None
    homes: list[HomeRef]
    lots: list[LotOut]
    bed_week_prices: list[BlockPriceOut] = Field(
        description="A block's prices per bed-week; for a block priced per bed-night, the night's price × 7"
    )
    priced_per: Literal["week", "night"] | None = Field(
        description="What a block's price is agreed per: a bed-week, or a bed-night (short breaks). None: a framework"
    )


class ContractList(api.Schema):
    items: list[ContractOut]
    next: str | None


class ContractsQuery(api.Schema):
    kind: Literal["", "framework", "block"] = ""
    limit: api.Limit = api.PAGE_SIZE


class OccupancyQuery(api.Schema):
    first: Day | None = Field(None, description="Default: the start of the financial year")
    last: Day | None = Field(None, description="Default: yesterday")


class OccupancyOut(api.Schema):
    contract_ref: str
    first: date
    last: date
    nights: int
    bed_nights: int = Field(description="Beds less beds out of use, night by night")
    occupied_bed_nights: int
    void_bed_nights: int
    utilisation_percent: float | None
    void_cost: api.Money
    cost: api.Money


# ---------------------------------------------------------------- placements


def _placement(p: Placement) -> dict:
    fee = p.fees[-1].weekly_pence if p.fees else None
    return PlacementOut(
        id=p.id,
        authority_code=p.authority_code,
        child_ref=p.child_ref,
        contract_ref=p.contract.ref if p.contract else None,
        home_urn=p.home.urn if p.home else None,
        start_date=p.start_date,
        end_date=p.end_date,
        end_reason_code=p.end_reason_code,
        end_reason=p.end_reason,
        weekly_fee_pence=fee,
        weekly_fee=api.money(fee),
        placement_type=p.placement_type,
        distance_miles=p.distance_miles,
        age_at_start=p.age_at_start,
        need_level=p.need_level,
        version=p.version,
    ).model_dump(by_alias=True, mode="json")


def _one(placement: Placement, status: int = 200):
    headers = {"ETag": api.etag(placement.version)}
    if status == 201:
        headers["Location"] = url_for(".get_placement", placement_id=placement.id, _external=True)
    return _placement(placement), status, headers


@api.endpoint(
    bp,
    "GET",
    "/placements",
    summary="List placements",
    roles=("lead", "partner"),
    query=PlacementsQuery,
    response=PlacementList,
)
def list_placements(query: PlacementsQuery):
    """The placements the token's user sees on the Placements page, in the order they were
    recorded, a page at a time."""
    found = services.placements_query(
        authority=query.authority_code,
        contract=query.contract_ref,
        home=query.home_urn,
        status=query.status,
        start_from=query.started_from,
        start_to=query.started_to,
    )
    return api.page(found, _placement, Placement.id, query.limit)


class PeriodQuery(api.Schema):
    first: Day | None = Field(None, description="Default: the start of the financial year")
    last: Day | None = Field(None, description="Default: today")


@api.endpoint(
    bp,
    "GET",
    "/placements/pds.csv",
    summary="Placements as the Placements Data Standard",
    roles=("lead", "partner"),
    query=PeriodQuery,
    content_type="text/csv",
)
def placements_pds(query: PeriodQuery):
    """The placements open in a period as the national Placements Data Standard template's CSV:
    its 44 columns in its order, costs in pounds, a field the service does not hold left empty."""
    first, last = query.first or financial_year(date.today())[0], query.last or date.today()
    if last < first:
        raise RuleBroken("The last day must be on or after the first", "last")
    text = pds.csv_text(pds.rows(pds.placements_of(scoped(Placement).select(), first, last), last))
    return Response(text, mimetype="text/csv")


@api.endpoint(
    bp,
    "GET",
    "/placements/<int:placement_id>",
    summary="Get a placement",
    roles=("lead", "partner"),
    response=PlacementOut,
)
def get_placement(placement_id: int):
    """One placement; its ETag is its version, for If-Match on a change."""
    return _one(scoped(Placement).get_or_404(placement_id))


@api.endpoint(
    bp,
    "POST",
    "/placements",
    summary="Record a placement",
    roles=("partner",),
    body=PlacementIn,
    response=PlacementOut,
    status=201,
)
def create_placement(body: PlacementIn):
    """A placement for the token's authority, kept to the same rules as the form and the import."""
    if body.authority_code and body.authority_code.upper() != current_user.authority_code:
        raise RuleBroken(f"You can record placements for {current_user.authority_code} only", "authority_code")
    values = PlacementValues(
        authority_code=current_user.authority_code,
        child_ref=body.child_ref.strip(),
        contract_ref=body.contract_ref or None,
        home_urn=(body.home_urn or "").strip().upper() or None,
        start_date=body.start_date,
        end_date=body.end_date,
        weekly_pence=body.weekly_fee_pence,
        placement_type=body.placement_type,
        distance_miles=body.distance_miles,
        age_at_start=body.age_at_start,
        need_level=body.need_level or None,
    )
    return _one(services.record_placement(values, (body.fee_reason or "").strip() or None), 201)


@api.endpoint(
    bp,
    "POST",
    "/placements/<int:placement_id>/end",
    summary="End a placement",
    roles=("partner",),
    body=EndIn,
    response=PlacementOut,
)
def end_placement(placement_id: int, body: EndIn):
    """The day the child left. Send the ETag you read as If-Match: a placement changed since is refused (412)."""
    placement = scoped(Placement).get_or_404(placement_id)
    version = api.expected_version(placement.version)
    services.end_placement(placement, body.end_date, body.end_reason, version, body.end_reason_code)
    return _one(placement)


@api.endpoint(
    bp,
    "POST",
    "/placements/<int:placement_id>/fees",
    summary="Change a placement's fee",
    roles=("partner",),
    body=FeeIn,
    response=PlacementOut,
)
def change_fee(placement_id: int, body: FeeIn):
    """A new weekly fee from a date (framework and spot placements)."""
    placement = scoped(Placement).get_or_404(placement_id)
    api.expected_version(placement.version)
    services.change_fee(placement, body.weekly_fee_pence, body.effective_from)
    return _one(placement)


# ---------------------------------------------------------------- contributions (DESIGN §4c)


class ContributionOut(api.Schema):
    id: int
    cofunder_ref: str
    cofunder_name: str
    percent: Decimal | None = Field(description="Of the weekly fee; None for a fixed amount")
    weekly_pence: int | None = Field(description="A fixed amount a week; None for a percentage")
    first_night: date
    last_night: date | None = Field(description="The last night paid; None: until the placement ends")


class ContributionList(api.Schema):
    items: list[ContributionOut]


class ContributionIn(api.Schema):
    cofunder_ref: str = Field(max_length=40)
    percent: Annotated[Decimal, Field(gt=0, le=100, decimal_places=2)] | None = None
    weekly_pence: Pence | None = None
    first_night: Day
    last_night: Day | None = None


def _contributions(placement: Placement) -> dict:
    found = scoped(Contribution).select().where(Contribution.placement_id == placement.id)
    rows = db.session.scalars(found.options(selectinload(Contribution.cofunder)).order_by(Contribution.first_night))
    items = [
        ContributionOut(
            id=c.id,
            cofunder_ref=c.cofunder.ref,
            cofunder_name=c.cofunder.name,
            percent=c.percent,
            weekly_pence=c.weekly_pence,
            first_night=c.first_night,
            last_night=c.last_night,
        )
        for c in rows
    ]
    return ContributionList(items=items).model_dump(by_alias=True, mode="json")


@api.endpoint(
    bp,
    "GET",
    "/placements/<int:placement_id>/contributions",
    summary="A placement's contributions from co-funders",
    roles=("lead", "partner"),
    response=ContributionList,
)
def list_contributions(placement_id: int):
    return _contributions(scoped(Placement).get_or_404(placement_id))


@api.endpoint(
    bp,
    "POST",
    "/placements/<int:placement_id>/contributions",
    summary="Add a co-funder's contribution to a placement",
    roles=("lead", "partner"),
    body=ContributionIn,
    response=ContributionList,
)
def add_contribution(placement_id: int, body: ContributionIn):
    """A percentage of the weekly fee or a fixed amount a week, from a night; refused (with the
    night) if the contributions would come to more than the fee on any night."""
    placement = scoped(Placement).get_or_404(placement_id)
    cofunder = db.session.scalar(scoped(Cofunder).select().where(Cofunder.ref == body.cofunder_ref.strip().upper()))
    if cofunder is None:
        raise RuleBroken(f"There is no co-funder {body.cofunder_ref}", "cofunderRef")
    cofunding.add_contribution(placement, cofunder, body.first_night, body.last_night, body.percent, body.weekly_pence)
    return _contributions(placement), 201


# ---------------------------------------------------------------- contracts


def _contract(c: Contract) -> dict:
    lots = [
        LotOut(
            id=lot.id,
            name=lot.name,
            admissions=[
                AdmissionOut(
                    provider_id=a.provider_id,
                    provider_name=a.provider.name,
                    tier=a.tier,
                    status=a.status,
                    prices=[
                        PriceOut(
                            need_level=price.need_level,
                            weekly_pence=price.weekly_pence,
                            effective_from=price.effective_from,
                            effective_to=price.effective_to,
                        )
                        for price in a.prices
                    ],
                )
                for a in lot.admissions
            ],
        )
        for lot in c.lots
    ]
    return ContractOut(
        id=c.id,
        ref=c.ref,
        kind=c.kind,
        title=c.title,
        consortium_ref=c.consortium.ref,
        owner_code=c.owner_code,
        start_date=c.start_date,
        end_date=c.end_date,
        max_end_date=c.max_end_date,
        beds=c.beds,
        homes=[HomeRef(urn=h.urn, name=h.display_name) for h in c.homes],
        lots=lots,
        bed_week_prices=[
            BlockPriceOut(weekly_pence=p.weekly_pence, effective_from=p.effective_from, effective_to=p.effective_to)
            for p in c.block_prices
        ],
        priced_per=c.priced_per if c.is_block else None,
    ).model_dump(by_alias=True, mode="json")


@api.endpoint(
    bp,
    "GET",
    "/contracts",
    summary="List contracts",
    roles=("lead", "partner", "provider", "admin"),
    query=ContractsQuery,
    response=ContractList,
)
def list_contracts(query: ContractsQuery):
    """Frameworks with their lots, admissions and prices; blocks with their homes, beds and prices."""
    admissions = selectinload(Contract.lots).selectinload(Lot.admissions)
    found = (
        scoped(Contract)
        .select()
        .options(
            selectinload(Contract.consortium),
            selectinload(Contract.homes),
            selectinload(Contract.block_prices),
            admissions.selectinload(Admission.provider),
            admissions.selectinload(Admission.prices),
        )
    )
    if query.kind:
        found = found.where(Contract.kind == query.kind)
    return api.page(found, _contract, Contract.id, query.limit)


@api.endpoint(
    bp,
    "GET",
    "/contracts/<int:contract_id>",
    summary="Get a contract",
    roles=("lead", "partner", "provider", "admin"),
    response=ContractOut,
)
def get_contract(contract_id: int):
    return _contract(scoped(Contract).get_or_404(contract_id))


@api.endpoint(
    bp,
    "GET",
    "/contracts/<int:contract_id>/occupancy",
    summary="A block's occupancy for a period",
    roles=("lead", "partner", "provider", "admin"),
    query=OccupancyQuery,
    response=OccupancyOut,
)
def block_occupancy(contract_id: int, query: OccupancyQuery):
    """Bed-nights, occupied and void, and the void cost, over [first, last] clipped to the block's term."""
    contract = scoped(Contract).get_or_404(contract_id)
    if not contract.is_block:
        raise api.Problem(404, "Not a block contract", f"{contract.ref} is a framework: it has no beds of its own.")
    yesterday = date.today() - timedelta(days=1)
    first = query.first or financial_year(yesterday)[0]
    last = query.last or yesterday
    if last < first:
        raise RuleBroken("The last day must be on or after the first", "last")
    return _occupancy(
        contract, usage.occupancy(contract, max(first, contract.start_date), min(last, contract.end_date))
    )


def _occupancy(contract: Contract, used: usage.Occupancy) -> dict:
    return OccupancyOut(
        contract_ref=contract.ref,
        first=used.first,
        last=used.last,
        nights=used.nights,
        bed_nights=used.capacity,
        occupied_bed_nights=used.occupied,
        void_bed_nights=used.void,
        utilisation_percent=used.utilisation,
        void_cost=api.money(used.void_cost_pence),
        cost=api.money(used.cost_pence),
    ).model_dump(by_alias=True, mode="json")
