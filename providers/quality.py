"""Queries on the quality of homes: each home's newest judgements as known on a date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from consortium.core.extensions import db
from providers.models import Inspection, Judgement


def ranked_inspections(as_of: date | None = None, graded_only: bool = False, homes=None):
    """Each home's inspections known on `as_of` (all, when None), newest first: `position` 1 is
    the newest. `homes` (ids, or a query of them) narrows it to those homes before ranking."""
    position = func.row_number().over(partition_by=Inspection.home_id, order_by=Inspection.inspection_date.desc())
    query = select(
        Inspection.id,
        Inspection.home_id,
        Inspection.inspection_date,
        Inspection.judgement_id,
        Judgement.name,
        Judgement.rank,
        Judgement.declines,
        position.label("position"),
    ).join(Inspection.judgement)
    if as_of is not None:
        query = query.where(Inspection.inspection_date <= as_of)
    if graded_only:
        query = query.where(Judgement.graded)
    if homes is not None:
        query = query.where(Inspection.home_id.in_(homes))
    return query.subquery()


def current_graded(as_of: date | None = None, homes=None):
    """Each inspected home's newest graded judgement (of `homes` only, if given): home_id,
    inspection_date, judgement_id, name, rank."""
    ranked = ranked_inspections(as_of, graded_only=True, homes=homes)
    return (
        select(ranked.c.home_id, ranked.c.inspection_date, ranked.c.judgement_id, ranked.c.name, ranked.c.rank)
        .where(ranked.c.position == 1)
        .subquery("current_graded")
    )


def interim_declines(home_ids, as_of: date | None = None) -> dict[int, tuple[str, date]]:
    """The homes (of those given) whose newest inspection is an interim decline: its outcome and
    date, to be shown beside the last graded judgement wherever judgements appear. `home_ids`:
    ids, or a query of them."""
    if isinstance(home_ids, (list, set, tuple)) and not home_ids:
        return {}
    latest = ranked_inspections(as_of, homes=home_ids)
    return {
        home_id: (name, on)
        for home_id, name, on in db.session.execute(
            select(latest.c.home_id, latest.c.name, latest.c.inspection_date).where(
                latest.c.position == 1, latest.c.declines
            )
        )
    }


def newest_graded(home_id, as_of: date | None = None):
    """The judgement of a home's newest graded inspection known on `as_of` (as `current_graded`
    picks it), as a subquery on `home_id`, a column of the enclosing query: for the few
    thousand homes a page shows, cheaper than ranking every inspection in the country."""
    query = (
        select(Inspection.judgement_id)
        .join(Inspection.judgement)
        .where(Inspection.home_id == home_id, Judgement.graded)
        .order_by(Inspection.inspection_date.desc())
        .limit(1)
    )
    if as_of is not None:
        query = query.where(Inspection.inspection_date <= as_of)
    return query.scalar_subquery()


def rank_labels() -> dict[int, str]:
    """The graded ranks, best first, each named by its first judgement (RI covers Adequate)."""
    labels: dict[int, str] = {}
    for rank, name in db.session.execute(
        select(Judgement.rank, Judgement.name).where(Judgement.graded).order_by(Judgement.rank, Judgement.id)
    ):
        labels.setdefault(rank, name)
    return labels


def graded_judgements() -> list[Judgement]:
    return list(db.session.scalars(select(Judgement).where(Judgement.graded).order_by(Judgement.rank, Judgement.id)))
