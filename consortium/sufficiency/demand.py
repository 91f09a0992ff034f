"""Demand and unmet need from referrals, and the stability of placements (DESIGN §4b), in SQL:
each figure one grouped query over the scope's referrals or placements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, func, select

from consortium.core.extensions import db
from consortium.core.sql import hours_between, median
from consortium.sufficiency.forecast import Scope
from contracts.models import UNPLANNED_ENDINGS, Contract, Placement
from contracts.referrals.models import Offer, Referral, ReferralInvitation
from contracts.summaries import WITHIN_MILES

AGE_BANDS = (("0 to 4", 0, 4), ("5 to 9", 5, 9), ("10 to 15", 10, 15), ("16 to 17", 16, 17))
URGENCIES = ("Today", "< 5 days", "> 5 days")
OUTCOMES = ("block", "framework", "spot", "unmet", "withdrawn", "open")
# The placement type a referral asks for first: the first of the standard's kinds it prefers.
ASKED_FOR = (
    ("residential_suitability", "Residential care"),
    ("supported_suitability", "Supported accommodation"),
    ("foster_suitability", "Foster care"),
)


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, timezone.utc)


@dataclass
class Demand:
    opened: int = 0
    by_month: list[tuple[str, int]] = field(default_factory=list)
    by_kind: list[tuple[str, int]] = field(default_factory=list)
    by_age: list[tuple[str, int]] = field(default_factory=list)
    by_urgency: list[tuple[str, int]] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    median_hours: float | None = None
    offers_per_referral: float | None = None
    decline_reasons: list[tuple[str, int]] = field(default_factory=list)
    placed_with_distance: int = 0
    placed_within: int = 0
    out_of_area_reasons: list[tuple[str, int]] = field(default_factory=list)
    unmet_by_kind: list[tuple[str, int, int]] = field(default_factory=list)  # kind, closed unmet, spot

    @property
    def within_share(self) -> float | None:
        return 100 * self.placed_within / self.placed_with_distance if self.placed_with_distance else None


def _kind():
    """The kind of placement a referral prefers (Preferred first, then Suitable), as a label."""
    preferred = [(getattr(Referral, column) == "Preferred", label) for column, label in ASKED_FOR]
    suitable = [(getattr(Referral, column) == "Suitable but not preferred", label) for column, label in ASKED_FOR]
    return case(*preferred, *suitable, else_="None suitable")


def demand(scope: Scope, first: date, last: date) -> Demand:
    """Referrals opened between the first and last day by the scope's authorities."""
    ours = and_(
        Referral.authority_code.in_(scope.authority_codes),
        Referral.status != "draft",
        Referral.opened_at >= _moment(first),
        Referral.opened_at < _moment(last + timedelta(days=1)),
    )
    found = Demand()
    month = func.extract("year", Referral.opened_at) * 100 + func.extract("month", Referral.opened_at)
    rows = db.session.execute(select(month, func.count()).where(ours).group_by(month).order_by(month)).all()
    found.by_month = [(f"{date(int(m) // 100, int(m) % 100, 1):%b %Y}", n) for m, n in rows]
    found.opened = sum(n for _, n in found.by_month)
    kind = _kind()
    bands = [(Referral.age_in_years.between(low, high), name) for name, low, high in AGE_BANDS]
    band = case(*bands, else_="18 or over")
    kinds, ages, urgencies = {}, {}, {}
    for k, b, u, n in db.session.execute(
        select(kind, band, Referral.urgency, func.count()).where(ours).group_by(kind, band, Referral.urgency)
    ):
        kinds[k], ages[b], urgencies[u] = kinds.get(k, 0) + n, ages.get(b, 0) + n, urgencies.get(u, 0) + n
    found.by_kind = sorted(kinds.items())
    found.by_age = [(name, ages.get(name, 0)) for name, _, _ in AGE_BANDS]
    found.by_urgency = [(u, urgencies.get(u, 0)) for u in URGENCIES]
    route = case(
        (Referral.status != "placed", Referral.status),
        (Placement.contract_id.is_(None), "spot"),
        else_=Contract.kind,
    )
    within = case((Placement.distance_miles <= WITHIN_MILES, 1), else_=0)
    offers = select(func.count(Offer.id)).join(Referral, Referral.id == Offer.referral_id).where(ours).scalar_subquery()
    outcome_rows = db.session.execute(
        select(route, func.count(), func.count(Placement.distance_miles), func.coalesce(func.sum(within), 0), offers)
        .select_from(Referral)
        .outerjoin(Placement, Placement.id == Referral.placement_id)
        .outerjoin(Contract, Contract.id == Placement.contract_id)
        .where(ours)
        .group_by(route)
    ).all()
    found.outcomes = {name: 0 for name in OUTCOMES} | {r: n for r, n, *_ in outcome_rows}
    found.placed_with_distance = sum(d for r, _, d, *_ in outcome_rows if r in ("block", "framework", "spot"))
    found.placed_within = sum(w for r, _, _, w, _ in outcome_rows if r in ("block", "framework", "spot"))
    offered = outcome_rows[0][4] if outcome_rows else 0
    placed = select(hours_between(Referral.opened_at, Referral.closed_at)).where(ours, Referral.status == "placed")
    found.median_hours = median(placed)
    found.offers_per_referral = offered / found.opened if found.opened else None
    found.decline_reasons = db.session.execute(
        select(ReferralInvitation.decline_reason, func.count())
        .join(Referral, Referral.id == ReferralInvitation.referral_id)
        # Every decline has its reason (and nothing else has one): read from the referrals' side, not the status index.
        .where(ours, ReferralInvitation.decline_reason.is_not(None))
        .group_by(ReferralInvitation.decline_reason)
        .order_by(func.count().desc(), ReferralInvitation.decline_reason)
    ).all()
    found.out_of_area_reasons = db.session.execute(
        select(Referral.out_of_area_reason, func.count())
        .where(ours, Referral.out_of_area_reason.is_not(None))
        .group_by(Referral.out_of_area_reason)
        .order_by(func.count().desc(), Referral.out_of_area_reason)
        .limit(10)
    ).all()
    spot = case((Referral.status == "placed", case((Placement.contract_id.is_(None), 1), else_=0)), else_=0)
    unmet = db.session.execute(
        select(kind, func.sum(case((Referral.status == "unmet", 1), else_=0)), func.sum(spot))
        .select_from(Referral)
        .outerjoin(Placement, Placement.id == Referral.placement_id)
        .where(ours)
        .group_by(kind)
        .order_by(kind)
    ).all()
    found.unmet_by_kind = [(k, int(u or 0), int(s or 0)) for k, u, s in unmet if (u or s)]
    return found


# ---------------------------------------------------------------- stability


@dataclass
class StabilityYear:
    year: int  # the financial year from 1 April
    children: int  # placed at some time in the year
    three_or_more: int  # with three or more placements during the year (the national measure)
    unplanned: int  # placements ended in the year for an unplanned reason
    ended: int
    placements: int  # placements open at some time in the year

    @property
    def moves_per_child(self) -> float | None:
        """Placements beyond each child's first in the year, per child placed."""
        return (self.placements - self.children) / self.children if self.children else None

    @property
    def three_or_more_share(self) -> float | None:
        return 100 * self.three_or_more / self.children if self.children else None


def stability(scope: Scope, last_year: int, years: int = 5) -> list[StabilityYear]:
    """Per financial year, the last `years` up to the one from 1 April `last_year`: one query each."""
    found = []
    for year in range(last_year - years + 1, last_year + 1):
        first, last = date(year, 4, 1), date(year + 1, 3, 31)
        during = (
            Placement.authority_code.in_(scope.authority_codes),
            Placement.start_date <= last,
            (Placement.end_date.is_(None)) | (Placement.end_date > first),
        )
        per_child = (
            select(Placement.authority_code, Placement.child_ref, func.count().label("n"))
            .where(*during)
            .group_by(Placement.authority_code, Placement.child_ref)
            .subquery()
        )
        children, three, placements = db.session.execute(
            select(func.count(), func.sum(case((per_child.c.n >= 3, 1), else_=0)), func.sum(per_child.c.n))
        ).one()
        ended_in_year = Placement.end_date.between(first, last)
        ended, unplanned = db.session.execute(
            select(
                func.count(Placement.id),
                func.sum(case((Placement.end_reason_code.in_(UNPLANNED_ENDINGS), 1), else_=0)),
            ).where(Placement.authority_code.in_(scope.authority_codes), ended_in_year)
        ).one()
        found.append(
            StabilityYear(year, children or 0, int(three or 0), int(unplanned or 0), ended, int(placements or 0))
        )
    return found
