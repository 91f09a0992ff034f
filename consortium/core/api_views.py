"""The API's authorities and consortia: what the core's pages show."""

from __future__ import annotations

from datetime import date

from pydantic import Field
from sqlalchemy.orm import selectinload

from consortium.core import api
from consortium.core.access import scoped
from consortium.core.models import CONSORTIUM_ROLES, Authority, Consortium

bp = api.blueprint("core_api", __name__)


class AuthorityOut(api.Schema):
    code: str = Field(description="The ONS code", examples=["E06000018"])
    name: str
    region: str


class AuthorityList(api.Schema):
    items: list[AuthorityOut]
    next: str | None


class MemberOut(api.Schema):
    authority_code: str
    authority_name: str
    joined: date
    left: date | None


class ConsortiumOut(api.Schema):
    id: int
    ref: str
    name: str
    lead_code: str
    members: list[MemberOut]


class ConsortiumList(api.Schema):
    items: list[ConsortiumOut]
    next: str | None


class ListQuery(api.Schema):
    limit: api.Limit = api.PAGE_SIZE


def _authority(a: Authority) -> dict:
    return AuthorityOut(code=a.code, name=a.name, region=a.region).model_dump(by_alias=True, mode="json")


def _consortium(c: Consortium) -> dict:
    members = [
        MemberOut(authority_code=m.authority_code, authority_name=m.authority.name, joined=m.joined, left=m.left)
        for m in sorted(c.memberships, key=lambda m: (m.authority.name, m.joined))
    ]
    return ConsortiumOut(id=c.id, ref=c.ref, name=c.name, lead_code=c.lead_code, members=members).model_dump(
        by_alias=True, mode="json"
    )


@api.endpoint(
    bp,
    "GET",
    "/authorities",
    summary="List authorities",
    roles=CONSORTIUM_ROLES,
    query=ListQuery,
    response=AuthorityList,
)
def list_authorities(query: ListQuery):
    """Local authorities by ONS code: every one, as the Authorities page lists them."""
    return api.page(scoped(Authority).select(), _authority, Authority.code, query.limit)


@api.endpoint(
    bp, "GET", "/authorities/<code>", summary="Get an authority", roles=CONSORTIUM_ROLES, response=AuthorityOut
)
def get_authority(code: str):
    return _authority(scoped(Authority).get_or_404(code.upper()))


@api.endpoint(
    bp, "GET", "/consortia", summary="List consortia", roles=CONSORTIUM_ROLES, query=ListQuery, response=ConsortiumList
)
def list_consortia(query: ListQuery):
    """The consortia the token's user sees, with their members and the dates of membership."""
    found = scoped(Consortium).select().options(selectinload(Consortium.memberships))
    return api.page(found, _consortium, Consortium.id, query.limit)


@api.endpoint(
    bp,
    "GET",
    "/consortia/<int:consortium_id>",
    summary="Get a consortium",
    roles=CONSORTIUM_ROLES,
    response=ConsortiumOut,
)
def get_consortium(consortium_id: int):
    return _consortium(scoped(Consortium).get_or_404(consortium_id))
