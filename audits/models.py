"""Flags: what a check found that needs a person.

A flag keeps its figures as fields, not only as text, so pages, exports and later checks can
use them. At most one flag of a kind per subject is open (not resolved) at a time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consortium.extensions import db
from consortium.models import utcnow
from providers.models import Home, Inspection, Provider

KINDS = {
    "quality_drop": "Quality drop",
}
# Kinds about provider quality, which is shared data: every commissioner sees these flags.
SHARED_KINDS = ("quality_drop",)
SEVERITIES = ("low", "medium", "high")
STATUSES = ("open", "acknowledged", "resolved")


class Flag(db.Model):
    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # What the flag is about, as people and the CSV output name it: a home's URN or a contract's ref.
    subject: Mapped[str] = mapped_column(String(60))
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

    home: Mapped[Home | None] = relationship()
    provider: Mapped[Provider | None] = relationship()
    inspection: Mapped[Inspection | None] = relationship()

    __table_args__ = (
        CheckConstraint(f"severity IN {SEVERITIES}", name="severity_known"),
        CheckConstraint(f"status IN {STATUSES}", name="status_known"),
        # One open flag per kind and subject.
        Index(
            "uq_flags_open_subject", "kind", "subject", unique=True,
            sqlite_where=text("status <> 'resolved'"), postgresql_where=text("status <> 'resolved'"),
        ),
        # The same inspection never opens a second flag of a kind.
        Index("uq_flags_kind_inspection", "kind", "inspection_id", unique=True),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "provider":
            return cls.provider_id == user.provider_id
        return cls.kind.in_(SHARED_KINDS)

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    @property
    def kind_name(self) -> str:
        return KINDS.get(self.kind, self.kind)


def open_flags(kinds=None):
    query = select(Flag).where(Flag.status != "resolved")
    if kinds:
        query = query.where(Flag.kind.in_(kinds))
    return query.order_by(Flag.kind, Flag.subject)
