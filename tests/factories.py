"""One factory per model. Objects are flushed into the test's transaction, never committed."""

from datetime import date

import factory
from argon2 import PasswordHasher
from factory.alchemy import SQLAlchemyModelFactory

from consortium.audit import AuditEvent
from consortium.extensions import db
from consortium.models import Authority, Consortium, Membership, User
from providers.models import Provider

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
        return kwargs


class AuditEventFactory(Base):
    class Meta:
        model = AuditEvent

    actor = "test"
    action = "create"
    object_type = "Authority"
    object_id = factory.Sequence(str)
    after = factory.LazyFunction(dict)


def lead(consortium=None, **kwargs) -> User:
    return UserFactory(consortium=consortium or ConsortiumFactory(), **kwargs)


def partner(authority=None, **kwargs) -> User:
    return UserFactory(authority=authority or AuthorityFactory(), **kwargs)


def provider_user(provider=None, **kwargs) -> User:
    return UserFactory(provider=provider or ProviderFactory(), **kwargs)
