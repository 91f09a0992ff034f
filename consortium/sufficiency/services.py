"""The sufficiency page's figures as tables (caption, header, rows): the page, its CSV files and
the sufficiency statement read the same ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from consortium.core.access import scoped
from consortium.core.dates import financial_year
from consortium.core.extensions import db
from consortium.core.formatting import day
from consortium.core.models import Authority, Consortium, Membership
from consortium.core.services import RuleBroken
from consortium.sufficiency import demand as dm
from consortium.sufficiency import forecast as fc
from consortium.sufficiency import snapshots
from contracts.models import PLACEMENT_TYPES, HighCostReview, Placement, PlacementFee
from contracts.services import REVIEW_EVERY_DAYS

Table = tuple[str, list[str], list[list]]
FORECAST_TYPES = tuple(fc.KIND_OF_TYPE)


@dataclass
class Figures:
    scope: fc.Scope
    first: date
    last: date
    placement_type: str
    demand: dm.Demand
    forecast: fc.Forecast
    back_test: fc.BackTest
    stability: list[dm.StabilityYear]
    high_cost: list[tuple[Placement, int, date | None]]
    threshold_pence: int | None
    tables: dict[str, Table]


def scope_for(user, authority_code: str | None, on: date) -> fc.Scope:
    """A partner's own authority; a lead's consortium, or one of its members when named."""
    if user.role == "partner":
        return fc.authority_scope(db.session.get(Authority, user.authority_code))
    consortium = db.session.get(Consortium, user.consortium_id)
    whole = fc.consortium_scope(consortium, on)
    if not authority_code:
        return whole
    if authority_code not in whole.authority_codes:
        raise RuleBroken("Choose one of the consortium's member authorities", "authority")
    return fc.authority_scope(db.session.get(Authority, authority_code))


def members(user, on: date) -> list[tuple[str, str]]:
    if user.role != "lead":
        return []
    return db.session.execute(
        select(Authority.code, Authority.name)
        .join(Membership, Membership.authority_code == Authority.code)
        .where(
            Membership.consortium_id == user.consortium_id,
            Membership.joined <= on,
            (Membership.left.is_(None)) | (Membership.left >= on),
        )
        .order_by(Authority.name)
    ).all()


def threshold(user) -> int | None:
    """The high-cost threshold a user works to: the lead's consortium's, or the lowest of the
    consortia a partner's authority is a member of."""
    if user.role == "lead":
        return db.session.get(Consortium, user.consortium_id).high_cost_weekly_pence
    return db.session.scalar(
        select(func.min(Consortium.high_cost_weekly_pence))
        .join(Membership, Membership.consortium_id == Consortium.id)
        .where(Membership.authority_code == user.authority_code, Membership.left.is_(None))
    )


def high_cost(user, scope: fc.Scope, limit_pence: int | None, on: date) -> list[tuple[Placement, int, date | None]]:
    """Open placements the user may see, of the scope, at or above the threshold: each with its
    weekly fee and its last review."""
    if limit_pence is None:
        return []
    since = (
        select(func.max(PlacementFee.effective_from))
        .where(PlacementFee.placement_id == Placement.id, PlacementFee.effective_from <= on)
        .correlate(Placement)
        .scalar_subquery()
    )
    current = aliased(PlacementFee)
    fee = (
        select(current.weekly_pence)
        .where(current.placement_id == Placement.id, current.effective_from == since)
        .correlate(Placement)
        .scalar_subquery()
    )
    last_review = func.max(HighCostReview.reviewed_on)
    reviewed = select(last_review).where(HighCostReview.placement_id == Placement.id).scalar_subquery()
    return db.session.execute(
        scoped(Placement, user)
        .select(Placement, fee, reviewed)
        .where(
            Placement.authority_code.in_(scope.authority_codes),
            Placement.start_date <= on,
            (Placement.end_date.is_(None)) | (Placement.end_date > on),
            fee >= limit_pence,
        )
        .order_by(fee.desc(), Placement.id)
    ).all()


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def _one(value) -> str:
    return "–" if value is None else f"{value:.1f}"


def figures(user, scope: fc.Scope, first: date, last: date, placement_type: str, today: date) -> Figures:
    kept = snapshots.read(scope, placement_type, today)
    found = kept.demand if kept.as_of == today and (first, last) == period(None, None, today) else None
    found = found or dm.demand(scope, first, last)  # another period, or none kept today: worked out now
    made, tested = kept.forecast, kept.back_test
    if made is None:
        made, tested = fc.forecast(scope, placement_type, today), fc.back_test(scope, placement_type, today)
    stable = kept.stability or dm.stability(scope, financial_year(today)[0].year)
    limit = threshold(user)
    costly = high_cost(user, scope, limit, today)
    type_name = PLACEMENT_TYPES[placement_type]
    tables: dict[str, Table] = {
        "referrals-by-month": ("Referrals opened by month", ["Month", "Referrals"], [list(r) for r in found.by_month]),
        "referrals-by-kind": (
            "Referrals by the kind of placement preferred",
            ["Kind of placement", "Referrals"],
            [list(r) for r in found.by_kind],
        ),
        "referrals-by-age": ("Referrals by age", ["Age", "Referrals"], [list(r) for r in found.by_age]),
        "referrals-by-urgency": ("Referrals by urgency", ["Needed", "Referrals"], [list(r) for r in found.by_urgency]),
        "outcomes": (
            "What became of the referrals",
            ["Outcome", "Referrals", "Share"],
            [
                [label, found.outcomes[key], _share(found.outcomes[key], found.opened)]
                for key, label in (
                    ("block", "Placed in a block bed"),
                    ("framework", "Placed through the framework"),
                    ("spot", "Placed by a spot purchase"),
                    ("unmet", "Closed unmet"),
                    ("withdrawn", "Withdrawn"),
                    ("open", "Still open"),
                )
            ],
        ),
        "decline-reasons": ("Why providers declined", ["Reason", "Declines"], [list(r) for r in found.decline_reasons]),
        "out-of-area-reasons": (
            "Why a placement out of the area was preferred",
            ["Reason", "Referrals"],
            [list(r) for r in found.out_of_area_reasons],
        ),
        "unmet-need": (
            "Unmet need by kind of placement",
            ["Kind of placement", "Closed unmet", "Bought spot for want of a block or framework offer"],
            [list(r) for r in found.unmet_by_kind],
        ),
        "forecast": (
            f"Forecast of {type_name.lower()} placements open, beside the block beds",
            ["Month end", "Forecast", "Block beds", "Gap"],
            [[day(p.month_end), f"{p.forecast}", p.block_beds, f"{p.gap}"] for p in made.points],
        ),
        "back-test": (
            f"The forecast made on {day(tested.made_on)} against what happened",
            ["Month end", "Forecast then", "Open in fact", "Difference"],
            [[day(d), f"{f}", n, f"{f - n}"] for d, f, n in tested.rows],
        ),
        "stability": (
            "Stability by financial year",
            [
                "Year",
                "Children placed",
                "With 3 or more placements",
                "Share",
                "Placements ended",
                "Ended unplanned",
                "Moves per child",
            ],
            [
                [
                    f"{y.year} to {y.year + 1}",
                    y.children,
                    y.three_or_more,
                    _one(y.three_or_more_share) + ("%" if y.three_or_more_share is not None else ""),
                    y.ended,
                    y.unplanned,
                    _one(y.moves_per_child),
                ]
                for y in stable
            ],
        ),
        "high-cost": (
            "Placements at or above the high-cost threshold",
            ["Child", "Authority", "Home", "Weekly fee (£)", "Last review"],
            [
                [
                    p.child_ref,
                    p.authority.name,
                    p.home.display_name if p.home else p.type_name,
                    f"{fee / 100:.2f}",
                    day(last_review) if last_review else "Never",
                ]
                for p, fee, last_review in costly
            ],
        ),
    }
    return Figures(scope, first, last, placement_type, found, made, tested, stable, costly, limit, tables)


def review_due(last_review: date | None, start: date, today: date) -> bool:
    """Whether a high-cost placement's review is due (the rule of `high_cost_review_due`)."""
    return (today - (last_review or start)).days > REVIEW_EVERY_DAYS


def period(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The period asked for, by default the 12 months up to yesterday."""
    default_first, default_last = snapshots.default_period(today)
    last = last or default_last
    return first or (default_first if last == default_last else last - timedelta(days=364)), last
