"""What people do with flags: acknowledge them, resolve them; and who may."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import case, exists, false, func, select

from audits.models import KINDS, SHARED_KINDS, STATUSES, Flag, FlagEvent, FlagResponse, FlagUse
from consortium.core.access import scoped
from consortium.core.extensions import db
from consortium.core.inputs import parse_id
from consortium.core.models import Membership
from consortium.core.services import RuleBroken
from contracts.models import Contract, Placement


def can_act(user, flag: Flag) -> bool:
    """Leads act on their consortium's contract flags, and on quality flags of homes their
    consortium uses (a child placed there under one of its contracts)."""
    if user.role != "lead":
        return False
    if flag.contract_id is not None:
        return flag.contract.consortium_id == user.consortium_id
    if flag.kind in SHARED_KINDS and flag.home_id is not None:
        return db.session.scalar(
            select(
                exists().where(
                    Placement.home_id == flag.home_id,
                    Placement.contract_id.in_(select(Contract.id).where(Contract.consortium_id == user.consortium_id)),
                )
            )
        )
    return False


def _check(flag: Flag, user, seen_version: int | None) -> None:
    if not can_act(user, flag):
        raise RuleBroken("Only a lead of a consortium this flag concerns can act on it")
    if seen_version is not None and flag.version != seen_version:
        raise RuleBroken("This flag was changed by someone else. Check it and try again.")
    if flag.seen_status(user) == "resolved":
        raise RuleBroken("This flag is already resolved")


def _response(flag: Flag, user) -> FlagResponse:
    """The consortium's own response to a shared flag, made on its first act."""
    response = flag.response_of(user.consortium_id)
    if response is None:
        response = FlagResponse(consortium_id=user.consortium_id, status="acknowledged")
        flag.responses.append(response)
    return response


def acknowledge(flag: Flag, user, note: str, seen_version: int | None = None) -> None:
    """A lead acknowledges a flag. A shared (quality) flag is acknowledged for their consortium
    alone: the others see that it acted, not what it said."""
    _check(flag, user, seen_version)
    if flag.seen_status(user) == "acknowledged":
        raise RuleBroken("This flag is already acknowledged")
    note, now = (note or "").strip() or None, datetime.now(timezone.utc)
    if flag.is_shared:
        response = _response(flag, user)
        response.status, response.acknowledged_by_id, response.acknowledged_at, response.acknowledgement_note = (
            "acknowledged",
            user.id,
            now,
            note,
        )
        if flag.status == "open":
            flag.status = "acknowledged"  # someone has it in hand; each consortium still sees its own
    else:
        flag.status, flag.acknowledged_by_id, flag.acknowledged_at, flag.acknowledgement_note = (
            "acknowledged",
            user.id,
            now,
            note,
        )
    flag.events.append(
        FlagEvent(
            on=date.today(),
            user_id=user.id,
            action="acknowledged",
            note=note,
            consortium_id=user.consortium_id if flag.is_shared else None,
        )
    )
    db.session.flush()


def resolve(flag: Flag, user, note: str, seen_version: int | None = None) -> None:
    """Resolved by a person: it stays resolved while its condition goes on unbroken. A shared flag
    is resolved for the lead's consortium only; it stays open for the others."""
    _check(flag, user, seen_version)
    if not (note or "").strip():
        raise RuleBroken("Say what was done", "note")
    note = note.strip()
    if flag.is_shared:
        response = _response(flag, user)
        response.status, response.resolved_by_id, response.resolved_on, response.resolution_note = (
            "resolved",
            user.id,
            date.today(),
            note,
        )
        if flag.status == "open":
            flag.status = "acknowledged"
    else:
        flag.status, flag.resolved_by_id, flag.resolved_on = "resolved", user.id, date.today()
        flag.resolution_note, flag.condition_cleared_on = note, None
    flag.events.append(
        FlagEvent(
            on=date.today(),
            user_id=user.id,
            action="resolved",
            note=note,
            consortium_id=user.consortium_id if flag.is_shared else None,
        )
    )
    db.session.flush()


def _own_consortia(user) -> set[int]:
    """The consortia whose notes on shared flags the user may read: a lead's own; for a partner,
    those their authority is a member of today."""
    if user.role == "lead":
        return {user.consortium_id}
    if user.role == "partner":
        today = date.today()
        return {
            m.consortium_id
            for m in db.session.scalars(select(Membership).where(Membership.authority_code == user.authority_code))
            if m.is_current(today)
        }
    return set()


def responses_seen_by(user, flag: Flag) -> dict:
    """What the user may read of what consortia did about a flag: their own consortium's response
    and notes in full; of the others, only how many acknowledged or resolved it, and, in the
    history, that another consortium acted (no note, no name)."""
    own = _own_consortia(user)
    others = [r for r in flag.responses if r.consortium_id not in own]
    history = []
    for event in reversed(flag.events):
        if event.consortium_id is None or event.consortium_id in own:
            history.append((event.on, event.action, event.user.email if event.user else "Check", event.note or ""))
        else:
            history.append((event.on, event.action, "Another consortium" if own else "A consortium", ""))
    return {
        "own_response": flag.response_of(user.consortium_id) if user.role == "lead" else None,
        "others_acknowledged": sum(r.status == "acknowledged" for r in others),
        "others_resolved": sum(r.status == "resolved" for r in others),
        "history": history,
        "others_label": "Other consortia" if own else "Consortia",
    }


def open_counts_by_kind(user) -> dict[str, int]:
    """Open flags (acknowledged ones too) the user sees, by kind: as the default list shows them."""
    return dict(
        db.session.execute(
            scoped(Flag).select(Flag.kind, func.count()).where(Flag.open_for(user)).group_by(Flag.kind)
        ).all()
    )


def _status_condition(status: str, user):
    """ "open" means not resolved: an acknowledged flag is still open. A lead sees a shared flag's
    status as their consortium's own."""
    seen = Flag.status_seen_by(user)
    if status == "open":
        return seen != "resolved"
    return seen == status if status in STATUSES else None


# "open" is every flag not resolved, acknowledged ones too (DESIGN §4): the counts say the same.
STATUS_FILTERS = {
    "open": "Open (acknowledged too)",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "all": "All",
}
SEVERITY_ORDER = case({"high": 0, "medium": 1, "low": 2}, value=Flag.severity, else_=3)


def flags_query(
    user, kind: str = "", status: str = "open", provider: str = "", contract: str = "", authority: str = ""
):
    """The flags the user may see, narrowed by kind, status (`open`, `acknowledged`, `resolved`,
    `all`), provider id, contract ref and authority code: each filter's values are looked up
    through `scoped` too, so another tenant's code or ref narrows to nothing, never widens."""
    query = scoped(Flag, user).select()
    if kind in KINDS:
        query = query.where(Flag.kind == kind)
    if (condition := _status_condition(status, user)) is not None:
        query = query.where(condition)
    if provider:
        provider_id = parse_id(provider)
        query = query.where(Flag.provider_id == provider_id if provider_id is not None else false())
    if contract:
        named = scoped(Contract, user).select(Contract.id).where(Contract.ref == contract)
        query = query.where(
            Flag.contract_id.in_(named) | Flag.id.in_(select(FlagUse.flag_id).where(FlagUse.contract_id.in_(named)))
        )
    if authority:
        code = authority.upper()
        member_of = scoped(Membership, user).select(Membership.consortium_id).where(Membership.authority_code == code)
        placed_in = scoped(Placement, user).select(Placement.home_id).where(Placement.authority_code == code)
        query = query.where(
            Flag.contract_id.in_(
                scoped(Contract, user).select(Contract.id).where(Contract.consortium_id.in_(member_of))
            )
            | Flag.home_id.in_(placed_in)
        )
    return query
