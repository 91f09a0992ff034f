"""The referrals' figures on the lead's dashboard: open now, placed by route and month, the
median hours from opening to placement, and the block beds filled through referrals. In SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import case, func, select

from consortium.core.access import scoped
from consortium.core.extensions import db
from consortium.core.sql import hours_between, median
from contracts.models import Contract, Placement
from contracts.referrals.models import Referral

ROUTES = ("block", "framework", "spot")


@dataclass
class ReferralFigures:
    open: int
    # (year, month) -> {route: placements}, months in the period with a placement only
    placed_by_month: dict[tuple[int, int], dict[str, int]] = field(default_factory=dict)
    median_hours: float | None = None
    block_starts: int = 0  # placements started in block beds in the period, however found

    def placed(self, route: str) -> int:
        return sum(month.get(route, 0) for month in self.placed_by_month.values())


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, timezone.utc)


def lead_figures(user, first: date, last: date) -> ReferralFigures:
    """Referrals placed between the first and the last day (by the day they were placed)."""
    referrals = scoped(Referral, user)
    route = case((Placement.contract_id.is_(None), "spot"), else_=Contract.kind)
    placed = referrals.select().where(
        Referral.status == "placed",
        Referral.closed_at >= _moment(first),
        Referral.closed_at < _moment(last + timedelta(days=1)),
    )
    year, month = func.extract("year", Referral.closed_at), func.extract("month", Referral.closed_at)
    by_month: dict[tuple[int, int], dict[str, int]] = {}
    rows = db.session.execute(
        placed.join(Placement, Placement.id == Referral.placement_id)
        .outerjoin(Contract, Contract.id == Placement.contract_id)
        .with_only_columns(year, month, route, func.count())
        .group_by(year, month, route)
        .order_by(year, month)
    )
    for y, m, kind, count in rows:
        by_month.setdefault((int(y), int(m)), {})[kind] = count
    block_starts = (
        scoped(Placement, user)
        .select(func.count(Placement.id))
        .join(Contract, Contract.id == Placement.contract_id)
        .where(Contract.kind == "block", Placement.start_date.between(first, last))
        .scalar_subquery()
    )
    still_open = referrals.select(func.count(Referral.id)).where(Referral.status == "open").scalar_subquery()
    open_now, started_in_blocks = db.session.execute(select(still_open, block_starts)).one()
    return ReferralFigures(
        open=open_now,
        placed_by_month=by_month,
        median_hours=median(placed.with_only_columns(hours_between(Referral.opened_at, Referral.closed_at))),
        block_starts=started_in_blocks,
    )
