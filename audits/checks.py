"""The checks, and the runner that runs them as of a date.

A check is one function registered with `@check("kind")`: it looks at the data as known on the
date and calls `raise_flag` for each subject that needs a person (and, for checks whose flags
resolve themselves, `resolve_others`). Running a check twice on the same data changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from audits.models import Flag
from consortium.extensions import db
from consortium.formatting import day
from providers.models import Home, Judgement, Provider
from providers.quality import ranked_inspections

CHECKS: dict[str, Callable[[date], None]] = {}


def check(kind: str):
    def register(function: Callable[[date], None]):
        CHECKS[kind] = function
        return function

    return register


def run(as_of: date, kinds: list[str] | None = None) -> list[str]:
    """Run the checks (all, or those named) as of a date; returns the kinds run."""
    unknown = set(kinds or []) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown check {', '.join(sorted(unknown))}: choose from {', '.join(CHECKS)}")
    chosen = kinds or list(CHECKS)
    for kind in chosen:
        CHECKS[kind](as_of)
    db.session.flush()
    return chosen


def raise_flag(kind: str, subject: str, as_of: date, severity: str, detail: str, **figures) -> Flag:
    """Open a flag for the subject, or bring the open one up to date."""
    flag = db.session.scalar(select(Flag).where(Flag.kind == kind, Flag.subject == subject, Flag.status != "resolved"))
    if flag is None:
        flag = Flag(kind=kind, subject=subject, opened_on=as_of)
        db.session.add(flag)
    for key, value in {"severity": severity, "detail": detail, **figures}.items():
        if getattr(flag, key) != value:
            setattr(flag, key, value)
    return flag


# ---------------------------------------------------------------- quality drops


def quality_drops(as_of: date) -> list[dict]:
    """Homes whose newest graded judgement is worse than the one before, or is the worst on the
    scale (even a first inspection), or whose newest inspection is an interim decline."""
    graded = ranked_inspections(as_of, graded_only=True)
    newest, previous = graded.alias("newest"), graded.alias("previous")
    worst = select(func.max(Judgement.rank)).where(Judgement.graded).scalar_subquery()
    drops = (
        select(newest.c.id, newest.c.home_id, newest.c.inspection_date, newest.c.name, newest.c.rank,
               previous.c.name.label("before"), worst.label("worst"))
        .outerjoin(previous, and_(previous.c.home_id == newest.c.home_id, previous.c.position == 2))
        .where(newest.c.position == 1, (newest.c.rank == worst) | (previous.c.rank < newest.c.rank))
    )
    latest = ranked_inspections(as_of, graded_only=False).alias("latest")
    declines = (
        select(latest.c.id, latest.c.home_id, latest.c.inspection_date, latest.c.name, latest.c.rank,
               newest.c.name.label("before"), worst.label("worst"))
        .outerjoin(newest, and_(newest.c.home_id == latest.c.home_id, newest.c.position == 1))
        .where(latest.c.position == 1, latest.c.declines)
    )
    found = []
    for query in (drops, declines):
        found += [row._asdict() for row in db.session.execute(query)]
    return found


def _severity(rank: int | None, worst: int) -> str:
    if rank is None:
        return "medium"  # an interim decline
    return "high" if rank >= worst else "medium" if rank == worst - 1 else "low"


def _drop_detail(home: Home, provider: Provider, drop: dict) -> str:
    where = f"{home.display_name} ({home.urn}), {provider.name}"
    on = day(drop["inspection_date"])
    if drop["rank"] is None:
        was = f" (last graded {drop['before']})" if drop["before"] else ""
        return f"{where}: {drop['name']} at the interim inspection on {on}{was}"
    if drop["before"] is None:
        return f"{where}: judged {drop['name']} at its first inspection on {on}"
    if drop["before"] == drop["name"]:
        return f"{where}: judged {drop['name']} again at the inspection on {on}"
    return f"{where}: fell from {drop['before']} to {drop['name']} at the inspection on {on}"


@check("quality_drop")
def check_quality_drops(as_of: date) -> None:
    """One flag per home; never a second flag for the same inspection; stays open until a
    person resolves it. Covers every home in the register, used or not."""
    # A home can show a graded drop and a later interim decline: the newest one speaks for it.
    newest: dict[int, dict] = {}
    for drop in quality_drops(as_of):
        if drop["home_id"] not in newest or drop["inspection_date"] > newest[drop["home_id"]]["inspection_date"]:
            newest[drop["home_id"]] = drop
    drops = list(newest.values())
    if not drops:
        return
    flagged = set(
        db.session.scalars(
            select(Flag.inspection_id).where(Flag.kind == "quality_drop", Flag.inspection_id.in_([d["id"] for d in drops]))
        )
    )
    fresh = [drop for drop in drops if drop["id"] not in flagged]
    homes = {
        home.id: home
        for home in db.session.scalars(
            select(Home).options(selectinload(Home.provider)).where(Home.id.in_([d["home_id"] for d in fresh]))
        )
    }
    for drop in fresh:
        home = homes[drop["home_id"]]
        raise_flag(
            "quality_drop",
            home.urn,
            as_of,
            severity=_severity(drop["rank"], drop["worst"]),
            detail=_drop_detail(home, home.provider, drop),
            home_id=home.id,
            provider_id=home.provider_id,
            inspection_id=drop["id"],
            judgement_before=drop["before"],
            judgement_after=drop["name"],
            event_date=drop["inspection_date"],
        )
