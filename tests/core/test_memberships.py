"""Adding and ending memberships of a consortium (services and pages)."""

from datetime import date

import pytest

from consortium.core import services
from consortium.core.extensions import db
from consortium.core.messages import OutboxMessage
from consortium.core.models import Membership, MembershipRequest
from tests.conftest import sign_in
from tests.factories import (
    AuthorityFactory,
    ConsortiumFactory,
    MembershipFactory,
    lead,
    partner,
)


def test_add_and_end_a_membership():
    consortium = ConsortiumFactory()
    authority = AuthorityFactory()
    membership = services.add_membership(consortium, authority.code, date(2024, 4, 1))
    services.end_membership(membership, date(2025, 3, 31))
    assert (membership.joined, membership.left) == (date(2024, 4, 1), date(2025, 3, 31))
    assert membership.is_current(date(2025, 3, 31)) and not membership.is_current(date(2025, 4, 1))
    # Rejoining after leaving is a new membership; overlapping the old one is not.
    services.add_membership(consortium, authority.code, date(2025, 6, 1))
    with pytest.raises(services.RuleBroken, match="already a member from 1 Apr 2024 to 31 Mar 2025"):
        services.add_membership(consortium, authority.code, date(2024, 1, 1), date(2024, 4, 1))


@pytest.mark.parametrize(
    "joined, left, message",
    [
        (date(2024, 4, 1), date(2024, 3, 31), "on or after the date joined"),
        (date(2023, 1, 1), None, "already a member"),
    ],
)
def test_bad_memberships_are_refused(joined, left, message):
    consortium = ConsortiumFactory()
    MembershipFactory(consortium=consortium, authority=AuthorityFactory(code="E06000018"), joined=date(2023, 4, 1))
    with pytest.raises(services.RuleBroken, match=message):
        services.add_membership(consortium, "E06000018", joined, left)


def test_the_lead_authority_cannot_leave():
    consortium = ConsortiumFactory()
    with pytest.raises(services.RuleBroken, match="lead authority must stay a member"):
        services.end_membership(consortium.memberships[0], date(2025, 1, 1))


def test_the_database_refuses_a_membership_that_ends_before_it_starts():
    from sqlalchemy.exc import IntegrityError

    nested = db.session.begin_nested()
    with pytest.raises(IntegrityError):
        MembershipFactory(joined=date(2024, 4, 1), left=date(2024, 1, 1))
    nested.rollback()


def test_a_lead_asks_an_authority_to_join_its_officer_accepts_and_the_lead_ends_the_membership(client):
    consortium = ConsortiumFactory()
    newcomer = AuthorityFactory(name="Rutland")
    officer = partner(newcomer)
    the_lead = lead(consortium)
    sign_in(client, the_lead)
    form = client.get(f"/consortia/{consortium.id}/members/new").get_data(as_text=True)
    assert 'name="joined"' in form and "govuk-date-input" in form and "Rutland" in form
    response = client.post(
        f"/consortia/{consortium.id}/members/new", data={"authority_code": newcomer.code, "joined": ["1", "4", "2024"]}
    )
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Rutland has been asked to join from 1 April 2024" in page and "Asked to join" in page
    # Asked is not joined: nothing yet.
    assert db.session.query(Membership).filter_by(authority_code=newcomer.code).count() == 0
    asked = db.session.query(MembershipRequest).one()
    (message,) = db.session.query(OutboxMessage).filter_by(user_id=officer.id).all()
    assert f"/membership-requests/{asked.id}" in message.body
    sign_in(client, officer)
    assert "Waiting for your answer" in client.get("/").get_data(as_text=True)
    assert client.get(f"/consortia/{consortium.id}").status_code == 404
    response = client.post(f"/membership-requests/{asked.id}/accept")
    assert response.status_code == 302
    assert "Rutland is a member of" in client.get(response.location).get_data(as_text=True)
    assert client.get(f"/consortia/{consortium.id}").status_code == 200
    sign_in(client, the_lead)
    membership = db.session.query(Membership).filter_by(authority_code=newcomer.code).one()
    assert membership.joined == date(2024, 4, 1)
    response = client.post(
        f"/consortia/{consortium.id}/members/{membership.id}/end", data={"left": ["31", "3", "2025"]}
    )
    # It asks first: nothing changes until the lead confirms.
    assert response.status_code == 200 and "End the membership" in response.get_data(as_text=True)
    db.session.refresh(membership)
    assert membership.left is None
    response = client.post(
        f"/consortia/{consortium.id}/members/{membership.id}/end",
        data={"left": ["31", "3", "2025"], "confirmed": "yes"},
    )
    assert response.status_code == 302
    db.session.refresh(membership)
    assert membership.left == date(2025, 3, 31)


def test_membership_form_errors_use_the_error_summary(client):
    consortium = ConsortiumFactory()
    sign_in(client, lead(consortium))
    response = client.post(
        f"/consortia/{consortium.id}/members/new", data={"authority_code": "", "joined": ["", "", ""]}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in page
    assert "Choose an authority" in page and "Enter the date joined" in page
    response = client.post(
        f"/consortia/{consortium.id}/members/{consortium.memberships[0].id}/end", data={"left": ["1", "1", "2026"]}
    )
    assert response.status_code == 400
    assert "lead authority must stay a member" in response.get_data(as_text=True)


def test_an_impossible_date_is_a_form_error_not_a_crash(client):
    consortium = ConsortiumFactory()
    newcomer = AuthorityFactory()
    sign_in(client, lead(consortium))
    response = client.post(
        f"/consortia/{consortium.id}/members/new", data={"authority_code": newcomer.code, "joined": ["31", "2", "2025"]}
    )
    assert response.status_code == 400
    assert "Date joined must be a real date" in response.get_data(as_text=True)
    response = client.post(f"/consortia/{consortium.id}/members/new", data={"authority_code": newcomer.code})
    assert response.status_code == 400
    assert "Enter the date joined" in response.get_data(as_text=True)
