"""Flags: what a check found that needs a person.

A flag keeps its figures as fields, not only as text, so pages, exports and later checks can
use them. At most one flag of a kind per subject is open (not resolved) at a time.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    case,
    exists,
    false,
    func,
    select,
    text,
    true,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from consortium.core.extensions import db
from consortium.core.models import User, utcnow
from consortium.core.sql import new_ids
from contracts.models import Contract, Placement
from contracts.referrals.models import Referral
from providers.models import Home, Inspection, Provider

KINDS = {
    "quality_drop": "Quality drop",
    "home_in_use_concern": "Home in use of concern",
    "underused_block_beds": "Underused block beds",
    "contract_expiring": "Contract expiring",
    "kpi_red": "KPI red two quarters running",
    "overdue_return": "Overdue monitoring return",
    "referral_unanswered": "Referral unanswered",
    "block_void_while_spot": "Bought elsewhere while a block bed stood empty",
    "high_cost_review_due": "High-cost review due",
}
# Kinds about provider quality, which is shared data: every commissioner sees these flags.
SHARED_KINDS = ("quality_drop", "home_in_use_concern")
SEVERITIES = ("low", "medium", "high")
STATUSES = ("open", "acknowledged", "resolved")


class Flag(db.Model):
    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # What the flag is about, as people and the CSV output name it: a home's URN or a contract's ref.
    subject: Mapped[str] = mapped_column(String(60))
    # What makes a flag one of a kind: the subject, or with a provider and quarter added
    # (an overdue return is one flag per contract, provider and quarter).
    subject_key: Mapped[str] = mapped_column(String(120))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default="open")
    opened_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    detail: Mapped[str] = mapped_column(Text)

    home_id: Mapped[int | None] = mapped_column(ForeignKey("homes.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    judgement_before: Mapped[str | None] = mapped_column(String(80))
    judgement_after: Mapped[str | None] = mapped_column(String(80))
    event_date: Mapped[date | None] = mapped_column(Date)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    utilisation: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))  # percent
    bed_nights: Mapped[int | None] = mapped_column(Integer)  # capacity over the window
    void_bed_nights: Mapped[int | None] = mapped_column(Integer)
    pence: Mapped[int | None] = mapped_column(Integer)  # e.g. the void cost
    period: Mapped[str | None] = mapped_column(String(7))  # a quarter, 2024-Q1
    indicators: Mapped[str | None] = mapped_column(String(200))  # indicator codes, for KPI reds
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placements.id"))
    resolved_on: Mapped[date | None] = mapped_column(Date)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: resolved by its check
    resolution_note: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)
    # For a flag a person resolved: the date a check first found its condition no longer held.
    # Until then the condition "goes on unbroken" and the flag does not come back.
    condition_cleared_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    home: Mapped[Home | None] = relationship()
    provider: Mapped[Provider | None] = relationship()
    inspection: Mapped[Inspection | None] = relationship()
    contract: Mapped[Contract | None] = relationship()
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    events: Mapped[list[FlagEvent]] = relationship(
        back_populates="flag", order_by="FlagEvent.id", cascade="all, delete-orphan"
    )
    # What each consortium did about a shared flag (quality is shared; acting on it is each consortium's own).
    responses: Mapped[list[FlagResponse]] = relationship(back_populates="flag", cascade="all, delete-orphan")
    # For a quality drop: every active contract and admission that uses the home (each viewer is
    # shown those it may see).
    uses: Mapped[list[FlagUse]] = relationship(cascade="all, delete-orphan", order_by="FlagUse.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"severity IN {SEVERITIES}", name="severity_known"),
        CheckConstraint(f"status IN {STATUSES}", name="status_known"),
        # One open flag per kind and subject.
        Index(
            "uq_flags_open_subject",
            "kind",
            "subject_key",
            unique=True,
            sqlite_where=text("status <> 'resolved'"),
            postgresql_where=text("status <> 'resolved'"),
        ),
        # The same inspection never opens a second flag of a kind.
        Index("uq_flags_kind_inspection", "kind", "inspection_id", unique=True),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "provider":
            return cls.provider_id == user.provider_id
        # Contract flags: those of the contracts the user may see (their consortium's); a
        # referral's: those of the referrals the user may see; a placement's (high cost, which
        # names the child): those of the placements the user may see.
        return (
            cls.kind.in_(SHARED_KINDS)
            | cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))
            | cls.referral_id.in_(select(Referral.id).where(Referral.visible_to(user)))
            | (cls.kind == "high_cost_review_due")
            & exists().where(Placement.id == cls.placement_id, Placement.visible_to(user))
        )

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    @property
    def is_shared(self) -> bool:
        return self.kind in SHARED_KINDS

    @classmethod
    def status_seen_by(cls, user):
        """The status as this user sees it, in SQL. A shared flag's status for a lead is their
        consortium's own (open, acknowledged or resolved), unless its check has resolved it for all;
        everyone else sees the flag's own status."""
        if user.role != "lead":
            return cls.status
        own = select(FlagResponse.status).where(
            FlagResponse.flag_id == cls.id, FlagResponse.consortium_id == user.consortium_id
        )
        return case(
            (cls.status == "resolved", "resolved"),
            (cls.kind.in_(SHARED_KINDS), func.coalesce(own.scalar_subquery(), "open")),
            else_=cls.status,
        )

    @classmethod
    def open_for(cls, user):
        return cls.status_seen_by(user) != "resolved"

    def response_of(self, consortium_id: int | None) -> FlagResponse | None:
        return next((r for r in self.responses if r.consortium_id == consortium_id), None)

    def seen_status(self, user) -> str:
        """`status_seen_by`, for a flag already loaded (with its responses)."""
        if user.role != "lead" or not self.is_shared or self.status == "resolved":
            return self.status
        own = self.response_of(user.consortium_id)
        return own.status if own else "open"

    @property
    def kind_name(self) -> str:
        return KINDS.get(self.kind, self.kind)


class FlagUse(db.Model):
    """A contract (and, for a framework, the admission) using a flag's home when the flag was raised."""

    __tablename__ = "flag_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admissions.id"))

    contract: Mapped[Contract] = relationship()
    admission = relationship("Admission")

    @classmethod
    def visible_to(cls, user):
        return cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))

    def __str__(self) -> str:
        if self.admission is None:
            return self.contract.ref
        return f"{self.contract.ref} ({self.admission.lot.name}, {self.admission.tier})"


class FlagResponse(db.Model):
    """One consortium's acknowledgement or resolution of a shared flag, with its note: seen by
    that consortium; the others see only that it acted."""

    __tablename__ = "flag_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id"))
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortia.id"))
    status: Mapped[str] = mapped_column(String(12))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)

    flag: Mapped[Flag] = relationship(back_populates="responses")
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    __table_args__ = (
        db.UniqueConstraint("flag_id", "consortium_id"),
        CheckConstraint("status IN ('acknowledged', 'resolved')", name="status_known"),
    )

    @classmethod
    def visible_to(cls, user):
        return (cls.consortium_id == user.consortium_id) if user.role == "lead" else false()


class FlagEvent(db.Model):
    """The history of a flag: opened, updated by a check, acknowledged, resolved, cleared."""

    __tablename__ = "flag_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    on: Mapped[date] = mapped_column(Date)  # the day it happened (a check's as-of date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: a check
    action: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    # The consortium that acted on a shared flag: its note and who are shown to that consortium only.
    consortium_id: Mapped[int | None] = mapped_column(ForeignKey("consortia.id"))

    flag: Mapped[Flag] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()

    @classmethod
    def visible_to(cls, user):
        return cls.flag_id.in_(select(Flag.id).where(Flag.visible_to(user)))


def number_new_flags(session: Session, _flush_context, _instances) -> None:
    """New flags and their events take their ids from PostgreSQL's sequences, one query for
    each table, and go in as one pipelined batch: inserted with RETURNING, psycopg spent seconds
    of a first check run converting the placeholders of 4,900 flags."""
    for model in (Flag, FlagEvent):
        pending = [o for o in session.new if isinstance(o, model) and o.id is None]
        for obj, new_id in zip(pending, new_ids(model.__table__, len(pending), session) or []):
            obj.id = new_id


def open_flags(kinds=None):
    query = select(Flag).where(Flag.status != "resolved")
    if kinds:
        query = query.where(Flag.kind.in_(kinds))
    return query.order_by(Flag.kind, Flag.subject)


class JobRun(db.Model):
    """One run of a scheduled job for one period (`checks` for 2024-06-30). The unique key makes
    a second scheduler, a restart or a manual run find the run already done or in hand; the
    lease, renewed while the run works, lets another process take over a run whose process died."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="running")
    owner: Mapped[str] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)
    flags_opened: Mapped[int | None] = mapped_column(Integer)
    flags_resolved: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        db.UniqueConstraint("job", "period"),
        CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status_known"),
    )

    @classmethod
    def visible_to(cls, user):
        return true() if user.role in ("admin", "lead") else false()
