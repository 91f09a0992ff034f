"""One factory per model. Objects are flushed into the test's transaction, never committed."""

from datetime import date

import factory
from argon2 import PasswordHasher
from factory.alchemy import SQLAlchemyModelFactory

from audits.models import Flag
from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from consortium.core.models import Authority, Cofunder, Consortium, Membership, User
from consortium.core.uploads import Upload
from contracts.models import (
    Admission,
    BedOutage,
    BlockPrice,
    BreakDate,
    Contract,
    ExtensionDecision,
    Lot,
    Placement,
    PlacementFee,
    Price,
)
from providers.models import Home, Inspection, Judgement, Provider, ProviderAlias

PASSWORD = "correct-horse-battery"
# Hashed once at the production cost; every factory user shares it.
PASSWORD_HASH = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1).hash(PASSWORD)


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731  (the test's session, swapped per test)
        sqlalchemy_session_persistence = "flush"


class AuthorityFactory(Base):
    class Meta:
        model = Authority

    code = factory.Sequence(lambda n: f"E0{n + 9000000:07d}")
    name = factory.Sequence(lambda n: f"Authority {n}")
    region = "East Midlands"


class ConsortiumFactory(Base):
    class Meta:
        model = Consortium

    ref = factory.Sequence(lambda n: f"C{n}")
    name = factory.Sequence(lambda n: f"Consortium {n}")
    lead = factory.SubFactory(AuthorityFactory)

    @factory.post_generation
    def members(consortium, create, extracted, **kwargs):
        """The lead is always a member; `members=[...]` adds more authorities."""
        for authority in [consortium.lead, *(extracted or [])]:
            MembershipFactory(consortium=consortium, authority=authority)


class MembershipFactory(Base):
    class Meta:
        model = Membership

    consortium = factory.SubFactory(ConsortiumFactory)
    authority = factory.SubFactory(AuthorityFactory)
    joined = date(2023, 4, 1)
    left = None


class ProviderFactory(Base):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"Provider {n} Ltd")


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Sequence(lambda n: f"User {n}")
    role = "admin"
    password_hash = PASSWORD_HASH
    active = True

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        if kwargs.get("consortium") is not None:
            kwargs["role"] = "lead"
        elif kwargs.get("authority") is not None:
            kwargs["role"] = "partner"
        elif kwargs.get("provider") is not None:
            kwargs["role"] = "provider"
        elif kwargs.get("cofunder") is not None:
            kwargs["role"] = "cofunder"
        return kwargs


class AuditEventFactory(Base):
    class Meta:
        model = AuditEvent

    actor = "test"
    action = "create"
    object_type = "Authority"
    object_id = factory.Sequence(str)
    after = factory.LazyFunction(dict)


class CofunderFactory(Base):
    class Meta:
        model = Cofunder

    ref = factory.Sequence(lambda n: f"ICB-{n}")
    name = factory.Sequence(lambda n: f"NHS Test {n} ICB")
    kind = "health"


def cofunder_user(cofunder=None, **kwargs) -> User:
    return UserFactory(cofunder=cofunder or CofunderFactory(), **kwargs)


def lead(consortium=None, **kwargs) -> User:
    return UserFactory(consortium=consortium or ConsortiumFactory(), **kwargs)


def partner(authority=None, **kwargs) -> User:
    return UserFactory(authority=authority or AuthorityFactory(), **kwargs)


def provider_user(provider=None, **kwargs) -> User:
    return UserFactory(provider=provider or ProviderFactory(), **kwargs)


# ---------------------------------------------------------------- providers


class HomeFactory(Base):
    class Meta:
        model = Home

    urn = factory.Sequence(lambda n: f"SC{700000 + n:06d}")
    name = factory.Sequence(lambda n: f"Home {n}")
    provider = factory.SubFactory(ProviderFactory)
    provision_type = "Children's home"
    local_authority = "Derby"
    registered_places = 4
    registration_status = "Active"


class ProviderAliasFactory(Base):
    class Meta:
        model = ProviderAlias

    provider = factory.SubFactory(ProviderFactory)
    name = factory.Sequence(lambda n: f"Former name {n} Ltd")


class JudgementFactory(Base):
    class Meta:
        model = Judgement
        sqlalchemy_get_or_create = ("name",)

    name = "Good"
    scale = "overall"
    rank = 2
    graded = True


class InspectionFactory(Base):
    class Meta:
        model = Inspection

    home = factory.SubFactory(HomeFactory)
    inspection_date = date(2023, 6, 1)
    event_type = "Full inspection"
    judgement = factory.SubFactory(JudgementFactory)


# ---------------------------------------------------------------- contracts


class ContractFactory(Base):
    """A block contract by default; `kind="framework"` for a framework."""

    class Meta:
        model = Contract

    ref = factory.Sequence(lambda n: f"CON-{n}")
    kind = "block"
    title = factory.Sequence(lambda n: f"Contract {n}")
    consortium = factory.SubFactory(ConsortiumFactory)
    start_date = date(2024, 4, 1)
    end_date = date(2027, 3, 31)
    max_end_date = date(2029, 3, 31)
    provider = factory.Maybe("is_block", factory.SubFactory(ProviderFactory), None)
    beds = factory.Maybe("is_block", 10, None)

    class Params:
        is_block = factory.LazyAttribute(lambda o: o.kind == "block")


class BlockPriceFactory(Base):
    class Meta:
        model = BlockPrice

    contract = factory.SubFactory(ContractFactory)
    weekly_pence = 350000
    effective_from = date(2024, 4, 1)


class LotFactory(Base):
    class Meta:
        model = Lot

    contract = factory.SubFactory(ContractFactory, kind="framework")
    name = factory.Sequence(lambda n: f"Lot {n}")


class AdmissionFactory(Base):
    class Meta:
        model = Admission

    lot = factory.SubFactory(LotFactory)
    provider = factory.SubFactory(ProviderFactory)
    tier = "Preferred"


class PriceFactory(Base):
    class Meta:
        model = Price

    admission = factory.SubFactory(AdmissionFactory)
    need_level = "standard"
    weekly_pence = 400000
    effective_from = date(2024, 4, 1)


class BedOutageFactory(Base):
    class Meta:
        model = BedOutage

    contract = factory.SubFactory(ContractFactory)
    beds = 1
    start_date = date(2024, 6, 1)
    end_date = date(2024, 6, 15)
    reason = "Repairs after a flood"


class BreakDateFactory(Base):
    class Meta:
        model = BreakDate

    contract = factory.SubFactory(ContractFactory)
    break_date = date(2025, 3, 31)


class ExtensionDecisionFactory(Base):
    class Meta:
        model = ExtensionDecision

    contract = factory.SubFactory(ContractFactory)
    decision = "expire"
    previous_end_date = factory.LazyAttribute(lambda o: o.contract.end_date)


class PlacementFactory(Base):
    class Meta:
        model = Placement

    authority = factory.SubFactory(AuthorityFactory)
    child_ref = factory.Sequence(lambda n: f"CH-{n:05d}")
    contract = None
    home = factory.SubFactory(HomeFactory)
    start_date = date(2024, 6, 1)
    end_date = None
    placement_type = "residential"
    age_at_start = 14


class PlacementFeeFactory(Base):
    class Meta:
        model = PlacementFee

    placement = factory.SubFactory(PlacementFactory)
    weekly_pence = 420000
    effective_from = factory.LazyAttribute(lambda o: o.placement.start_date)


class FlagFactory(Base):
    class Meta:
        model = Flag

    kind = "quality_drop"
    subject = factory.Sequence(lambda n: f"SC{600000 + n:06d}")
    subject_key = factory.LazyAttribute(lambda o: o.subject)
    severity = "medium"
    opened_on = date(2024, 6, 30)
    detail = "A test flag"


class UploadFactory(Base):
    class Meta:
        model = Upload

    user_id = factory.LazyFunction(lambda: UserFactory().id)
    kind = "ofsted"
    filename = "ofsted.csv"
    sha256 = "0" * 64
    content = b"URN\n"
