"""A partner's budget for a financial year and placement type."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from consortium.core.audit import Audited
from consortium.core.extensions import db


class Budget(Audited, db.Model):
    __tablename__ = "budgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"), index=True)
    financial_year: Mapped[int] = mapped_column(Integer)  # 2024 is April 2024 to March 2025
    placement_type: Mapped[str] = mapped_column(String(30))
    weeks: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_cost_pence: Mapped[int] = mapped_column(Integer)  # per placement-week
    # What co-funders are expected to pay towards the year's placements of the type (DESIGN §4c).
    contributions_pence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    __table_args__ = (
        UniqueConstraint("authority_code", "financial_year", "placement_type"),
        CheckConstraint("weeks >= 0 AND unit_cost_pence >= 0", name="not_negative"),
        CheckConstraint("contributions_pence >= 0", name="contributions_not_negative"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.authority_code == user.authority_code if user.role == "partner" else false()
