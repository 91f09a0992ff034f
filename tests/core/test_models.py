"""Database-level guarantees of the core tables."""

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from consortium.core.extensions import NAMING_CONVENTION, db
from consortium.core.models import Membership, User
from consortium.core.passwords import hash_password, verify_password
from tests.factories import ConsortiumFactory


def refused(obj):
    nested = db.session.begin_nested()
    db.session.add(obj)
    with pytest.raises(IntegrityError):
        db.session.flush()
    nested.rollback()


def test_foreign_keys_are_enforced_on_every_database():
    refused(Membership(consortium_id=ConsortiumFactory().id, authority_code="E09999999", joined=date(2024, 4, 1)))


def test_a_users_organisation_must_match_their_role():
    consortium = ConsortiumFactory()
    refused(User(email="a@x.test", role="partner", consortium_id=consortium.id, password_hash="x"))
    refused(User(email="b@x.test", role="lead", password_hash="x"))
    refused(User(email="c@x.test", role="superuser", password_hash="x"))


def test_constraints_are_named_by_the_convention():
    names = {constraint.name for table in db.metadata.tables.values() for constraint in table.constraints}
    assert "uq_users_email" in names
    assert "fk_memberships_authority_code_authorities" in names
    assert "ck_users_organisation_matches_role" in names
    assert set(NAMING_CONVENTION) == {"ix", "uq", "ck", "fk", "pk"}


def test_passwords_are_argon2id_at_the_owasp_cost(app):
    with app.app_context():
        stored = hash_password("a long enough password")
    assert stored.startswith("$argon2id$") and "m=19456,t=2,p=1" in stored
    with app.app_context():
        assert verify_password(stored, "a long enough password")
        assert not verify_password(stored, "a long enough passwore")
        assert not verify_password("not a hash", "anything")
