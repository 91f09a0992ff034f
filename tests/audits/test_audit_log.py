"""The audit log viewer, and sign-ins, failed sign-ins and refused access in the trail."""

from datetime import date

import pytest
from sqlalchemy import select

from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from tests.conftest import sign_in
from tests.factories import (
    PASSWORD,
    AuthorityFactory,
    ConsortiumFactory,
    ContractFactory,
    HomeFactory,
    UserFactory,
    lead,
    partner,
    provider_user,
)


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


def test_acts_without_an_object_are_seen_by_the_actor_their_fellow_leads_and_administrators(client):
    consortium_lead = lead()
    fellow = lead(consortium_lead.consortium)
    member = partner(consortium_lead.consortium.memberships[0].authority)
    outsider = lead()
    for who in (fellow, member, outsider):
        sign_in(client, who)
        client.get("/users")  # refused: recorded with who asked
    sign_in(client, consortium_lead)
    page = client.get("/audit").get_data(as_text=True)
    # A member's officer acts on their own authority's behalf, not the consortium's: theirs is not the lead's to read.
    assert fellow.email in page and member.email not in page and outsider.email not in page
    sign_in(client, UserFactory(role="admin"))
    page = client.get("/audit?type=Route").get_data(as_text=True)
    assert fellow.email in page and member.email in page and outsider.email in page
    csv_text = client.get("/audit/export.csv?type=Route").get_data(as_text=True)
    assert "access refused" in csv_text and '"path": "/users"' in csv_text.replace('""', '"')
    sign_in(client, member)
    assert client.get("/audit").status_code == 403


@pytest.fixture
def shared_member(client):
    """Nottingham is a member of two consortia, each with a block; Nottingham's officer records a
    placement under each and buys one spot, through the pages (so the events name the officer)."""
    nottingham = AuthorityFactory(name="Nottingham")
    ours, theirs = ConsortiumFactory(members=[nottingham]), ConsortiumFactory(members=[nottingham])
    blocks = {}
    for consortium in (ours, theirs):
        home = HomeFactory()
        blocks[consortium.id] = block = ContractFactory(
            consortium=consortium, provider=home.provider, end_date=date(2099, 3, 31), max_end_date=date(2099, 3, 31)
        )
        block.homes.append(home)
    spot_home = HomeFactory()
    sign_in(client, partner(nottingham))
    today = date.today()
    for child, contract, home, fee in (
        ("OURS-CHILD", blocks[ours.id].ref, blocks[ours.id].homes[0].urn, ""),
        ("THEIR-CHILD", blocks[theirs.id].ref, blocks[theirs.id].homes[0].urn, ""),
        ("SPOT-CHILD", "", spot_home.urn, "7777.00"),
    ):
        response = client.post(
            "/placements/new",
            data={
                "child_ref": child,
                "contract_ref": contract,
                "home_urn": home,
                "placement_type": "residential",
                "start_date": [str(today.day), str(today.month), str(today.year)],
                "age_at_start": "15",
                "weekly_fee": fee,
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    with client.session_transaction() as session:
        session.pop("_flashes", None)  # "Placement of ... recorded" is the officer's to read
    return {"nottingham": nottingham, "ours": ours, "theirs": theirs, "blocks": blocks}


def test_a_lead_sees_events_about_their_consortiums_objects_whoever_did_them(client, shared_member):
    ours, theirs = shared_member["ours"], shared_member["theirs"]
    sign_in(client, lead(ours))
    for url in ("/audit", "/audit/export.csv", "/audit?type=Placement", "/audit/export.csv?type=Placement"):
        text = client.get(url).get_data(as_text=True)
        assert "OURS-CHILD" in text, url
        # Another consortium's placement and a partner's own spot purchase are never a lead's to read.
        assert "THEIR-CHILD" not in text and "SPOT-CHILD" not in text and "7777" not in text, url
    # Asked by id, the events of another consortium's contract are not there either.
    their_block = shared_member["blocks"][theirs.id]
    text = client.get(f"/audit/export.csv?type=Contract&object={their_block.id}").get_data(as_text=True)
    assert their_block.ref not in text


def test_what_provider_staff_do_to_a_block_is_in_its_consortiums_audit_log(client, shared_member):
    ours, theirs = shared_member["ours"], shared_member["theirs"]
    block = shared_member["blocks"][ours.id]
    sign_in(client, provider_user(block.provider))
    today = date.today()
    response = client.post(
        f"/contracts/{block.id}/outages",
        data={
            "beds": "1",
            "start_date": [str(today.day), str(today.month), str(today.year)],
            "reason": "Boiler repairs",
        },
    )
    assert response.status_code == 302
    sign_in(client, lead(ours))
    assert "Boiler repairs" in client.get("/audit?type=BedOutage").get_data(as_text=True)
    sign_in(client, lead(theirs))
    assert "Boiler repairs" not in client.get("/audit?type=BedOutage").get_data(as_text=True)


def test_administrators_see_placement_events_without_their_child_level_values(client, shared_member):
    sign_in(client, UserFactory(role="admin"))
    for url in ("/audit?type=Placement", "/audit/export.csv?type=Placement", "/audit/export.csv?type=PlacementFee"):
        text = client.get(url).get_data(as_text=True)
        assert "withheld" in text, url
        assert "OURS-CHILD" not in text and "SPOT-CHILD" not in text and "777700" not in text, url
        assert "age_at_start" not in text or "15" not in text.split("age_at_start")[1][:20], url
    # What is not child-level stays: the dates and the authority.
    assert shared_member["nottingham"].code in client.get("/audit?type=Placement").get_data(as_text=True)


def test_changes_show_before_and_after(client):
    admin = UserFactory(role="admin")
    someone = partner()
    sign_in(client, admin)
    client.post(f"/users/{someone.id}/deactivate")
    page = client.get(f"/audit?type=User&object={someone.id}").get_data(as_text=True)
    assert "active: True → False" in page and admin.email in page


def test_the_audit_log_reads_like_a_log(client):
    from datetime import datetime, timezone

    from consortium.core.formatting import uk_time

    admin = UserFactory(role="admin", email="admin@example.test")
    someone = partner(email="sam@example.test")
    client.post("/sign-in", data={"email": "sam@example.test", "password": PASSWORD})
    sign_in(client, admin)
    client.post(f"/users/{someone.id}/deactivate")
    page = client.get("/audit").get_data(as_text=True)
    # The account by its e-mail, not "User 2"; a sign-in in one sentence; times in UK local time.
    assert "sam@example.test</td>" in page and f"User {someone.id}<" not in page
    assert "Signed in from" in page and "When (UK time)" in page
    assert uk_time(datetime(2026, 7, 1, 11, 30, 5, tzinfo=timezone.utc)) == "1 Jul 2026 12:30:05"  # BST
    assert uk_time(datetime(2026, 12, 1, 11, 30, 5, tzinfo=timezone.utc)) == "1 Dec 2026 11:30:05"  # GMT
    quiet = client.get("/audit?sign_ins=hide").get_data(as_text=True)
    assert "Signed in from" not in quiet and "active: True → False" in quiet
