"""Homes in use: where a user's children are placed today, and which of those homes are of concern."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from consortium.core.extensions import db
from consortium.core.models import Membership
from consortium.core.models import today as today_in_sql
from contracts.models import Placement
from providers.models import Home, Judgement
from providers.quality import current_graded, interim_declines


def in_use_by(user):
    """The placements whose homes a user has in use: a partner's own; for a lead, those under the
    consortium's contracts and its current members' spot purchases (counted by home, never
    listed: a member's spot placements stay its own)."""
    if user.role != "lead":
        return Placement.visible_to(user)
    members = select(Membership.authority_code).where(
        Membership.consortium_id == user.consortium_id,
        Membership.joined <= today_in_sql(),
        Membership.left.is_(None) | (Membership.left >= today_in_sql()),
    )
    return Placement.visible_to(user) | (Placement.contract_id.is_(None) & Placement.authority_code.in_(members))


@dataclass
class HomesInUse:
    rows: list  # (home, judgement name, rank, judged on), worst first
    counts: dict[int, int]  # placements open today by home id
    interims: dict[int, tuple[str, date]]  # homes whose newest inspection is an interim decline
    concerns: set[int]  # of concern as the daily check sees it
    good_or_better: int  # placements in homes judged Good or better (and not declined since)

    @property
    def placed(self) -> int:
        return sum(self.counts.values())

    @property
    def placed_in_concerns(self) -> int:
        return sum(self.counts[home_id] for home_id in self.concerns)

    @property
    def placed_in_interim_declines(self) -> int:
        return sum(self.counts[home_id] for home_id in self.interims)


def _open_in_homes(user, today: date):
    return (
        in_use_by(user),
        Placement.home_id.is_not(None),
        Placement.start_date <= today,
        or_(Placement.end_date.is_(None), Placement.end_date > today),
    )


def placed_in_interim_declines(user, today: date) -> int:
    """How many of the user's placements open today are in homes whose newest inspection is an
    interim decline: `homes_in_use(...).placed_in_interim_declines`, without the rest of the page."""
    # Interim declines are few: find them among all homes, then count placements in them by index.
    declined = interim_declines(select(Home.id))
    if not declined:
        return 0
    return db.session.scalar(
        select(func.count()).where(*_open_in_homes(user, today), Placement.home_id.in_(list(declined)))
    )


def homes_in_use(user, today: date) -> HomesInUse:
    open_now = select(Placement.home_id, func.count()).where(*_open_in_homes(user, today)).group_by(Placement.home_id)
    counts = dict(db.session.execute(open_now).all())
    current = current_graded()
    # Below Good, as the daily check sees it: the rank of Good comes with the rows, not in a query of its own.
    good_rank = select(Judgement.rank).where(Judgement.name == "Good").scalar_subquery()
    found = db.session.execute(
        select(Home, current.c.name, current.c.rank, current.c.inspection_date, good_rank)
        .outerjoin(current, current.c.home_id == Home.id)
        .options(joinedload(Home.provider))
        .where(Home.id.in_(list(counts)))
        .order_by(current.c.rank.desc(), Home.name)
    ).all()
    good = found[0][4] if found else None
    rows = [row[:4] for row in found]
    interims = interim_declines(list(counts))
    good_or_better = sum(
        counts[home.id] for home, _, rank, _ in rows if rank is not None and rank <= good and home.id not in interims
    )
    # Of concern as the daily check sees it: below Good, an interim decline, or not registered Active.
    concerns = {
        home.id
        for home, _, rank, _ in rows
        if (rank is not None and rank > good) or home.id in interims or home.registration_status != "Active"
    }
    return HomesInUse(rows, counts, interims, concerns, good_or_better)
