"""What people do with flags: acknowledge them, resolve them; and who may."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import exists, select

from audits.models import SHARED_KINDS, Flag, FlagEvent
from consortium.extensions import db
from consortium.services import RuleBroken
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
    if flag.status == "resolved":
        raise RuleBroken("This flag is already resolved")


def acknowledge(flag: Flag, user, note: str, seen_version: int | None = None) -> None:
    _check(flag, user, seen_version)
    if flag.status == "acknowledged":
        raise RuleBroken("This flag is already acknowledged")
    flag.status, flag.acknowledged_by_id = "acknowledged", user.id
    flag.acknowledged_at, flag.acknowledgement_note = datetime.now(timezone.utc), (note or "").strip() or None
    flag.events.append(FlagEvent(on=date.today(), user_id=user.id, action="acknowledged", note=flag.acknowledgement_note))
    db.session.flush()


def resolve(flag: Flag, user, note: str, seen_version: int | None = None) -> None:
    """Resolved by a person: it stays resolved while its condition goes on unbroken."""
    _check(flag, user, seen_version)
    if not (note or "").strip():
        raise RuleBroken("Say what was done", "note")
    flag.status, flag.resolved_by_id, flag.resolved_on = "resolved", user.id, date.today()
    flag.resolution_note, flag.condition_cleared_on = note.strip(), None
    flag.events.append(FlagEvent(on=date.today(), user_id=user.id, action="resolved", note=flag.resolution_note))
    db.session.flush()
