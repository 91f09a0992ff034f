"""Provider organisations, their homes, Ofsted inspections and the rating scale.

The scale is data: each judgement is a row with a rank (1 best) and whether it is graded, so a
reformed Ofsted scale is added as rows, not code.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    event,
    insert,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consortium.core.audit import Audited
from consortium.core.extensions import db

# Today's scale, the older "Adequate", the ungraded "Not yet inspected" and the interim outcomes.
# (name, scale, rank, graded, declines)
STANDARD_JUDGEMENTS = [
    ("Outstanding", "overall", 1, True, False),
    ("Good", "overall", 2, True, False),
    ("Requires improvement to be good", "overall", 3, True, False),
    ("Adequate", "overall", 3, True, False),
    ("Inadequate", "overall", 4, True, False),
    ("Not yet inspected", "overall", None, False, False),
    ("Improved effectiveness", "interim", None, False, False),
    ("Sustained effectiveness", "interim", None, False, False),
    ("Declined in effectiveness", "interim", None, False, True),
]


class Judgement(db.Model):
    """One point of a rating scale. Lower rank is better; ungraded outcomes have no rank."""

    __tablename__ = "judgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    scale: Mapped[str] = mapped_column(String(40))
    rank: Mapped[int | None] = mapped_column(Integer)
    graded: Mapped[bool] = mapped_column(Boolean)
    # An interim outcome that itself is a drop in quality ("Declined in effectiveness").
    declines: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        CheckConstraint("(graded AND rank IS NOT NULL) OR (NOT graded AND rank IS NULL)", name="rank_if_graded"),
    )

    @classmethod
    def visible_to(cls, user):
        return true()

    def __str__(self) -> str:
        return self.name


def _insert_standard_judgements(target, connection, **_):
    connection.execute(
        insert(target),
        [dict(zip(("name", "scale", "rank", "graded", "declines"), row)) for row in STANDARD_JUDGEMENTS],
    )


# A schema built from the models (the SQLite test database) gets the scale too; the migration
# inserts the same rows.
event.listen(Judgement.__table__, "after_create", _insert_standard_judgements)


class Provider(Audited, db.Model):
    """An organisation that runs homes (Ofsted's "Organisation which owns the provider")."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    companies_house_number: Mapped[str | None] = mapped_column(String(8))
    contact_name: Mapped[str | None] = mapped_column(String(120))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # For the Transparency Code's register: None where nobody has said.
    sme: Mapped[bool | None] = mapped_column(Boolean)
    voluntary: Mapped[bool | None] = mapped_column(Boolean)

    aliases: Mapped[list[ProviderAlias]] = relationship(
        back_populates="provider", order_by="ProviderAlias.name", cascade="all, delete-orphan"
    )
    homes: Mapped[list[Home]] = relationship(back_populates="provider", order_by="Home.urn")

    @classmethod
    def visible_to(cls, user):
        # Provider quality is shared data: every commissioner sees every provider; a provider's
        # staff see their own organisation only.
        if user.role == "provider":
            return cls.id == user.provider_id
        return true()

    def __str__(self) -> str:
        return self.name


class ProviderAlias(Audited, db.Model):
    """A former name of a provider, so files that still use it match the same organisation."""

    __tablename__ = "provider_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)

    provider: Mapped[Provider] = relationship(back_populates="aliases")

    @classmethod
    def visible_to(cls, user):
        return cls.provider_id.in_(select(Provider.id).where(Provider.visible_to(user)))


class Home(Audited, db.Model):
    """One registered place of care, keyed by its Ofsted URN."""

    __tablename__ = "homes"

    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[str] = mapped_column(String(10), unique=True)
    # Ofsted publishes children's homes' names as REDACTED: such a home has no name until
    # someone gives it one, and is shown by its URN and local authority.
    name: Mapped[str | None] = mapped_column(String(200))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    provision_type: Mapped[str] = mapped_column(String(120))
    sector: Mapped[str | None] = mapped_column(String(60))
    local_authority: Mapped[str] = mapped_column(String(120), index=True)
    postcode: Mapped[str | None] = mapped_column(String(10))
    registered_places: Mapped[int | None] = mapped_column(Integer)
    registration_status: Mapped[str] = mapped_column(String(40))
    registration_date: Mapped[date | None] = mapped_column(Date)
    web_link: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))

    provider: Mapped[Provider] = relationship(back_populates="homes")
    inspections: Mapped[list[Inspection]] = relationship(
        back_populates="home", order_by="Inspection.inspection_date", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("registered_places IS NULL OR registered_places >= 0", name="places_not_negative"),
        # A home and its provider as one key: rows that name both follow a change of provider
        # (a foreign key ON UPDATE CASCADE to this).
        db.Index("uq_homes_id_provider_id", "id", "provider_id", unique=True),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "provider":
            return cls.provider_id == user.provider_id
        return true()

    @property
    def display_name(self) -> str:
        return self.name or f"{self.urn} ({self.local_authority})"

    @property
    def with_urn(self) -> str:
        """Its name and URN, once each: "Willow House (SC910001)", or "SC940403 (Plymouth)"."""
        return f"{self.name} ({self.urn})" if self.name else self.display_name

    def __str__(self) -> str:
        return self.display_name


class Inspection(Audited, db.Model):
    """An Ofsted event on a home: its date, type and overall judgement."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    home_id: Mapped[int] = mapped_column(ForeignKey("homes.id"), index=True)
    inspection_date: Mapped[date] = mapped_column(Date)
    event_type: Mapped[str | None] = mapped_column(String(80))
    judgement_id: Mapped[int] = mapped_column(ForeignKey("judgements.id"))
    publication_date: Mapped[date | None] = mapped_column(Date)

    home: Mapped[Home] = relationship(back_populates="inspections")
    judgement: Mapped[Judgement] = relationship()

    __table_args__ = (UniqueConstraint("home_id", "inspection_date"),)

    @classmethod
    def visible_to(cls, user):
        return cls.home_id.in_(select(Home.id).where(Home.visible_to(user)))


class PostcodeDistrict(db.Model):
    """A postcode district's centroid (`flask import postcodes`): a home's point for distances,
    from its postcode's outward code. Reference data a council downloads itself (ONS)."""

    __tablename__ = "postcode_districts"

    district: Mapped[str] = mapped_column(String(4), primary_key=True)
    latitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))

    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180", name="point_on_earth"),
    )

    @classmethod
    def visible_to(cls, user):
        return true()
