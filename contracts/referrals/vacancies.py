"""Vacancies (DESIGN §4a): providers publish them for their framework homes; each lapses 14 days
after it was last confirmed, with a reminder in the provider's messages 2 days before. The
board lists block voids first (from the blocks' nights, never typed), then the vacancies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from consortium.core import messages
from consortium.core.access import scoped
from consortium.core.extensions import db
from consortium.core.formatting import day
from consortium.core.messages import OutboxMessage
from consortium.core.models import Authority, Consortium, User
from consortium.core.services import RuleBroken
from contracts.models import BlockNight, Contract, care_type_of_provision
from contracts.referrals import search
from contracts.referrals.models import CARE_TYPES, Vacancy
from providers import geo
from providers.models import Home
from providers.quality import rank_labels

LAPSE_DAYS = 14
REMIND_DAYS_BEFORE = 2
BOARD_NIGHTS = 28


def lapses_on(vacancy: Vacancy) -> date:
    """The first day the vacancy is no longer shown."""
    return vacancy.confirmed_on + timedelta(days=LAPSE_DAYS)


def publish(
    provider_id: int,
    home: Home,
    beds: int,
    available_from: date,
    available_until: date | None,
    care_types: list[str],
    min_age: int,
    max_age: int,
    today: date,
) -> Vacancy:
    if home.provider_id != provider_id:
        raise RuleBroken("Choose one of your homes", "home_id")
    if not 1 <= beds <= 100:
        raise RuleBroken("Between 1 and 100 beds", "beds")
    if available_from < today:
        raise RuleBroken(f"The first day is today, {day(today)}, or later", "available_from")
    if available_until is not None and available_until < available_from:
        raise RuleBroken("The last day must be on or after the first", "available_until")
    unknown = [t for t in care_types if t not in CARE_TYPES]
    if not care_types or unknown:
        raise RuleBroken("Choose the kinds of placement the vacancy is for", "care_types")
    if not (0 <= min_age <= max_age <= 25):
        raise RuleBroken("Ages from 0 to 25, the youngest first", "min_age")
    vacancy = Vacancy(
        provider_id=provider_id,
        home=home,
        beds=beds,
        available_from=available_from,
        available_until=available_until,
        care_types=";".join(t for t in CARE_TYPES if t in care_types),
        min_age=min_age,
        max_age=max_age,
        confirmed_on=today,
    )
    db.session.add(vacancy)
    db.session.flush()
    return vacancy


def confirm(vacancy: Vacancy, today: date) -> None:
    """Still vacant: shown for another 14 days."""
    if vacancy.withdrawn:
        raise RuleBroken("This vacancy was withdrawn: publish it again")
    vacancy.confirmed_on = today
    db.session.flush()


def withdraw(vacancy: Vacancy) -> None:
    vacancy.withdrawn = True
    db.session.flush()


def remind_and_lapse(today: date) -> int:
    """A reminder in the provider's messages for each vacancy that lapses in 2 days (once per
    confirmation): returns how many were written. A lapsed vacancy needs no change: it is no
    longer shown from its lapsing day."""
    reminder_day = today + timedelta(days=REMIND_DAYS_BEFORE) - timedelta(days=LAPSE_DAYS)
    due = db.session.scalars(
        select(Vacancy)
        .where(
            Vacancy.withdrawn.is_(False),
            Vacancy.confirmed_on <= reminder_day,
            Vacancy.confirmed_on > reminder_day - timedelta(days=REMIND_DAYS_BEFORE),
        )
        .options(selectinload(Vacancy.home))
    ).all()
    if not due:
        return 0
    periods = {f"vacancy-{v.id}-{v.confirmed_on.isoformat()}": v for v in due}
    written = set(
        db.session.execute(
            select(OutboxMessage.user_id, OutboxMessage.period).where(
                OutboxMessage.kind == "vacancy", OutboxMessage.period.in_(periods)
            )
        ).all()
    )
    staff = defaultdict(list)  # every due vacancy's provider's staff, in one query
    for user in db.session.scalars(
        select(User)
        .where(User.provider_id.in_({v.provider_id for v in due}), User.role == "provider", User.active)
        .order_by(User.id)
    ):
        staff[user.provider_id].append(user)
    count = 0
    for period, vacancy in periods.items():
        for user in staff[vacancy.provider_id]:
            if (user.id, period) in written:
                continue
            messages.queue(
                "vacancy",
                period,
                f"Your vacancy at {vacancy.home.display_name} lapses on {day(lapses_on(vacancy))}",
                f"The vacancy you published for {vacancy.home.with_urn} ({vacancy.beds} bed"
                f"{'s' if vacancy.beds != 1 else ''} from {day(vacancy.available_from)}) was last confirmed on "
                f"{day(vacancy.confirmed_on)}. It stops showing on the vacancy board on {day(lapses_on(vacancy))} "
                "unless you confirm it again: sign in and open Vacancies.",
                user=user,
                by_email=False,
            )
            count += 1
    db.session.flush()
    return count


# ---------------------------------------------------------------- the board


@dataclass
class BoardRow:
    kind: str  # "block" or "vacancy"
    home: Home
    provider_name: str
    care_type: str
    beds: int  # free on every one of the next 28 nights (a block), or published (a vacancy)
    free_bed_nights: int | None  # a block's void bed-nights in the next 28 nights
    available_from: date
    available_until: date | None
    ages: str
    judgement: str
    rank: int | None
    distance: geo.Distance | None
    contract_ref: str | None = None
    lapses: date | None = None


def viewer_authority(user) -> Authority | None:
    """Where a viewer's distances are from: a partner's own authority, a lead's lead authority."""
    if user.role == "partner":
        return db.session.get(Authority, user.authority_code)
    if user.role == "lead":
        consortium = db.session.get(Consortium, user.consortium_id)
        return consortium.lead if consortium else None
    return None


def block_voids(today: date) -> list[tuple[Contract, int, int]]:
    """The blocks the viewer may see with a bed free on any of the next 28 nights: each with its
    void bed-nights over them and the beds free on every one, from the blocks' nights in SQL."""
    last = today + timedelta(days=BOARD_NIGHTS)
    free = BlockNight.capacity - BlockNight.occupied
    rows = db.session.execute(
        scoped(Contract)
        .select(Contract, func.sum(free), func.min(free), func.count())
        .join(BlockNight, BlockNight.contract_id == Contract.id)
        .where(Contract.kind == "block", BlockNight.day >= today, BlockNight.day < last)
        .options(selectinload(Contract.homes), selectinload(Contract.provider))
        .group_by(Contract.id)
        .having(func.sum(free) > 0)
        .order_by(Contract.ref)
    ).all()
    held = search.beds_free([c.id for c, *_ in rows], today, BOARD_NIGHTS)
    return [(c, int(void), held.get(c.id, 0)) for c, void, _least, _count in rows]


def board(
    user, today: date, care_type: str = "", area: str = "", within: Decimal | None = None, rank: int | None = None
) -> list[BoardRow]:
    """The vacancy board, block voids first, narrowed by kind of placement, local authority area,
    miles from the viewer's authority and judgement (at least as good as `rank`)."""
    rows: list[BoardRow] = []
    for contract, void, every_night in block_voids(today):
        for home in contract.homes[:1] or []:
            rows.append(
                BoardRow(
                    kind="block",
                    home=home,
                    provider_name=contract.provider.name,
                    care_type=care_type_of_provision(home.provision_type),
                    beds=every_night,
                    free_bed_nights=void,
                    available_from=today,
                    available_until=min(contract.end_date, today + timedelta(days=BOARD_NIGHTS - 1)),
                    ages="",
                    judgement="",
                    rank=None,
                    distance=None,
                    contract_ref=contract.ref,
                )
            )
    query = (
        scoped(Vacancy)
        .select()
        .join(Vacancy.home)
        .where(
            Vacancy.withdrawn.is_(False),
            Vacancy.confirmed_on > today - timedelta(days=LAPSE_DAYS),
            (Vacancy.available_until.is_(None)) | (Vacancy.available_until >= today),
        )
        .options(selectinload(Vacancy.home), selectinload(Vacancy.provider))
        .order_by(Vacancy.available_from, Vacancy.id)
    )
    if care_type:
        query = query.where(Vacancy.care_types.contains(care_type))
    if area:
        query = query.where(func.lower(Home.local_authority) == area.lower())
    live = db.session.scalars(query).all()
    for vacancy in live:
        rows.append(
            BoardRow(
                kind="vacancy",
                home=vacancy.home,
                provider_name=vacancy.provider.name,
                care_type=";".join(vacancy.types),
                beds=vacancy.beds,
                free_bed_nights=None,
                available_from=vacancy.available_from,
                available_until=vacancy.available_until,
                ages=f"{vacancy.min_age} to {vacancy.max_age}",
                judgement="",
                rank=None,
                distance=None,
                lapses=lapses_on(vacancy),
            )
        )
    homes = list({row.home.id: row.home for row in rows}.values())
    ranks = search.judgement_ranks([h.id for h in homes])
    names = rank_labels()
    origin = viewer_authority(user)
    distances = geo.distances_from(origin, homes) if origin is not None else {}
    for row in rows:
        row.rank = ranks.get(row.home.id)
        row.judgement = names.get(row.rank, "Not yet inspected")
        row.distance = distances.get(row.home.id)
    return [
        row
        for row in rows
        if (not care_type or care_type in row.care_type.split(";"))
        and (not area or row.home.local_authority.lower() == area.lower())
        and (within is None or (row.distance is not None and row.distance.miles <= within))
        and (rank is None or (row.rank is not None and row.rank <= rank))
    ]
