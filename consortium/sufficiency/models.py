"""The forecasts and stability figures the nightly job works out, kept for the day they were made."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from consortium.core.extensions import db
from consortium.core.models import utcnow


class SufficiencySnapshot(db.Model):
    """One scope's forecast of one placement type (or, with no type, its stability) as of a day,
    as JSON. A forecast is of a day, not of the data now: it is made once a night, after the
    checks, and read by the sufficiency page; it never needs changing when a placement does."""

    __tablename__ = "sufficiency_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(20))  # "consortium:3" or "authority:E06000018"
    placement_type: Mapped[str] = mapped_column(String(30))  # "" for the stability figures
    as_of: Mapped[date] = mapped_column(Date)
    payload: Mapped[str] = mapped_column(Text)
    made_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("scope_key", "placement_type", "as_of"),)

    @classmethod
    def visible_to(cls, user):
        return true()  # read only through a scope the page has already checked the user may see
