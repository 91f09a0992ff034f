"""API tokens: a user's named, scoped, expiring keys for the JSON API.

A token acts as its user and sees exactly what the user sees. It is shown once, when it is made;
the database keeps only its SHA-256 (a token is 256 random bits, so a fast hash is enough) and
its first characters, to tell tokens apart in a list.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, case, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consortium.core.audit import Audited
from consortium.core.extensions import db
from consortium.core.inputs import text_problem
from consortium.core.models import User, utcnow
from consortium.core.services import RuleBroken

PREFIX = "mpc_"  # so a token found in a log or a repository is recognised for what it is
SCOPES = {"read": "Read", "write": "Read and write"}
DEFAULT_DAYS, MAX_DAYS = 90, 365
REQUESTS_A_MINUTE = 600


class ApiToken(Audited, db.Model):
    __tablename__ = "api_tokens"
    __audit_exclude__ = frozenset({"token_hash", "window_start", "window_count", "last_used_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    shown: Mapped[str] = mapped_column(String(12))  # the token's first characters
    scope: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The throttle's fixed window: the minute it counts (minutes since the epoch) and its requests.
    window_start: Mapped[int] = mapped_column(Integer, default=0)
    window_count: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("scope IN ('read', 'write')", name="scope_known"),)

    @classmethod
    def visible_to(cls, user):
        return cls.user_id == user.id

    @property
    def scope_name(self) -> str:
        return SCOPES[self.scope]

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and _aware(self.expires_at) > now and self.user.active


def _aware(moment: datetime) -> datetime:
    # SQLite gives back naive datetimes; every time the service stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(user: User, name: str, scope: str, days: int | None = DEFAULT_DAYS) -> tuple[ApiToken, str]:
    """A new token for the user, and the token itself: the only time it is ever known."""
    name = (name or "").strip()
    if not name:
        raise RuleBroken("Enter a name for the token, like the system that will use it", "name")
    if problem := text_problem("Name", name, 80):
        raise RuleBroken(problem, "name")
    if scope not in SCOPES:
        raise RuleBroken("Choose what the token may do: read, or read and write", "scope")
    days = DEFAULT_DAYS if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise RuleBroken(f"A token lasts from 1 to {MAX_DAYS} days", "days")
    if not user.active:
        raise RuleBroken(f"{user.email} is deactivated: a token for them would not work", "email")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        user=user,
        name=name,
        token_hash=_hash(secret),
        shown=secret[:10],
        scope=scope,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def of_user(user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones included."""
    return db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()


def find(secret: str) -> ApiToken | None:
    """The usable token a request carries, or None (unknown, revoked, expired, user deactivated)."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    return token if token is not None and token.is_usable(utcnow()) else None


def count_request(token: ApiToken, now: datetime) -> int:
    """Count a request in the token's current minute, in one statement every web server shares;
    how many it has made in that minute, this one included."""
    minute = int(now.timestamp() // 60)
    counted = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id)
        .values(
            window_count=case((ApiToken.window_start == minute, ApiToken.window_count + 1), else_=1),
            window_start=minute,
            last_used_at=now,
        )
        .returning(ApiToken.window_count)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return counted


def seconds_to_next_minute(now: datetime) -> int:
    return 60 - int(now.timestamp()) % 60
