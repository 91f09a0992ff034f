"""What was bought and who used it: frameworks with lots, admissions and prices; block
contracts with beds, prices and homes; placements with their weekly fees.

A framework and a block contract share one table (`contracts`, told apart by `kind`): both have
a ref, a consortium, a term and extension decisions, and placements and flags refer to either.
Money is integer pence. Nights run from a start date up to, not including, an end date.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    exists,
    false,
    select,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consortium.core.audit import Audited
from consortium.core.extensions import db
from consortium.core.formatting import money
from consortium.core.models import Authority, Cofunder, Consortium, User, current_member, utcnow
from consortium.core.money import div_half_up
from providers.models import Home, Provider

KINDS = ("framework", "block")
TIERS = ("Preferred", "Reserve", "Other")
ADMISSION_STATUSES = ("active", "suspended", "withdrawn")
NEED_LEVELS = ("standard", "complex", "high")
MAX_BEDS = 1000  # of one block contract
# What a block's price is per: a bed-week, or (short breaks, DESIGN §4c) a bed-night. A block
# priced per night keeps its prices as the night's price × 7, so every figure stays exact.
PRICED_PER = ("week", "night")
PLACEMENT_TYPES = {
    "residential": "Residential children's home",
    "residential_education": "Residential with education",
    "supported_accommodation": "Supported accommodation (16+)",
    "in_house_fostering": "In-house fostering",
    "ifa_fostering": "Independent fostering agency",
    "kinship": "Kinship care",
    "short_breaks": "Short breaks",
    "other": "Other",
}
# The Placements Data Standard's three kinds of placement, and each home provision type's kind.
CARE_TYPES = ("foster", "residential", "supported")


def care_type_of_provision(provision_type: str) -> str:
    """Which of the standard's kinds of placement a home of an Ofsted provision type gives."""
    words = provision_type.lower()
    if "foster" in words:
        return "foster"
    return "supported" if "supported" in words else "residential"


# Placement types with no home: the child lives with carers, not in a registered setting.
TYPES_WITHOUT_A_HOME = ("in_house_fostering", "kinship")


def _in_consortia_of(user, consortium_id_column):
    """Rows of a consortium the user belongs to: a lead's own, or one their authority is a member
    of today (not yet, or no longer: nothing of it)."""
    if user.role == "admin":
        return true()
    if user.role == "lead":
        return consortium_id_column == user.consortium_id
    if user.role == "partner":
        return current_member(consortium_id_column, user.authority_code)
    return false()


contract_homes = Table(
    "contract_homes",
    db.metadata,
    Column("contract_id", ForeignKey("contracts.id"), primary_key=True),
    Column("home_id", ForeignKey("homes.id"), primary_key=True),
)


class Contract(Audited, db.Model):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortia.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)  # the last day of the term
    max_end_date: Mapped[date] = mapped_column(Date)  # the latest it can be extended to
    notice_days: Mapped[int] = mapped_column(Integer, default=365)
    # Block contracts only.
    owner_code: Mapped[str | None] = mapped_column(ForeignKey("authorities.code"))  # None: the consortium owns it
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    beds: Mapped[int | None] = mapped_column(Integer)
    underuse_window_nights: Mapped[int] = mapped_column(Integer, default=28)
    underuse_threshold_percent: Mapped[int] = mapped_column(Integer, default=80)
    # A block's beds are compared (value for money) with framework placements in the lot of this
    # name ("Solo/crisis"); None: with every framework and spot placement of its type.
    compared_lot: Mapped[str | None] = mapped_column(String(120))
    # How long an invited provider has to answer a referral, by its urgency (DESIGN §4a).
    window_today_hours: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    window_soon_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    window_later_hours: Mapped[int] = mapped_column(Integer, default=72, server_default="72")
    # What the Local Government Transparency Code's contracts register asks (contracts.transparency).
    description: Mapped[str | None] = mapped_column(String(1000))
    department: Mapped[str | None] = mapped_column(String(120))
    value_pence: Mapped[int | None] = mapped_column(BigInteger)  # over the term, or estimated
    procurement_route: Mapped[str | None] = mapped_column(String(60))
    review_date: Mapped[date | None] = mapped_column(Date)
    # A block's price per bed-week, or per bed-night (its prices then hold the night's price × 7).
    priced_per: Mapped[str] = mapped_column(String(5), default="week", server_default="week")
    version: Mapped[int] = mapped_column(Integer, default=1)

    consortium: Mapped[Consortium] = relationship()
    owner: Mapped[Authority | None] = relationship()
    provider: Mapped[Provider | None] = relationship()
    homes: Mapped[list[Home]] = relationship(secondary=contract_homes, order_by="Home.urn")
    lots: Mapped[list[Lot]] = relationship(back_populates="contract", order_by="Lot.name", cascade="all, delete-orphan")
    block_prices: Mapped[list[BlockPrice]] = relationship(
        back_populates="contract", order_by="BlockPrice.effective_from", cascade="all, delete-orphan"
    )
    outages: Mapped[list[BedOutage]] = relationship(
        back_populates="contract", order_by="BedOutage.start_date", cascade="all, delete-orphan"
    )
    break_dates: Mapped[list[BreakDate]] = relationship(order_by="BreakDate.break_date", cascade="all, delete-orphan")
    decisions: Mapped[list[ExtensionDecision]] = relationship(
        back_populates="contract", order_by="ExtensionDecision.decided_at", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="kind_known"),
        CheckConstraint("end_date >= start_date AND max_end_date >= end_date", name="term_in_order"),
        CheckConstraint("kind = 'framework' OR (beds > 0 AND provider_id IS NOT NULL)", name="block_has_beds"),
        CheckConstraint(
            "underuse_threshold_percent BETWEEN 0 AND 100 AND underuse_window_nights BETWEEN 1 AND 366",
            name="underuse_settings",
        ),
        CheckConstraint("notice_days >= 0", name="notice_not_negative"),
        CheckConstraint(f"priced_per IN {PRICED_PER}", name="priced_per_known"),
        CheckConstraint(
            "window_today_hours BETWEEN 1 AND 720 AND window_soon_hours BETWEEN 1 AND 720"
            " AND window_later_hours BETWEEN 1 AND 720",
            name="windows_in_range",
        ),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "provider":
            admitted = exists(
                select(Admission.id)
                .join(Admission.lot)
                .where(Lot.contract_id == cls.id, Admission.provider_id == user.provider_id)
            )
            return (cls.provider_id == user.provider_id) | admitted
        if user.role == "cofunder":  # the contracts whose cost it shares
            return cls.id.in_(select(FundingShare.contract_id).where(FundingShare.cofunder_id == user.cofunder_id))
        return _in_consortia_of(user, cls.consortium_id)

    @property
    def is_block(self) -> bool:
        return self.kind == "block"

    def status(self, on: date) -> str:
        if on < self.start_date:
            return "Not started"
        return "Active" if on <= self.end_date else "Ended"

    def price_on(self, on: date) -> int | None:
        """A block's price per bed per week on a date, in pence."""
        for price in self.block_prices:
            if price.effective_from <= on and (price.effective_to is None or on <= price.effective_to):
                return price.weekly_pence
        return None

    @property
    def price_unit(self) -> str:
        """What the block's price is per, in words: "bed-week" or "bed-night"."""
        return "bed-night" if self.priced_per == "night" else "bed-week"

    def weekly_pence_of(self, pence: int) -> int:
        """A price given in the block's own unit as the price per bed-week it is kept as."""
        return pence * 7 if self.priced_per == "night" else pence

    def pence_in_unit(self, weekly_pence: int) -> int:
        """A kept price per bed-week in the block's own unit (a night's: ÷ 7, to the penny)."""
        return div_half_up(weekly_pence, 7) if self.priced_per == "night" else weekly_pence

    def price_label(self, weekly_pence: int | None) -> str:
        """A kept price as people read it, in the block's own unit: "£300.00 a bed-night",
        "£3,500.00 a bed-week"; empty for no price."""
        if weekly_pence is None:
            return ""
        return f"{money(self.pence_in_unit(weekly_pence))} a {self.price_unit}"

    def __str__(self) -> str:
        return f"{self.ref}: {self.title}"


class Lot(Audited, db.Model):
    __tablename__ = "lots"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The Placements Data Standard's kind of placement the lot buys: foster, residential or supported.
    care_type: Mapped[str] = mapped_column(String(12), default="residential", server_default="residential")

    contract: Mapped[Contract] = relationship(back_populates="lots")
    admissions: Mapped[list[Admission]] = relationship(back_populates="lot", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("contract_id", "name"),
        CheckConstraint(f"care_type IN {CARE_TYPES}", name="care_type_known"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))


class Admission(Audited, db.Model):
    """A provider admitted to a lot, in a tier; suspended (with reason and dates), reinstated or withdrawn."""

    __tablename__ = "admissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    tier: Mapped[str] = mapped_column(String(10), default="Other")
    status: Mapped[str] = mapped_column(String(10), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_from: Mapped[date | None] = mapped_column(Date)
    status_until: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    lot: Mapped[Lot] = relationship(back_populates="admissions")
    provider: Mapped[Provider] = relationship()
    prices: Mapped[list[Price]] = relationship(
        back_populates="admission", order_by="(Price.need_level, Price.effective_from)", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("lot_id", "provider_id"),
        CheckConstraint(f"tier IN {TIERS}", name="tier_known"),
        CheckConstraint(f"status IN {ADMISSION_STATUSES}", name="status_known"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.lot_id.in_(select(Lot.id).where(Lot.visible_to(user)))

    def price_on(self, need_level: str, on: date) -> int | None:
        for price in self.prices:
            if (
                price.need_level == need_level
                and price.effective_from <= on
                and (price.effective_to is None or on <= price.effective_to)
            ):
                return price.weekly_pence
        return None


class Price(Audited, db.Model):
    """An admission's weekly price for a need level, from one date to another (both included)."""

    __tablename__ = "prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), index=True)
    need_level: Mapped[str] = mapped_column(String(20))
    weekly_pence: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    admission: Mapped[Admission] = relationship(back_populates="prices")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("weekly_pence > 0", name="price_positive"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="dates_in_order"),
        UniqueConstraint("admission_id", "need_level", "effective_from"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.admission_id.in_(select(Admission.id).where(Admission.visible_to(user)))


class BlockPrice(Audited, db.Model):
    """A block contract's price per bed per week, from one date to another (both included)."""

    __tablename__ = "block_prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    weekly_pence: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    contract: Mapped[Contract] = relationship(back_populates="block_prices")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("weekly_pence > 0", name="price_positive"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="dates_in_order"),
        UniqueConstraint("contract_id", "effective_from"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))


class BedOutage(Audited, db.Model):
    """Beds the provider recorded as out of use: left out of capacity from start to end (not included)."""

    __tablename__ = "bed_outages"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    beds: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)

    contract: Mapped[Contract] = relationship(back_populates="outages")

    __table_args__ = (
        CheckConstraint("beds > 0", name="beds_positive"),
        CheckConstraint("end_date IS NULL OR end_date > start_date", name="dates_in_order"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))


class BreakDate(Audited, db.Model):
    __tablename__ = "break_dates"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    break_date: Mapped[date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("contract_id", "break_date"),)

    @classmethod
    def visible_to(cls, user):
        return cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))


class ExtensionDecision(Audited, db.Model):
    """A decision on a contract's end: extend to a date, or let it expire; who and when."""

    __tablename__ = "extension_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    extend_to: Mapped[date | None] = mapped_column(Date)
    previous_end_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="decisions")
    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("decision IN ('extend', 'expire')", name="decision_known"),
        CheckConstraint("(decision = 'extend') = (extend_to IS NOT NULL)", name="extend_has_date"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))


# Why a placement ended, as the SSDA903 return codes it: the reasons for a change of placement,
# then the reasons a period of care ended. Each with whether the ending was unplanned.
END_REASONS = {
    "CARPL": ("The care plan changed or was carried out", False),
    "PLACE": ("Only the placement's status changed", False),
    "LAREQ": ("The responsible authority asked for it to end", False),
    "CREQB": ("The carers asked for it to end because of the child's behaviour", True),
    "CREQO": ("The carers asked for it to end for another reason", True),
    "CHILD": ("The child asked for it to end", True),
    "ALLEG": ("An allegation (section 47 enquiry)", True),
    "STAND": ("A concern about the standards of care", True),
    "APPRR": ("The carers' approval was removed", True),
    "CLOSE": ("The provider resigned or closed", True),
    "CUSTOD": ("A custody arrangement", True),
    "OTHER": ("Another reason", False),
    "E4A": ("Care ended: returned home as the care plan intended", False),
    "E4B": ("Care ended: returned home outside the care plan", True),
    "E13": ("Care ended: to live with family or others without parental responsibility", False),
    "E5": ("Care ended: moved to supported independent living", False),
    "E6": ("Care ended: moved to independent living without formal support", False),
    "E17": ("Care ended: stayed with the carers at 18 or over (staying put)", False),
    "E3": ("Care ended: another authority took over the child's care", False),
    "E9": ("Care ended: sentenced to custody", True),
    "E8": ("Care ended for another reason", False),
}
UNPLANNED_ENDINGS = tuple(code for code, (_, unplanned) in END_REASONS.items() if unplanned)


class Placement(Audited, db.Model):
    """One child in one home for a period, made by one authority. Children are identified only by
    the placing authority's own pseudonymous reference."""

    __tablename__ = "placements"
    # Withheld in the audit log from anyone who may not see the placement (administrators).
    __audit_child_level__ = frozenset({"child_ref", "age_at_start", "need_level", "end_reason", "fee_reason"})

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"))
    child_ref: Mapped[str] = mapped_column(String(40))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))  # None: spot purchase
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    home_id: Mapped[int | None] = mapped_column(ForeignKey("homes.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)  # the day the child left; None: still open
    end_reason_code: Mapped[str | None] = mapped_column(String(6))  # of END_REASONS
    end_reason: Mapped[str | None] = mapped_column(String(200))  # a note beside the code
    need_level: Mapped[str | None] = mapped_column(String(20))
    placement_type: Mapped[str] = mapped_column(String(30))
    ssda903_code: Mapped[str | None] = mapped_column(String(4))
    age_at_start: Mapped[int | None] = mapped_column(Integer)
    distance_miles: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    # Why the first weekly fee is above the framework's price for the need level, when it is.
    fee_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)

    authority: Mapped[Authority] = relationship()
    contract: Mapped[Contract | None] = relationship()
    lot: Mapped[Lot | None] = relationship()
    home: Mapped[Home | None] = relationship()
    fees: Mapped[list[PlacementFee]] = relationship(
        back_populates="placement", order_by="PlacementFee.effective_from", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date > start_date", name="ends_after_start"),
        CheckConstraint(
            f"end_reason_code IS NULL OR end_reason_code IN {tuple(END_REASONS)}", name="end_reason_code_known"
        ),
        CheckConstraint("age_at_start IS NULL OR age_at_start BETWEEN 0 AND 25", name="age_plausible"),
        CheckConstraint("distance_miles IS NULL OR distance_miles >= 0", name="distance_not_negative"),
        # Both carry the columns the figures group by, so a period's placements are read from the index alone;
        # and (on PostgreSQL, where an index does not hold the row's key) the id, for the lists' pages.
        db.Index(
            "ix_placements_contract_dates",
            "contract_id",
            "start_date",
            "end_date",
            "authority_code",
            "placement_type",
            "home_id",
            postgresql_include=["id"],
        ),
        db.Index(
            "ix_placements_authority_dates",
            "authority_code",
            "start_date",
            "end_date",
            "placement_type",
            "contract_id",
            postgresql_include=["id"],
        ),
        db.Index("ix_placements_child", "authority_code", "child_ref", "start_date", "end_date"),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "partner":
            return cls.authority_code == user.authority_code
        if user.role == "lead":
            return cls.contract_id.in_(select(Contract.id).where(Contract.consortium_id == user.consortium_id))
        if user.role == "cofunder":  # the placements it pays towards, by their references only
            return cls.id.in_(select(Contribution.placement_id).where(Contribution.cofunder_id == user.cofunder_id))
        return false()  # administrators and providers see no child-level records

    def is_open_on(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or on < self.end_date)

    @property
    def type_name(self) -> str:
        return PLACEMENT_TYPES.get(self.placement_type, self.placement_type)

    @property
    def end_reason_name(self) -> str | None:
        return END_REASONS[self.end_reason_code][0] if self.end_reason_code in END_REASONS else None


REVIEW_OUTCOMES = {"continue": "Continue", "step_down": "Step down planned", "move": "Move planned"}


class HighCostReview(Audited, db.Model):
    """A review of a placement costing at or above the consortium's high-cost threshold (DESIGN
    §4b): one is needed at least every 183 days."""

    __tablename__ = "high_cost_reviews"
    __audit_child_level__ = frozenset({"note"})

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), index=True)
    reviewed_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(String(1000))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    placement: Mapped[Placement] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint(f"outcome IN {tuple(REVIEW_OUTCOMES)}", name="outcome_known"),)

    @classmethod
    def visible_to(cls, user):
        return cls.placement_id.in_(select(Placement.id).where(Placement.visible_to(user)))


class PlacementFee(Audited, db.Model):
    """A placement's weekly fee from a date (framework and spot placements only)."""

    __tablename__ = "placement_fees"
    __audit_child_level__ = frozenset({"weekly_pence"})

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"))
    weekly_pence: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)

    placement: Mapped[Placement] = relationship(back_populates="fees")

    __table_args__ = (
        CheckConstraint("weekly_pence > 0", name="fee_positive"),
        UniqueConstraint("placement_id", "effective_from"),
        db.Index("ix_placement_fees_placement_cover", "placement_id", "effective_from", "weekly_pence"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.placement_id.in_(select(Placement.id).where(Placement.visible_to(user)))


# ---------------------------------------------------------------- outcomes and monitoring returns

UNITS = ("percent", "count", "days", "pounds")
RETURN_STATUSES = ("draft", "submitted", "accepted", "returned")


class OutcomesFramework(Audited, db.Model):
    """A set of indicators: a template to start from, or the one a contract uses (a copy of a
    template, whose thresholds may then be changed for that contract alone)."""

    __tablename__ = "outcomes_frameworks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), unique=True)  # None: a template
    applies_from: Mapped[date | None] = mapped_column(Date)  # None: from the contract's start
    due_days: Mapped[int] = mapped_column(Integer, default=30)

    contract: Mapped[Contract | None] = relationship()
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="outcomes_framework", order_by="Indicator.position", cascade="all, delete-orphan"
    )

    __table_args__ = (CheckConstraint("due_days BETWEEN 0 AND 365", name="due_days_range"),)

    @classmethod
    def visible_to(cls, user):
        return cls.contract_id.is_(None) | cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))

    def first_day(self) -> date:
        return self.applies_from or self.contract.start_date


class Indicator(Audited, db.Model):
    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    outcomes_framework_id: Mapped[int] = mapped_column(ForeignKey("outcomes_frameworks.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(10))
    higher_is_better: Mapped[bool] = mapped_column(default=True)
    target: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    amber: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    red: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    guidance: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    outcomes_framework: Mapped[OutcomesFramework] = relationship(back_populates="indicators")

    __table_args__ = (
        UniqueConstraint("outcomes_framework_id", "code"),
        CheckConstraint(f"unit IN {UNITS}", name="unit_known"),
        # The red threshold is beyond the amber one, in the direction that is worse.
        CheckConstraint(
            "(higher_is_better AND red <= amber) OR (NOT higher_is_better AND red >= amber)", name="thresholds_in_order"
        ),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.outcomes_framework_id.in_(select(OutcomesFramework.id).where(OutcomesFramework.visible_to(user)))

    def rag(self, value: Decimal | None) -> str | None:
        """Red, amber or green for a value (DESIGN §4); the target does not set the colour."""
        if value is None:
            return None
        if self.higher_is_better:
            return "red" if value < self.red else "amber" if value < self.amber else "green"
        return "red" if value > self.red else "amber" if value > self.amber else "green"


class ReturnObligation(db.Model):
    """A home had a child placed under a framework contract during a quarter, so its provider owes
    that quarter's return. Derived from placements (`contracts.returns.refresh_obligations`, kept
    current at every flush) so that who owes what is not worked out from years of placements on
    every page. The home's provider is kept beside it by the database: a new provider cascades."""

    __tablename__ = "return_obligations"

    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), primary_key=True)
    quarter_start: Mapped[date] = mapped_column(Date, primary_key=True)
    home_id: Mapped[int] = mapped_column(primary_key=True, index=True)
    provider_id: Mapped[int] = mapped_column(Integer)
    quarter_end: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        ForeignKeyConstraint(["home_id", "provider_id"], ["homes.id", "homes.provider_id"], onupdate="CASCADE"),
        # Who owes which quarter's return, read in order from the index alone.
        db.Index("ix_return_obligations_owed", "contract_id", "quarter_start", "provider_id", "quarter_end"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))


class BlockNight(db.Model):
    """One night of a block contract's term: its capacity, the beds occupied and the price in
    force. Derived from its placements, beds out of use and prices (`contracts.summaries`),
    kept current at every flush, so that a year's occupancy is a sum, not a join of every
    placement to every night."""

    __tablename__ = "block_nights"

    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)  # beds less beds out of use, never below 0
    occupied: Mapped[int] = mapped_column(Integer)  # placements that night, at most the capacity
    price: Mapped[int] = mapped_column(Integer)  # per bed per week, pence; 0 with no price in force

    @classmethod
    def visible_to(cls, user):
        return cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))


class UsageSeries(db.Model):
    """The placements of one authority of one type under one consortium's contracts (or spot
    purchased, consortium None): the key of the running totals in `usage_days`. Derived from
    placements (`contracts.summaries`), kept current at every flush."""

    __tablename__ = "usage_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int | None] = mapped_column(ForeignKey("consortia.id"))
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"))
    placement_type: Mapped[str] = mapped_column(String(30))

    __table_args__ = (
        UniqueConstraint("authority_code", "placement_type", "consortium_id"),
        db.Index(
            "uq_usage_series_spot",
            "authority_code",
            "placement_type",
            unique=True,
            sqlite_where=text("consortium_id IS NULL"),
            postgresql_where=text("consortium_id IS NULL"),
        ),
        db.Index("ix_usage_series_consortium", "consortium_id"),
    )

    @classmethod
    def visible_to(cls, user):
        # The same rows as the placements they sum (`Placement.visible_to`).
        if user.role == "partner":
            return cls.authority_code == user.authority_code
        if user.role == "lead":
            return cls.consortium_id == user.consortium_id
        return false()


class UsageDay(db.Model):
    """A series' running totals after the day's changes, on each day on which a placement
    started or ended or a fee began or stopped. Levels hold for that night and every night up to
    the next change. For a level q with changes dq on days e, the nights up to and including
    night X sum to (n(X) + 1) x q - sum(dq x n(e)), where n is a day's number counted from
    `summaries.DAY_ZERO`: the second term is kept as `*_days`, so any period's nights and spend
    are read from two rows."""

    __tablename__ = "usage_days"

    # No foreign key: the rows are written with their series by one function, and checking one per
    # row made working everything out again much slower on PostgreSQL (docs/performance.md).
    series_id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    placed: Mapped[int] = mapped_column(Integer)  # placements open that night
    known: Mapped[int] = mapped_column(Integer)  # of them, with a distance recorded
    within: Mapped[int] = mapped_column(Integer)  # of them, within 20 miles of home
    started: Mapped[int] = mapped_column(Integer)  # placements started so far (up to and including the day)
    started_known: Mapped[int] = mapped_column(Integer)
    started_within: Mapped[int] = mapped_column(Integer)
    paying: Mapped[int] = mapped_column(Integer)  # framework and spot placements with a fee that night
    paying_days: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[int] = mapped_column(BigInteger)  # their weekly fees, pence
    rate_days: Mapped[int] = mapped_column(BigInteger)

    @classmethod
    def visible_to(cls, user):
        return cls.series_id.in_(select(UsageSeries.id).where(UsageSeries.visible_to(user)))


class MonitoringReturn(Audited, db.Model):
    """What one provider owes for one contract and quarter, and where it stands."""

    __tablename__ = "monitoring_returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))  # 2024-Q1: April to June 2024
    quarter_start: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    submitted_on: Mapped[date | None] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(default=False)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_comment: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    contract: Mapped[Contract] = relationship()
    provider: Mapped[Provider] = relationship()
    reviewed_by: Mapped[User | None] = relationship()
    versions: Mapped[list[ReturnVersion]] = relationship(
        back_populates="monitoring_return", order_by="ReturnVersion.number", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("contract_id", "provider_id", "period"),
        CheckConstraint(f"status IN {RETURN_STATUSES}", name="status_known"),
        # A return owed is looked up by its quarter: the index answers with the status alone.
        db.Index("ix_monitoring_returns_owed", "contract_id", "provider_id", "quarter_start", "status"),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "provider":
            return cls.provider_id == user.provider_id
        return cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))

    @property
    def current(self) -> ReturnVersion | None:
        return self.versions[-1] if self.versions else None


class ReturnVersion(db.Model):
    """One version of a return's values: the provider's draft, then each submission. Kept for good."""

    __tablename__ = "return_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("monitoring_returns.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    submitted_on: Mapped[date | None] = mapped_column(Date)  # None: still a draft
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)  # why it was returned, if it was

    monitoring_return: Mapped[MonitoringReturn] = relationship(back_populates="versions")
    submitted_by: Mapped[User | None] = relationship()
    values: Mapped[list[ReturnValue]] = relationship(back_populates="version", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("return_id", "number"),)

    @classmethod
    def visible_to(cls, user):
        return cls.return_id.in_(select(MonitoringReturn.id).where(MonitoringReturn.visible_to(user)))

    def value_of(self, indicator_id: int):
        return next((v for v in self.values if v.indicator_id == indicator_id), None)


class ReturnValue(db.Model):
    __tablename__ = "return_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("return_versions.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), index=True)
    value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    comment: Mapped[str | None] = mapped_column(Text)

    version: Mapped[ReturnVersion] = relationship(back_populates="values")
    indicator: Mapped[Indicator] = relationship()

    __table_args__ = (UniqueConstraint("version_id", "indicator_id"),)

    @classmethod
    def visible_to(cls, user):
        return cls.version_id.in_(select(ReturnVersion.id).where(ReturnVersion.visible_to(user)))


# ---------------------------------------------------------------- co-funding (DESIGN §4c)

BASIS_POINTS = 10_000  # a percentage is held as hundredths of a per cent: 25.5% is 2550


class Contribution(Audited, db.Model):
    """A co-funder's share of a placement's weekly fee, from one night to another (both
    included; no last night: until the placement ends): a percentage, or a fixed amount a week.
    Changing a share ends one and adds another, so the history stays."""

    __tablename__ = "contributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), index=True)
    cofunder_id: Mapped[int] = mapped_column(ForeignKey("cofunders.id"), index=True)
    basis_points: Mapped[int | None] = mapped_column(Integer)  # of the weekly fee
    weekly_pence: Mapped[int | None] = mapped_column(Integer)  # a fixed amount a week
    first_night: Mapped[date] = mapped_column(Date)
    last_night: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    placement: Mapped[Placement] = relationship()
    cofunder: Mapped[Cofunder] = relationship()

    __table_args__ = (
        CheckConstraint(
            "(basis_points IS NULL) <> (weekly_pence IS NULL)"
            f" AND (basis_points IS NULL OR basis_points BETWEEN 1 AND {BASIS_POINTS})"
            " AND (weekly_pence IS NULL OR weekly_pence > 0)",
            name="one_share",
        ),
        CheckConstraint("last_night IS NULL OR last_night >= first_night", name="nights_in_order"),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "cofunder":
            return cls.cofunder_id == user.cofunder_id
        return cls.placement_id.in_(select(Placement.id).where(Placement.visible_to(user)))

    @property
    def percent(self) -> Decimal | None:
        return None if self.basis_points is None else Decimal(self.basis_points) / 100

    def covers(self, night: date) -> bool:
        return self.first_night <= night and (self.last_night is None or night <= self.last_night)


class FundingShare(Audited, db.Model):
    """An agreed percentage of a contract's cost for one member authority or co-funder, from a
    date: the shares given from one date add up to 100% (DESIGN §4c)."""

    __tablename__ = "funding_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    authority_code: Mapped[str | None] = mapped_column(ForeignKey("authorities.code"))
    cofunder_id: Mapped[int | None] = mapped_column(ForeignKey("cofunders.id"))
    basis_points: Mapped[int] = mapped_column(Integer)

    contract: Mapped[Contract] = relationship()
    authority: Mapped[Authority | None] = relationship()
    cofunder: Mapped[Cofunder | None] = relationship()

    __table_args__ = (
        CheckConstraint("(authority_code IS NULL) <> (cofunder_id IS NULL)", name="one_payer"),
        CheckConstraint(f"basis_points BETWEEN 0 AND {BASIS_POINTS}", name="share_in_range"),
        UniqueConstraint("contract_id", "effective_from", "authority_code", "cofunder_id"),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "cofunder":
            return cls.cofunder_id == user.cofunder_id
        return cls.contract_id.in_(select(Contract.id).where(Contract.visible_to(user)))

    @property
    def percent(self) -> Decimal:
        return Decimal(self.basis_points) / 100

    @property
    def payer_name(self) -> str:
        return self.authority.name if self.authority_code else self.cofunder.name
