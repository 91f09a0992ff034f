"""Messages to people: kept in the outbox, readable in the service under Messages, and sent by
e-mail when a mail server is configured (`MAIL_SERVER`).

Any domain queues a message in the same transaction as what it is about; it goes out as soon as
the request that queued it has committed, and the daily digest's run sends any that could not be
sent then. A message to someone without an account yet (an invitation) has an address, no user.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timezone
from email.message import EmailMessage

from flask import current_app, g
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, select, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consortium.core.extensions import db
from consortium.core.models import User, utcnow

log = logging.getLogger("consortium.core.messages")


class OutboxMessage(db.Model):
    """One message. One per user, kind and period, so a retried job never sends twice."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_address: Mapped[str | None] = mapped_column(String(254))  # for someone with no account yet
    kind: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    # False: read in the service only (the person asked for no e-mail of this kind).
    by_email: Mapped[bool] = mapped_column(default=True, server_default=true())

    user: Mapped[User | None] = relationship()

    __table_args__ = (
        db.UniqueConstraint("user_id", "kind", "period"),
        CheckConstraint("user_id IS NOT NULL OR to_address IS NOT NULL", name="has_recipient"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.user_id == user.id

    @property
    def address(self) -> str:
        return self.to_address or self.user.email


def switch_digest(user: User) -> bool:
    """Turn the user's daily digest on or off; whether they now get it."""
    user.wants_digest = not user.wants_digest
    db.session.flush()
    return user.wants_digest


def queue(
    kind: str,
    period: str,
    subject: str,
    body: str,
    user: User | None = None,
    address: str | None = None,
    by_email: bool = True,
) -> OutboxMessage:
    """Keep a message for a user (or an address), to be sent once this request has committed
    (`by_email` False: to be read in the service only)."""
    message = OutboxMessage(
        user=user, to_address=address, kind=kind, period=period, subject=subject[:200], body=body, by_email=by_email
    )
    db.session.add(message)
    g.messages_queued = True
    if not current_app.config.get("MAIL_SERVER") and current_app.config.get("APP_ENV") == "development":
        # With no mail server on a developer's machine, the log is where an invitation's link can be read.
        log.info("no MAIL_SERVER: message to %s, %r:\n%s", message.address if user or address else "?", subject, body)
    return message


def send_pending() -> list[str]:
    """Send unsent messages by SMTP, if a mail server is configured; returns the errors."""
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        return []
    pending = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.sent_at.is_(None), OutboxMessage.by_email).order_by(OutboxMessage.id)
    ).all()
    if not pending:
        return []
    errors = []
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config.get("MAIL_TIMEOUT", 30)) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            for message in pending:
                mail = EmailMessage()
                mail["From"], mail["To"], mail["Subject"] = config["MAIL_SENDER"], message.address, message.subject
                mail.set_content(message.body)
                try:
                    smtp.send_message(mail)
                except smtplib.SMTPException as error:
                    message.error = str(error)
                    errors.append(f"{message.address}: {error}")
                else:
                    message.sent_at, message.error = datetime.now(timezone.utc), None
    except (OSError, smtplib.SMTPException) as error:
        errors.append(f"mail server {config['MAIL_SERVER']}:{config['MAIL_PORT']}: {error}")
    return errors


def send_after_request(response):
    """After a request that queued messages and succeeded: send them now, in a transaction of
    their own (the request's work is already committed). A failure leaves them for the next try."""
    if g.pop("messages_queued", False) and response.status_code < 400 and current_app.config.get("MAIL_SERVER"):
        try:
            for error in send_pending():
                log.warning("message not sent: %s", error)
            db.session.commit()
        except Exception:  # the page the person asked for must not fail because mail did
            db.session.rollback()
            log.exception("sending messages after the request failed")
    return response


def init_app(app) -> None:
    app.after_request(send_after_request)
