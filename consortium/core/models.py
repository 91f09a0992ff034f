"""The core's tables: authorities, consortia and their memberships, users.

Each model says who may see which rows (`visible_to`), so the one scoping helper in
`consortium.core.access` needs to know nothing about the domains.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timezone
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    bindparam,
    exists,
    false,
    select,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consortium.core.audit import Audited
from consortium.core.extensions import db

ROLES = ("admin", "lead", "partner", "provider", "cofunder")
# Everyone but a co-funder's staff, who see only what their organisation funds (DESIGN §4c).
CONSORTIUM_ROLES = ("admin", "lead", "partner", "provider")
COFUNDER_KINDS = {"health": "Health", "education": "Education", "other": "Other"}
REQUEST_STATUSES = ("pending", "accepted", "declined", "withdrawn")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class Authority(Audited, db.Model):
    """A local authority, keyed by its ONS GSS code (e.g. E06000018 Nottingham)."""

    __tablename__ = "authorities"

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(60), default="")
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))

    memberships: Mapped[list[Membership]] = relationship(back_populates="authority")

    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"),
    )

    @classmethod
    def visible_to(cls, user):
        # Names and codes of councils are public reference data.
        return true()

    def __str__(self) -> str:
        return self.name


class Consortium(Audited, db.Model):
    """A named group of authorities with one lead authority."""

    __tablename__ = "consortia"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"))
    # Placements with a weekly fee above this are listed for review (value for money).
    high_cost_weekly_pence: Mapped[int] = mapped_column(Integer, default=600000)
    # A lead may require two-factor sign-in of the consortium's leads and of administrators.
    two_factor_required: Mapped[bool] = mapped_column(Boolean, default=False)

    lead: Mapped[Authority] = relationship()
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="consortium", order_by="Membership.joined", cascade="all, delete-orphan"
    )

    @classmethod
    def visible_to(cls, user):
        # A partner sees a consortium their authority has joined, and one it has left (its own
        # history there); not one it is yet to join.
        if user.role == "admin":
            return true()
        if user.role == "lead":
            return cls.id == user.consortium_id
        if user.role == "partner":
            return exists(
                select(Membership.id).where(
                    Membership.consortium_id == cls.id,
                    Membership.authority_code == user.authority_code,
                    Membership.joined <= today(),
                )
            )
        return false()

    def __str__(self) -> str:
        return self.name


def today():
    """Today, as a value the database is given each time a statement runs: a statement built
    once and kept (per viewer) still asks about the day it runs on."""
    return bindparam("today", callable_=date.today, type_=Date, unique=True)


def current_member(consortium_id_column, authority_code):
    """The authority is a member of the consortium today: access follows membership dates."""
    return exists(
        select(Membership.id).where(
            Membership.consortium_id == consortium_id_column,
            Membership.authority_code == authority_code,
            Membership.joined <= today(),
            (Membership.left.is_(None)) | (Membership.left >= today()),
        )
    )


class Membership(Audited, db.Model):
    """An authority's membership of a consortium, from `joined` to `left` (both days included)."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortia.id"), index=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"), index=True)
    joined: Mapped[date] = mapped_column(Date)
    left: Mapped[date | None] = mapped_column(Date)

    consortium: Mapped[Consortium] = relationship(back_populates="memberships")
    # A membership is always shown by its authority's name, so load the two together.
    authority: Mapped[Authority] = relationship(back_populates="memberships", lazy="joined")

    __table_args__ = (
        UniqueConstraint("consortium_id", "authority_code", "joined"),
        CheckConstraint('"left" IS NULL OR "left" >= joined', name="left_after_joined"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.consortium_id.in_(select(Consortium.id).where(Consortium.visible_to(user)))

    def is_current(self, on: date) -> bool:
        return self.joined <= on and (self.left is None or self.left >= on)


class MembershipRequest(Audited, db.Model):
    """A lead asks an authority to join their consortium. It grants nothing until the
    authority's own officers (or an administrator) accept it; accepting makes the membership."""

    __tablename__ = "membership_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortia.id"), index=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"), index=True)
    joined: Mapped[date] = mapped_column(Date)
    left: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id"))

    consortium: Mapped[Consortium] = relationship()
    authority: Mapped[Authority] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        CheckConstraint(f"status IN {REQUEST_STATUSES}", name="status_known"),
        CheckConstraint('"left" IS NULL OR "left" >= joined', name="left_after_joined"),
        # One open request per consortium and authority.
        db.Index(
            "uq_membership_requests_pending",
            "consortium_id",
            "authority_code",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "admin":
            return true()
        if user.role == "lead":
            return cls.consortium_id == user.consortium_id
        if user.role == "partner":
            return cls.authority_code == user.authority_code
        return false()


# Each role's user belongs to one organisation of its kind, and to no other.
_ORGANISATIONS = {
    "admin": None,
    "lead": "consortium_id",
    "partner": "authority_code",
    "provider": "provider_id",
    "cofunder": "cofunder_id",
}
ORGANISATION_MATCHES_ROLE = " OR ".join(
    "(role = '{}' AND {})".format(
        role,
        " AND ".join(f"{c} IS {'NOT ' if c == own else ''}NULL" for c in tuple(_ORGANISATIONS.values())[1:]),
    )
    for role, own in _ORGANISATIONS.items()
)


class Cofunder(Audited, db.Model):
    """An organisation that pays part of a placement or a contract without being a member: an
    integrated care board, an education or SEND budget, or another (DESIGN §4c)."""

    __tablename__ = "cofunders"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    # The consortium whose leads added and manage it; None: one for every consortium, which
    # administrators manage (an integrated care board often co-funds with several).
    consortium_id: Mapped[int | None] = mapped_column(ForeignKey("consortia.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (CheckConstraint(f"kind IN {tuple(COFUNDER_KINDS)}", name="kind_known"),)

    @classmethod
    def visible_to(cls, user):
        # Who pays is known to the councils that work with them; a co-funder's staff see their own.
        if user.role in ("admin", "partner"):
            return true()
        if user.role == "lead":
            return cls.consortium_id.is_(None) | (cls.consortium_id == user.consortium_id)
        if user.role == "cofunder":
            return cls.id == user.cofunder_id
        return false()

    @classmethod
    def managed_by(cls, user):
        """The co-funders the user may change: an administrator any; a lead its consortium's."""
        if user.role == "admin":
            return true()
        return cls.consortium_id == user.consortium_id if user.role == "lead" else false()

    @property
    def kind_name(self) -> str:
        return COFUNDER_KINDS.get(self.kind, self.kind)

    def __str__(self) -> str:
        return self.name


class User(Audited, UserMixin, db.Model):
    """A person who signs in. The organisation depends on the role: the consortium a lead
    manages, the authority a partner works for, the provider a provider's staff work for."""

    __tablename__ = "users"
    __audit_exclude__ = frozenset({"password_hash", "session_token", "totp_secret", "totp_last_step"})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(10))
    consortium_id: Mapped[int | None] = mapped_column(ForeignKey("consortia.id"), index=True)
    authority_code: Mapped[str | None] = mapped_column(ForeignKey("authorities.code"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    cofunder_id: Mapped[int | None] = mapped_column(ForeignKey("cofunders.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Rotated at sign-out, password change and deactivation: the session cookie carries it, so
    # rotating it ends every session of the user on every device.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wants_digest: Mapped[bool] = mapped_column(Boolean, default=True)  # the daily e-mail of flags
    # A provider's staff: each referral invitation by e-mail as well as in the service's messages.
    wants_referral_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # A provider's account manager invites the provider's other staff (the first account is one).
    account_manager: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Two-factor sign-in (consortium.core.two_factor): the key, encrypted; when it was turned on (None:
    # off, or being set up); the time-step of the last code accepted, so no code is used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    two_factor_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    consortium: Mapped[Consortium | None] = relationship()
    authority: Mapped[Authority | None] = relationship()
    provider = relationship("Provider")
    cofunder: Mapped[Cofunder | None] = relationship()

    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="role_known"),
        CheckConstraint(ORGANISATION_MATCHES_ROLE, name="organisation_matches_role"),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "admin":
            return true()
        return cls.id == user.id

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return self.session_token

    @property
    def organisation(self):
        return {
            "lead": self.consortium,
            "partner": self.authority,
            "provider": self.provider,
            "cofunder": self.cofunder,
        }.get(self.role)

    @property
    def organisation_name(self) -> str:
        org = self.organisation
        return org.name if org is not None else "System administration"

    def __str__(self) -> str:
        return self.name or self.email


class Invitation(Audited, db.Model):
    """An invitation to a provider's staff member: a one-time link by e-mail, through which the
    person sets their own password. Nobody else ever knows it. The link's token is kept only as
    a hash; it expires."""

    __tablename__ = "invitations"
    __audit_exclude__ = frozenset({"token_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120), default="")
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    account_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The inviting lead's consortium: its leads see the invitation in their audit log.
    consortium_id: Mapped[int | None] = mapped_column(ForeignKey("consortia.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the account made from it

    provider = relationship("Provider")
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    @classmethod
    def visible_to(cls, user):
        if user.role == "admin":
            return true()
        if user.role == "lead":
            return cls.consortium_id == user.consortium_id
        if user.role == "provider":
            return cls.provider_id == user.provider_id
        return false()

    def is_open(self, now: datetime) -> bool:
        expires = self.expires_at if self.expires_at.tzinfo else self.expires_at.replace(tzinfo=timezone.utc)
        return self.accepted_at is None and now < expires
