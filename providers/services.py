"""Provider and home lists with their quality, and the changes leads make to providers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import selectinload

from consortium.core.access import scoped
from consortium.core.extensions import db
from consortium.core.inputs import parse_id
from consortium.core.models import Invitation, User
from consortium.core.services import RuleBroken
from providers.models import Home, Inspection, Provider, ProviderAlias
from providers.quality import current_graded, graded_judgements, rank_labels

NOT_GRADED = "not-graded"


@dataclass
class Filters:
    """What a person narrowed a list to; every field optional."""

    q: str = ""
    provision_type: str = ""
    local_authority: str = ""
    judgement: str = ""  # a judgement id, or NOT_GRADED

    @classmethod
    def from_args(cls, args) -> Filters:
        return cls(
            **{key: (args.get(key) or "").strip() for key in ("q", "provision_type", "local_authority", "judgement")}
        )

    def home_conditions(self, current, joined: bool = True) -> list:
        """Conditions on homes; the judgement's on `current` as joined to the homes, or (not
        `joined`) as a look-up of it, for a query that joins it only after the homes."""
        conditions = []
        if self.provision_type:
            conditions.append(Home.provision_type == self.provision_type)
        if self.local_authority:
            conditions.append(Home.local_authority == self.local_authority)
        if self.judgement:
            judgement_id = parse_id(self.judgement)
            judged = (
                current.c.judgement_id.is_(None)
                if self.judgement == NOT_GRADED
                else current.c.judgement_id == (judgement_id if judgement_id is not None else -1)
            )  # no id is -1
            if joined:
                conditions.append(judged)
            elif self.judgement == NOT_GRADED:
                conditions.append(Home.id.not_in(select(current.c.home_id).where(current.c.judgement_id.is_not(None))))
            else:
                conditions.append(Home.id.in_(select(current.c.home_id).where(judged)))
        return conditions


def homes_query(filters: Filters, provider_id: int | None = None) -> Select:
    """Homes the user may see (of one provider, if given) with each one's current graded
    judgement (None when not yet graded)."""
    of_provider = select(Home.id).where(Home.provider_id == provider_id) if provider_id is not None else None
    current = current_graded(homes=of_provider)
    query = (
        scoped(Home)
        .select(
            Home,
            Provider,
            current.c.name.label("judgement"),
            current.c.rank,
            current.c.inspection_date.label("judged_on"),
        )
        .join(Home.provider)
        .outerjoin(current, current.c.home_id == Home.id)
        .where(*filters.home_conditions(current))
    )
    if provider_id is not None:
        query = query.where(Home.provider_id == provider_id)
    if filters.q:
        pattern = f"%{filters.q.lower()}%"
        query = query.where(
            or_(
                func.lower(Home.name).like(pattern),
                func.lower(Home.urn).like(pattern),
                func.lower(Provider.name).like(pattern),
            )
        )
    return query.order_by(Home.local_authority, Home.name, Home.urn)


def providers_query(filters: Filters) -> tuple[Select, dict[int, str]]:
    """Providers the user may see, with their homes counted by current judgement. Filters on
    homes keep providers that have at least one matching home."""
    current = current_graded()
    labels = rank_labels()
    counts = [func.count(Home.id).label("homes")]
    counts += [func.sum(case((current.c.rank == rank, 1), else_=0)).label(f"rank_{rank}") for rank in labels]
    counts.append(
        func.sum(case((and_(Home.id.is_not(None), current.c.rank.is_(None)), 1), else_=0)).label("not_graded")
    )
    conditions = filters.home_conditions(current, joined=False)
    query = (
        scoped(Provider)
        .select(Provider, *counts)
        .outerjoin_from(Provider, Home, and_(Home.provider_id == Provider.id, *conditions))
        .outerjoin(current, current.c.home_id == Home.id)
        .group_by(Provider.id)
    )
    if conditions:
        query = query.having(func.count(Home.id) > 0)
    if filters.q:
        pattern = f"%{filters.q.lower()}%"
        alias_matches = exists().where(
            ProviderAlias.provider_id == Provider.id, func.lower(ProviderAlias.name).like(pattern)
        )
        query = query.where(or_(func.lower(Provider.name).like(pattern), alias_matches))
    return query.order_by(Provider.name), labels


def judgement_counts() -> list[tuple[str, str, int]]:
    """(label, judgement filter value, homes) for each graded judgement and for not yet graded."""
    current = current_graded()
    rows = dict(
        db.session.execute(
            scoped(Home)
            .select(current.c.judgement_id, func.count())
            .select_from(Home)
            .outerjoin(current, current.c.home_id == Home.id)
            .group_by(current.c.judgement_id)
        ).all()
    )
    # Older names for the same level (Adequate beside RI) appear only when homes still carry them.
    main_names = set(rank_labels().values())
    counts = [
        (j.name, str(j.id), rows.get(j.id, 0)) for j in graded_judgements() if rows.get(j.id) or j.name in main_names
    ]
    counts.append(("Not yet graded", NOT_GRADED, rows.get(None, 0)))
    return counts


def filter_choices() -> dict[str, list[str]]:
    """The provision types and local authorities of the homes the user may see."""
    visible = scoped(Home).select(Home.id).scalar_subquery()
    return {
        column: list(
            db.session.scalars(
                select(getattr(Home, column)).where(Home.id.in_(visible)).distinct().order_by(getattr(Home, column))
            )
        )
        for column in ("provision_type", "local_authority")
    }


def other_providers(provider: Provider) -> list[tuple[str, str]]:
    """Every other provider the user may see, as (id, name) for a select."""
    others = scoped(Provider).select(Provider.id, Provider.name).where(Provider.id != provider.id)
    return [(str(other_id), name) for other_id, name in db.session.execute(others.order_by(Provider.name))]


def add_alias(provider: Provider, name: str) -> ProviderAlias:
    """Record a former name, so import files that still use it match this provider."""
    name = " ".join(name.split())
    if not name:
        raise RuleBroken("Enter the former name", "name")
    lowered = name.lower()
    taken = db.session.scalar(select(Provider.name).where(func.lower(Provider.name) == lowered)) or db.session.scalar(
        select(Provider.name).join(ProviderAlias).where(func.lower(ProviderAlias.name) == lowered)
    )
    if taken:
        raise RuleBroken(f"{name!r} already names {taken}", "name")
    alias = ProviderAlias(name=name)
    provider.aliases.append(alias)
    db.session.flush()
    return alias


def staff(provider: Provider) -> tuple[list[User], list[Invitation]]:
    """A provider's accounts, and its invitations not yet used, for its account manager and administrators."""
    users = db.session.scalars(select(User).where(User.provider_id == provider.id).order_by(User.email)).all()
    invitations = db.session.scalars(
        select(Invitation)
        .where(Invitation.provider_id == provider.id, Invitation.accepted_at.is_(None))
        .order_by(Invitation.created_at.desc())
    ).all()
    return users, invitations


HOME_COLUMNS = [
    "URN",
    "Name",
    "Provider",
    "Provision type",
    "Local authority",
    "Registered places",
    "Registration status",
    "Current judgement",
    "Judged on",
]


def home_rows(filters: Filters) -> tuple[list[str], Iterator[list]]:
    """The homes list as a file's header and rows, each home with its current judgement."""
    rows = (
        [
            r.Home.urn,
            r.Home.name or "",
            r.Provider.name,
            r.Home.provision_type,
            r.Home.local_authority,
            r.Home.registered_places,
            r.Home.registration_status,
            r.judgement or "Not yet graded",
            r.judged_on.isoformat() if r.judged_on else "",
        ]
        for r in db.session.execute(homes_query(filters))
    )
    return HOME_COLUMNS, rows


def recent_inspections(provider: Provider, limit: int = 20) -> list[Inspection]:
    """A provider's latest inspections across its homes, newest first."""
    return db.session.scalars(
        scoped(Inspection)
        .select()
        .join(Inspection.home)
        .where(Home.provider_id == provider.id)
        .options(selectinload(Inspection.home), selectinload(Inspection.judgement))
        .order_by(Inspection.inspection_date.desc())
        .limit(limit)
    ).all()


def set_supplier_details(provider: Provider, companies_house_number: str, sme: str, voluntary: str) -> None:
    """What the contracts register says of a supplier: "yes", "no", or "" (not known)."""
    answer = {"yes": True, "no": False, "": None}
    provider.companies_house_number = companies_house_number or None
    provider.sme, provider.voluntary = answer[sme or ""], answer[voluntary or ""]
    db.session.flush()
