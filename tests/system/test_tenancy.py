"""Another tenant's objects are a 404; roles outside a route's list are a 403."""

import pytest

from consortium.core.access import scoped
from consortium.core.models import Consortium, Membership, User
from providers.models import Provider
from tests.conftest import sign_in
from tests.factories import (
    AuthorityFactory,
    ConsortiumFactory,
    MembershipFactory,
    ProviderFactory,
    UserFactory,
    lead,
    partner,
    provider_user,
)


@pytest.fixture
def two_consortia():
    ours = ConsortiumFactory(members=[AuthorityFactory(), AuthorityFactory()])
    theirs = ConsortiumFactory(members=[AuthorityFactory()])
    return ours, theirs


def test_a_lead_sees_their_own_consortium_only(client, two_consortia):
    ours, theirs = two_consortia
    sign_in(client, lead(ours))
    assert client.get(f"/consortia/{ours.id}").status_code == 200
    assert client.get(f"/consortia/{theirs.id}").status_code == 404
    listing = client.get("/consortia").get_data(as_text=True)
    assert ours.name in listing and theirs.name not in listing


def test_a_lead_cannot_manage_another_consortiums_members(client, two_consortia):
    ours, theirs = two_consortia
    sign_in(client, lead(ours))
    their_membership = theirs.memberships[0]
    assert client.get(f"/consortia/{theirs.id}/members/new").status_code == 404
    assert (
        client.post(f"/consortia/{theirs.id}/members/new", data={"authority_code": ours.lead_code}).status_code == 404
    )
    assert client.get(f"/consortia/{theirs.id}/members/{their_membership.id}/end").status_code == 404
    # Their membership through our consortium's address is not found either.
    assert client.get(f"/consortia/{ours.id}/members/{their_membership.id}/end").status_code == 404
    assert (
        client.post(
            f"/consortia/{ours.id}/members/{their_membership.id}/end", data={"left": ["1", "1", "2025"]}
        ).status_code
        == 404
    )


def test_a_partner_sees_the_consortia_their_authority_belongs_to(client, two_consortia):
    ours, theirs = two_consortia
    member = ours.memberships[1].authority
    sign_in(client, partner(member))
    assert client.get(f"/consortia/{ours.id}").status_code == 200
    assert client.get(f"/consortia/{theirs.id}").status_code == 404
    assert client.get(f"/consortia/{ours.id}/members/new").status_code == 403


def test_providers_and_partners_cannot_use_administration(client, two_consortia):
    ours, _ = two_consortia
    someone = UserFactory()
    for user in (provider_user(), partner(), lead(ours)):
        sign_in(client, user)
        for url in ("/users", "/users/new", f"/users/{someone.id}", f"/users/{someone.id}/password"):
            assert client.get(url).status_code == 403, (user.role, url)
        assert client.post(f"/users/{someone.id}/deactivate").status_code == 403
    sign_in(client, provider_user())
    assert client.get("/consortia").status_code == 403
    assert client.get(f"/consortia/{ours.id}").status_code == 403


def test_an_authority_page_shows_only_memberships_the_user_may_see(client, two_consortia):
    ours, theirs = two_consortia
    shared = AuthorityFactory()
    for consortium in (ours, theirs):
        MembershipFactory(consortium=consortium, authority=shared)
    sign_in(client, lead(ours))
    page = client.get(f"/authorities/{shared.code}").get_data(as_text=True)
    assert ours.name in page
    assert theirs.name not in page


def test_scoped_asks_each_model(two_consortia):
    ours, theirs = two_consortia
    own_provider, other_provider = ProviderFactory(), ProviderFactory()
    staff = provider_user(own_provider)
    assert scoped(Provider, staff).all(Provider.id) == [own_provider]
    assert set(scoped(Provider, lead(ours)).all()) >= {own_provider, other_provider}
    assert scoped(Consortium, staff).all() == []
    assert scoped(Consortium, UserFactory(role="admin")).all(Consortium.id) == [ours, theirs]
    leader = lead(ours)
    assert {m.consortium for m in scoped(Membership, leader).all()} == {ours}
    assert scoped(User, leader).all() == [leader]


def test_scoped_refuses_a_model_that_does_not_say_who_may_see_it():
    class Unscoped:
        __name__ = "Unscoped"

    with pytest.raises(TypeError, match="visible_to"):
        scoped(Unscoped, UserFactory())
