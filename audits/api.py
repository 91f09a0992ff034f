"""The API's flags: list, get, acknowledge and resolve, as on the Flags pages."""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask_login import current_user
from pydantic import Field
from sqlalchemy.orm import selectinload

from audits import services
from audits.models import KINDS, Flag
from consortium.core import api
from consortium.core.access import scoped
from consortium.core.models import CONSORTIUM_ROLES

bp = api.blueprint("audits_api", __name__)


class FlagOut(api.Schema):
    id: int
    kind: str = Field(description=", ".join(KINDS))
    kind_name: str
    subject: str = Field(description="A home's URN for quality flags, else a contract's ref")
    severity: Literal["high", "medium", "low"]
    status: Literal["open", "acknowledged", "resolved"] = Field(description="As the token's user sees it")
    opened_on: date
    detail: str
    version: int


class FlagList(api.Schema):
    items: list[FlagOut]
    next: str | None


class FlagsQuery(api.Schema):
    kind: str = Field("", max_length=40)
    status: Literal["open", "acknowledged", "resolved", "all"] = "open"
    contract_ref: str = Field("", max_length=40)
    authority_code: str = Field("", max_length=9)
    provider_id: str = Field("", max_length=12)
    limit: api.Limit = api.PAGE_SIZE


class NoteIn(api.Schema):
    note: str = Field("", max_length=2000)


def _flag(flag: Flag) -> dict:
    return FlagOut(
        id=flag.id,
        kind=flag.kind,
        kind_name=flag.kind_name,
        subject=flag.subject,
        severity=flag.severity,
        status=flag.seen_status(current_user),
        opened_on=flag.opened_on,
        detail=flag.detail,
        version=flag.version,
    ).model_dump(by_alias=True, mode="json")


def _one(flag: Flag):
    return _flag(flag), 200, {"ETag": api.etag(flag.version)}


@api.endpoint(bp, "GET", "/flags", summary="List flags", roles=CONSORTIUM_ROLES, query=FlagsQuery, response=FlagList)
def list_flags(query: FlagsQuery):
    """The flags the token's user sees on the Flags page ("open" includes acknowledged ones)."""
    found = services.flags_query(
        current_user,
        kind=query.kind,
        status=query.status,
        provider=query.provider_id,
        contract=query.contract_ref,
        authority=query.authority_code,
    ).options(selectinload(Flag.responses))
    return api.page(found, _flag, Flag.id, query.limit)


@api.endpoint(bp, "GET", "/flags/<int:flag_id>", summary="Get a flag", roles=CONSORTIUM_ROLES, response=FlagOut)
def get_flag(flag_id: int):
    return _one(scoped(Flag).get_or_404(flag_id))


@api.endpoint(
    bp,
    "POST",
    "/flags/<int:flag_id>/acknowledge",
    summary="Acknowledge a flag",
    roles=("lead",),
    body=NoteIn,
    response=FlagOut,
)
def acknowledge_flag(flag_id: int, body: NoteIn):
    """Seen and being acted on: it stays open. A quality flag is acknowledged for the lead's consortium alone."""
    flag = scoped(Flag).get_or_404(flag_id)
    services.acknowledge(flag, current_user, body.note, api.expected_version(flag.version))
    return _one(flag)


@api.endpoint(
    bp, "POST", "/flags/<int:flag_id>/resolve", summary="Resolve a flag", roles=("lead",), body=NoteIn, response=FlagOut
)
def resolve_flag(flag_id: int, body: NoteIn):
    """Resolved by a person, with a note saying how. A quality flag is resolved for the lead's consortium alone."""
    flag = scoped(Flag).get_or_404(flag_id)
    services.resolve(flag, current_user, body.note, api.expected_version(flag.version))
    return _one(flag)
