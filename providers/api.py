"""The API's homes, each with its current judgement: what the Homes pages show."""

from __future__ import annotations

from datetime import date

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consortium.core import api
from consortium.core.access import scoped
from consortium.core.extensions import db
from consortium.core.models import CONSORTIUM_ROLES
from providers.models import Home
from providers.quality import current_graded

bp = api.blueprint("providers_api", __name__)


class Judgement(api.Schema):
    name: str = Field(examples=["Good"])
    inspected_on: date


class HomeOut(api.Schema):
    urn: str
    name: str
    provider_id: int
    provider_name: str
    provision_type: str
    local_authority: str
    registered_places: int | None
    registration_status: str
    current_judgement: Judgement | None = Field(description="The newest graded judgement; none yet when not graded")


class HomeList(api.Schema):
    items: list[HomeOut]
    next: str | None


class HomesQuery(api.Schema):
    provider_id: int | None = Field(None, ge=1)
    local_authority: str = Field("", max_length=120)
    limit: api.Limit = api.PAGE_SIZE


def _homes(homes: list[Home]) -> list[dict]:
    current = current_graded(homes=[h.id for h in homes])
    judged = {
        home_id: (name, on)
        for home_id, name, on in db.session.execute(
            select(current.c.home_id, current.c.name, current.c.inspection_date)
        )
    }
    return [
        HomeOut(
            urn=h.urn,
            name=h.display_name,
            provider_id=h.provider_id,
            provider_name=h.provider.name,
            provision_type=h.provision_type,
            local_authority=h.local_authority,
            registered_places=h.registered_places,
            registration_status=h.registration_status,
            current_judgement=Judgement(name=judged[h.id][0], inspected_on=judged[h.id][1]) if h.id in judged else None,
        ).model_dump(by_alias=True, mode="json")
        for h in homes
    ]


@api.endpoint(bp, "GET", "/homes", summary="List homes", roles=CONSORTIUM_ROLES, query=HomesQuery, response=HomeList)
def list_homes(query: HomesQuery):
    """Homes by URN, each with its current graded judgement, as the Homes page shows them."""
    found = scoped(Home).select().options(selectinload(Home.provider))
    if query.provider_id:
        found = found.where(Home.provider_id == query.provider_id)
    if query.local_authority:
        found = found.where(Home.local_authority == query.local_authority)
    homes, following = api.page_of(found, Home.urn, query.limit)
    return {"items": _homes(homes), "next": following}


@api.endpoint(bp, "GET", "/homes/<urn>", summary="Get a home", roles=CONSORTIUM_ROLES, response=HomeOut)
def get_home(urn: str):
    home = scoped(Home).select().where(Home.urn == urn.upper())
    found = db.session.scalar(home)
    if found is None:
        raise api.Problem(404, "Not found", f"There is no home {urn} that you can see.")
    return _homes([found])[0]
