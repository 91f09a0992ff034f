"""The daily digest: each user who wants it gets the open flags they may see, new ones first,
through the outbox. Sent by SMTP when a mail server is configured; always readable in the
service under Messages."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from audits import jobs
from audits.models import Flag
from consortium.core.access import scoped
from consortium.core.extensions import db
from consortium.core.formatting import day
from consortium.core.messages import OutboxMessage, send_pending
from consortium.core.models import User


def compose(user: User, as_of: date) -> tuple[str, str] | None:
    """The digest for one user, or None when no open flag concerns them."""
    flags = db.session.scalars(
        scoped(Flag, user).select().where(Flag.open_for(user)).order_by(Flag.opened_on.desc(), Flag.kind, Flag.subject)
    ).all()
    if not flags:
        return None
    new = [f for f in flags if f.opened_on >= as_of - timedelta(days=1)]
    older = [f for f in flags if f not in new]
    lines = [
        f"Good morning. {len(new)} new flag{'s' if len(new) != 1 else ''} and {len(older)} still open on {day(as_of)}.",
        "",
    ]
    for heading, group in (("New", new), ("Still open", older)):
        if group:
            lines.append(f"{heading}:")
            lines += [f"- {f.kind_name}, {f.subject} ({f.severity}): {f.detail}" for f in group]
            lines.append("")
    lines.append(f"See them all: {current_app.config['SERVICE_URL']}/flags")
    lines.append("You get this because daily digests are on for you; turn them off under Messages.")
    subject = f"Manage placement contracts: {len(new)} new, {len(older)} open flags, {day(as_of)}"
    return subject, "\n".join(lines)


def digest_work(as_of: date) -> jobs.Outcome:
    period = as_of.isoformat()
    written = set(
        db.session.scalars(
            select(OutboxMessage.user_id).where(OutboxMessage.kind == "digest", OutboxMessage.period == period)
        )
    )
    for user in db.session.scalars(
        select(User).where(User.active.is_(True), User.wants_digest.is_(True)).order_by(User.id)
    ):
        if user.id in written:
            continue
        composed = compose(user, as_of)
        if composed:
            db.session.add(
                OutboxMessage(user_id=user.id, kind="digest", period=period, subject=composed[0], body=composed[1])
            )
    db.session.flush()
    return jobs.Outcome(errors=send_pending())


def run_digest(as_of: date, lease_seconds: int = jobs.LEASE_SECONDS):
    return jobs.run_job("digest", as_of.isoformat(), lambda: digest_work(as_of), lease_seconds)
