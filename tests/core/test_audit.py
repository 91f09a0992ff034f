"""The audit trail: captured at flush, in the same transaction, append-only."""

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from consortium.core import audit
from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from consortium.core.models import Authority
from tests.conftest import sign_in
from tests.factories import (
    AuditEventFactory,
    AuthorityFactory,
    ConsortiumFactory,
    UserFactory,
    lead,
)


def events(object_type, object_id=None):
    query = select(AuditEvent).where(AuditEvent.object_type == object_type).order_by(AuditEvent.id)
    if object_id is not None:
        query = query.where(AuditEvent.object_id == str(object_id))
    return db.session.scalars(query).all()


def test_create_update_and_delete_are_recorded_with_before_and_after(app):
    audit.set_actor(None, "a test")
    authority = Authority(code="E06000018", name="Nottingham City", region="East Midlands")
    db.session.add(authority)
    db.session.flush()
    authority.name = "Nottingham"
    db.session.flush()
    db.session.delete(authority)
    db.session.flush()
    created, updated, deleted = events("Authority", "E06000018")
    assert (created.action, created.actor, created.before) == ("create", "a test", None)
    assert created.after["name"] == "Nottingham City" and created.after["region"] == "East Midlands"
    assert (updated.action, updated.before, updated.after) == (
        "update",
        {"name": "Nottingham City"},
        {"name": "Nottingham"},
    )
    assert (deleted.action, deleted.before["name"], deleted.after) == ("delete", "Nottingham", None)


def test_an_unchanged_flush_records_nothing():
    authority = AuthorityFactory()
    count = len(events("Authority", authority.code))
    authority.name = authority.name
    db.session.flush()
    assert len(events("Authority", authority.code)) == count


def test_secrets_are_never_written_to_the_trail():
    user = UserFactory()
    user.password_hash = "changed"
    user.session_token = "also-changed"
    user.name = "Renamed"
    db.session.flush()
    for event in events("User", user.id):
        for values in (event.before or {}, event.after or {}):
            assert "password_hash" not in values and "session_token" not in values
    assert events("User", user.id)[-1].after == {"name": "Renamed"}


def test_the_event_names_the_signed_in_user(client):
    consortium = ConsortiumFactory()
    other = AuthorityFactory()
    user = lead(consortium)
    db.session.commit()
    sign_in(client, user)
    response = client.post(
        f"/consortia/{consortium.id}/members/new",
        data={"authority_code": other.code, "joined": ["1", "4", "2024"]},
    )
    assert response.status_code == 302
    (event,) = [e for e in events("MembershipRequest") if e.after and e.after["authority_code"] == other.code]
    assert (event.user_id, event.actor, event.action) == (user.id, user.email, "create")


def test_an_event_rolls_back_with_its_change():
    nested = db.session.begin_nested()
    AuthorityFactory(code="E06000099")
    assert events("Authority", "E06000099")
    nested.rollback()
    assert events("Authority", "E06000099") == []


@pytest.mark.parametrize("statement", ["update", "delete"])
def test_the_database_refuses_to_change_an_event(statement):
    event = AuditEventFactory()
    db.session.flush()
    change = (
        update(AuditEvent).where(AuditEvent.id == event.id).values(actor="someone else")
        if statement == "update"
        else delete(AuditEvent).where(AuditEvent.id == event.id)
    )
    nested = db.session.begin_nested()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(change)
    nested.rollback()
    assert db.session.scalar(select(AuditEvent.actor).where(AuditEvent.id == event.id)) == "test"


def test_the_triggers_exist_in_the_test_database():
    dialect = db.engine.dialect.name
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        if dialect == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    )
    names = set(db.session.scalars(text(query)))
    assert names & {"audit_events_no_update", "audit_events_no_delete", "audit_events_no_change"}
