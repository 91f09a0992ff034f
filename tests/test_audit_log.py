"""The audit log viewer, and sign-ins, failed sign-ins and refused access in the trail."""

from sqlalchemy import select

from consortium.audit import AuditEvent
from consortium.extensions import db
from tests.conftest import sign_in
from tests.factories import PASSWORD, AuthorityFactory, UserFactory, lead, partner


def events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_sign_ins_failures_and_refusals_are_recorded(client):
    user = lead(email="lee@example.test")
    client.post("/sign-in", data={"email": "lee@example.test", "password": "wrong password"})
    client.post("/sign-in", data={"email": "lee@example.test", "password": PASSWORD})
    client.get("/users")
    (failed,) = events("sign-in failed")
    assert failed.after["email"] == "lee@example.test" and failed.user_id is None
    (signed,) = events("sign-in")
    assert (signed.user_id, signed.object_id) == (user.id, str(user.id))
    (refused,) = events("access refused")
    assert (refused.user_id, refused.object_id, refused.after["path"]) == (user.id, "core.users", "/users")


def test_leads_see_their_consortiums_people_and_admins_everything(client):
    consortium_lead = lead()
    member = consortium_lead.consortium.memberships[0].authority
    colleague = partner(member)
    outsider = partner(AuthorityFactory())
    for who, name in ((colleague, "ours"), (outsider, "theirs")):
        sign_in(client, who)
        client.post("/account/password", data={"current_password": "wrong-password-x", "new_password": "a new long password", "confirm": "a new long password"})
        client.get("/users")  # refused: recorded with who asked
    sign_in(client, consortium_lead)
    page = client.get("/audit").get_data(as_text=True)
    assert colleague.email in page and outsider.email not in page
    sign_in(client, UserFactory(role="admin"))
    page = client.get("/audit?type=Route").get_data(as_text=True)
    assert colleague.email in page and outsider.email in page
    csv_text = client.get("/audit/export.csv?type=Route").get_data(as_text=True)
    assert "access refused" in csv_text and '"path": "/users"' in csv_text.replace('""', '"')
    sign_in(client, colleague)
    assert client.get("/audit").status_code == 403


def test_changes_show_before_and_after(client):
    admin = UserFactory(role="admin")
    someone = partner()
    sign_in(client, admin)
    client.post(f"/users/{someone.id}/deactivate")
    page = client.get(f"/audit?type=User&object={someone.id}").get_data(as_text=True)
    assert "active: True → False" in page and admin.email in page
