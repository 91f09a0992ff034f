"""Referrals, the invitations the service sends for them, providers' offers, and vacancies
(DESIGN §4a).

A referral's needs and risks are the most sensitive data the service holds: the fields are the
national Placements Data Standard's (v2) and nothing more, its free text only the standard's
"Other" fields. Who may see a referral is `Referral.visible_to`: the placing authority, the
consortium's leads, and a provider only while it is invited.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    exists,
    false,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consortium.core.audit import Audited
from consortium.core.extensions import db
from consortium.core.models import Authority, Consortium, User, current_member, utcnow
from contracts.models import Admission, Contract, Lot, Placement
from providers.models import Home, Provider

STATUSES = ("draft", "open", "placed", "withdrawn", "unmet")
# PDS neededBy, worked out from the needed-by date against the day the referral opens.
URGENCIES = ("Today", "< 5 days", "> 5 days")
SUITABILITY = ("Preferred", "Suitable but not preferred", "Unsuitable", "Not specified")
SUITS = ("Preferred", "Suitable but not preferred")
# The standard's three kinds of placement, each with the referral's column that says how it suits.
CARE_TYPES = {
    "foster": ("Foster care", "foster_suitability"),
    "residential": ("Residential care", "residential_suitability"),
    "supported": ("Supported accommodation", "supported_suitability"),
}
SEXES = ("Female", "Male")
COMMUNICATION_NEEDS = ("Y", "N", "Not Specified")
# The standard's codes as a person reads them.
COMMUNICATION_SHOWN = {"Y": "Yes", "N": "No", "Not Specified": "Not specified"}
SPECIFIC_COMMUNICATION = ("ESOL", "BSL", "Makaton", "Other", "None")
CULTURAL_NEEDS = ("Required", "Not required", "Not Known", "Other")
LIVING_COMPANIONS = (
    "Solo placement recommended",
    "With other children recommended",
    "Only with other older children",
    "Only with other younger children",
    "No preference",
)
PETS = ("Yes - must", "Yes - can", "No", "Not Known")
ADDITIONAL_SUPPORT = (
    "additional supervision",
    "therapeutic support",
    "a worker for respite",
    "taxis to school",
    "NA",
    "other (please specify)",
)
# The eleven risks: column, the standard's field name, and what a person reads.
RISKS = (
    ("risk_self_harm", "riskSelfHarm", "Risk to the child: self-harm"),
    ("risk_sexual_exploitation", "riskSexualExploitation", "Risk to the child: sexual exploitation"),
    ("risk_criminal_exploitation", "riskCriminalExploitation", "Risk to the child: criminal exploitation"),
    ("risk_drug_alcohol", "riskDrugAlcohol", "Risk to the child: drug and alcohol use"),
    ("risk_eating_disorder", "riskEatingDisorder", "Risk to the child: eating disorder"),
    ("risk_missing", "riskMissing", "Risk to the child: going missing"),
    ("risk_to_others_physical", "riskToOthersPhysical", "Risk to others or property: physical harm"),
    ("risk_to_others_sexual", "riskToOthersSexual", "Risk to others or property: sexual harm"),
    ("risk_to_others_fire", "riskToOthersFire", "Risk to others or property: fire-setting"),
    ("risk_to_others_animals", "riskToOthersAnimals", "Risk to others or property: harm to animals"),
    ("risk_to_others_criminal", "riskToOthersCriminal", "Risk to others or property: criminal exploitation"),
)
RISK_VALUES = ("No known risk", "Risk Present")
UNMET_REASONS = ("No suitable offer", "No provider had a vacancy", "Plans changed", "Other")
INVITATION_STATUSES = ("invited", "offered", "declined", "no_response", "closed")
DECLINE_REASONS = ("No vacancy", "Cannot meet needs", "Risks", "Location", "Other")
OFFER_STATUSES = ("standing", "withdrawn", "lapsed", "accepted", "not_selected")
# Block invitations come first; framework tiers after, in this order.
STAGES = ("Block", "Preferred", "Reserve", "Other")


class Referral(Audited, db.Model):
    """A request for a placement for one child, from the placing authority (DESIGN §4a)."""

    __tablename__ = "referrals"
    # Needs, risks and the child's reference: withheld in the audit log from anyone who may not see them.
    __audit_child_level__ = frozenset(
        {
            "child_ref",
            "age_in_years",
            "sex",
            "communication_needs",
            "specific_communication",
            "home_adaptation",
            "cultural_needs",
            "living_companions",
            "pets",
            "additional_support",
            "additional_support_other",
            "deprivation_of_liberty",
            "risk_other",
            "risk_to_others_other",
            *(column for column, _, _ in RISKS),
        }
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortia.id"), index=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"), index=True)
    # Numbered when opened: EMRF-R-2026-0042, per consortium and year.
    number: Mapped[str | None] = mapped_column(String(30), unique=True)
    year: Mapped[int | None] = mapped_column(Integer)
    sequence: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    child_ref: Mapped[str] = mapped_column(String(40))
    age_in_years: Mapped[int] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(10))  # only where it matters for matching
    needed_by: Mapped[date | None] = mapped_column(Date)
    urgency: Mapped[str | None] = mapped_column(String(10))  # set when opened
    # The search (DESIGN §4a): the last stage invited, and when its window ends, so that the
    # next is invited then if no offer stands. None: every stage has been invited.
    stage: Mapped[str | None] = mapped_column(String(10))
    next_stage_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    need_level: Mapped[str] = mapped_column(String(20), default="standard")
    foster_suitability: Mapped[str] = mapped_column(String(30), default="Not specified")
    residential_suitability: Mapped[str] = mapped_column(String(30), default="Not specified")
    supported_suitability: Mapped[str] = mapped_column(String(30), default="Not specified")
    sibling_count: Mapped[int] = mapped_column(Integer, default=0)
    local_preferred: Mapped[bool] = mapped_column(Boolean, default=True)
    out_of_area_reason: Mapped[str | None] = mapped_column(String(200))
    communication_needs: Mapped[str] = mapped_column(String(20), default="Not Specified")
    specific_communication: Mapped[str] = mapped_column(String(60), default="None")  # the options, ";" between
    home_adaptation: Mapped[bool] = mapped_column(Boolean, default=False)
    cultural_needs: Mapped[str] = mapped_column(String(20), default="Not Known")
    living_companions: Mapped[str] = mapped_column(String(40), default="No preference")
    pets: Mapped[str] = mapped_column(String(20), default="Not Known")
    additional_support: Mapped[str] = mapped_column(String(30), default="NA")
    additional_support_other: Mapped[str | None] = mapped_column(String(200))
    deprivation_of_liberty: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_self_harm: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_sexual_exploitation: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_criminal_exploitation: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_drug_alcohol: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_eating_disorder: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_other: Mapped[str | None] = mapped_column(String(200))
    risk_to_others_physical: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_to_others_sexual: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_to_others_fire: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_to_others_animals: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_to_others_criminal: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_to_others_other: Mapped[str | None] = mapped_column(String(200))
    max_weekly_pence: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_reason: Mapped[str | None] = mapped_column(String(300))
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placements.id"))
    # Why a framework or spot placement was chosen while a block offer stood (counted on the dashboard).
    passed_block_reason: Mapped[str | None] = mapped_column(String(500))
    spot_reason: Mapped[str | None] = mapped_column(String(500))
    # Why an offer was accepted whose home had since been judged Inadequate.
    inadequate_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)

    consortium: Mapped[Consortium] = relationship()
    authority: Mapped[Authority] = relationship()
    created_by: Mapped[User | None] = relationship()
    placement: Mapped[Placement | None] = relationship()
    invitations: Mapped[list[ReferralInvitation]] = relationship(
        back_populates="referral", order_by="ReferralInvitation.id", cascade="all, delete-orphan"
    )
    offers: Mapped[list[Offer]] = relationship(back_populates="referral", order_by="Offer.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status_known"),
        CheckConstraint("age_in_years BETWEEN 0 AND 25", name="age_plausible"),
        CheckConstraint("sibling_count BETWEEN 0 AND 20", name="siblings_plausible"),
        CheckConstraint("max_weekly_pence IS NULL OR max_weekly_pence > 0", name="max_fee_positive"),
        CheckConstraint("status = 'draft' OR number IS NOT NULL", name="numbered_once_open"),
        UniqueConstraint("consortium_id", "year", "sequence"),
        db.Index("ix_referrals_status", "consortium_id", "status", "needed_by"),
        db.Index("ix_referrals_next_stage", "status", "next_stage_at"),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "partner":
            return (cls.authority_code == user.authority_code) & current_member(cls.consortium_id, user.authority_code)
        if user.role == "lead":
            return cls.consortium_id == user.consortium_id
        if user.role == "provider":
            # Only while invited, and only once opened; after it closes, the number and outcome
            # are read through the invitation, never the referral's needs.
            return (cls.status == "open") & exists(
                select(ReferralInvitation.id).where(
                    ReferralInvitation.referral_id == cls.id,
                    ReferralInvitation.provider_id == user.provider_id,
                    ReferralInvitation.status.in_(("invited", "offered")),
                )
            )
        return false()

    @property
    def care_types(self) -> list[str]:
        """The standard's placement types that suit, Preferred first."""
        ranked = sorted(
            (SUITS.index(getattr(self, column)), kind)
            for kind, (_, column) in CARE_TYPES.items()
            if getattr(self, column) in SUITS
        )
        return [kind for _, kind in ranked]

    @property
    def risks_present(self) -> list[str]:
        return [label for column, _, label in RISKS if getattr(self, column)]

    @property
    def label(self) -> str:
        return self.number or f"Draft referral {self.id}"

    def __str__(self) -> str:
        return self.label


class ReferralInvitation(Audited, db.Model):
    """A provider asked to answer a referral by a deadline: from a block (stage `Block`) or a
    framework tier. Unanswered at the deadline, it becomes `no_response`."""

    __tablename__ = "referral_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admissions.id"))
    stage: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12), default="invited")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decline_reason: Mapped[str | None] = mapped_column(String(30))
    decline_note: Mapped[str | None] = mapped_column(String(300))

    referral: Mapped[Referral] = relationship(back_populates="invitations")
    provider: Mapped[Provider] = relationship()
    contract: Mapped[Contract] = relationship()
    admission: Mapped[Admission | None] = relationship()

    __table_args__ = (
        UniqueConstraint("referral_id", "provider_id", "contract_id"),
        CheckConstraint(f"status IN {INVITATION_STATUSES}", name="status_known"),
        CheckConstraint(f"stage IN {STAGES}", name="stage_known"),
        db.Index("ix_referral_invitations_due", "status", "deadline"),
        db.Index("ix_referral_invitations_provider", "provider_id", "status", "deadline"),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "provider":
            return cls.provider_id == user.provider_id
        return cls.referral_id.in_(select(Referral.id).where(Referral.visible_to(user)))

    @property
    def is_block(self) -> bool:
        return self.stage == "Block"


class Offer(Audited, db.Model):
    """A provider's answer with a home: start date, need level and the weekly fee in the
    standard's four parts (PDS ActualPlacement), valid until a time."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("referral_invitations.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    home_id: Mapped[int] = mapped_column(ForeignKey("homes.id"))
    is_block: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date] = mapped_column(Date)
    need_level: Mapped[str] = mapped_column(String(20))
    core_pence: Mapped[int] = mapped_column(Integer, default=0)
    additional_support_pence: Mapped[int] = mapped_column(Integer, default=0)
    education_pence: Mapped[int] = mapped_column(Integer, default=0)
    other_pence: Mapped[int] = mapped_column(Integer, default=0)
    total_pence: Mapped[int] = mapped_column(Integer)
    framework_price_pence: Mapped[int | None] = mapped_column(Integer)  # for the need level on the start date
    above_framework_price: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12), default="standing")
    made_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    made_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    referral: Mapped[Referral] = relationship(back_populates="offers")
    invitation: Mapped[ReferralInvitation] = relationship()
    provider: Mapped[Provider] = relationship()
    contract: Mapped[Contract] = relationship()
    home: Mapped[Home] = relationship()

    __table_args__ = (
        CheckConstraint(f"status IN {OFFER_STATUSES}", name="status_known"),
        CheckConstraint(
            "core_pence >= 0 AND additional_support_pence >= 0 AND education_pence >= 0 AND other_pence >= 0",
            name="parts_not_negative",
        ),
        CheckConstraint(
            "total_pence = core_pence + additional_support_pence + education_pence + other_pence",
            name="total_adds_up",
        ),
        # One standing offer per invitation: a provider changes its offer by withdrawing it.
        db.Index(
            "uq_offers_standing",
            "invitation_id",
            unique=True,
            sqlite_where=db.text("status = 'standing'"),
            postgresql_where=db.text("status = 'standing'"),
        ),
        db.Index("ix_offers_block_standing", "contract_id", "status"),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "provider":
            return cls.provider_id == user.provider_id
        return cls.referral_id.in_(select(Referral.id).where(Referral.visible_to(user)))


class Vacancy(Audited, db.Model):
    """A provider's published vacancy in a framework home; it lapses 14 days after it was last
    confirmed (`vacancies.LAPSE_DAYS`). Block voids are never typed: they come from the nights."""

    __tablename__ = "vacancies"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("homes.id"), index=True)
    beds: Mapped[int] = mapped_column(Integer)
    available_from: Mapped[date] = mapped_column(Date)
    available_until: Mapped[date | None] = mapped_column(Date)
    care_types: Mapped[str] = mapped_column(String(40))  # of CARE_TYPES, ";" between
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int] = mapped_column(Integer)
    confirmed_on: Mapped[date] = mapped_column(Date)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    provider: Mapped[Provider] = relationship()
    home: Mapped[Home] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("beds BETWEEN 1 AND 100", name="beds_plausible"),
        CheckConstraint("min_age BETWEEN 0 AND 25 AND max_age BETWEEN min_age AND 25", name="ages_in_order"),
        CheckConstraint("available_until IS NULL OR available_until >= available_from", name="dates_in_order"),
        db.Index("ix_vacancies_board", "withdrawn", "confirmed_on"),
    )

    @classmethod
    def visible_to(cls, user):
        """A provider's own; for a consortium's officers, those of the providers admitted to
        its frameworks (a vacancy is published for the frameworks the provider is on)."""
        if user.role == "provider":
            return cls.provider_id == user.provider_id
        if user.role == "lead":
            ours = Contract.consortium_id == user.consortium_id
        elif user.role == "partner":
            ours = current_member(Contract.consortium_id, user.authority_code)
        else:
            return false()
        return exists(
            select(Admission.id)
            .join(Lot, Lot.id == Admission.lot_id)
            .join(Contract, Contract.id == Lot.contract_id)
            .where(Admission.provider_id == cls.provider_id, Admission.status == "active", ours)
        )

    @property
    def types(self) -> list[str]:
        return [t for t in self.care_types.split(";") if t]
