"""The main pages run a bounded number of SQL statements, whatever the amount of data."""

import pytest
from sqlalchemy import event, select

from consortium.core.extensions import db
from contracts import returns
from contracts.models import Contract
from providers.models import Home
from tests.conftest import sign_in
from tests.factories import (
    AuthorityFactory,
    ContractFactory,
    MembershipFactory,
    PlacementFactory,
    PlacementFeeFactory,
    ProviderFactory,
    UserFactory,
)

PAGES = [
    "/",
    "/dashboard",
    "/value-for-money",
    "/flags",
    "/placements",
    "/contracts",
    "/providers",
    "/homes",
    "/returns",
    "/recharges",
    "/homes/in-use",
    "/sufficiency",
]


@pytest.fixture
def statements(app):
    counted = []

    def count(*_args, **_kwargs):
        counted.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    yield counted
    event.remove(db.engine, "before_cursor_execute", count)


def counts(client, urls, statements):
    found = {}
    for url in urls:
        statements.clear()
        assert client.get(url).status_code == 200, url
        found[url] = len(statements)
    return found


def test_main_pages_stay_within_twenty_statements_as_the_data_grows(app, runner, statements):
    runner.invoke(args=["demo", "seed"])
    from consortium.core.models import User

    lead = db.session.scalar(select(User).where(User.email == "lead@demo.test"))
    client = app.test_client()
    sign_in(client, lead)
    block = db.session.scalar(select(Contract).where(Contract.ref == "EM-BLOCK-RES"))
    home = db.session.scalar(select(Home).where(Home.urn == "SC910001"))
    urls = PAGES + [
        f"/contracts/{block.id}",
        f"/homes/{home.urn}",
        f"/providers/{home.provider_id}",
        f"/contracts/{block.id}/returns",
    ]
    before = counts(client, urls, statements)
    assert all(n <= 20 for n in before.values()), before
    # More of everything the pages list: the counts must not move.
    framework = db.session.scalar(select(Contract).where(Contract.ref == "EMRF-RES"))
    homes = db.session.scalars(select(Home).limit(10)).all()
    for n in range(60):
        placement = PlacementFactory(
            contract=framework,
            home=homes[n % 10],
            authority=lead.consortium.memberships[n % 10].authority,
            lot=framework.lots[0],
        )
        PlacementFeeFactory(placement=placement)
    for n in range(3):  # more blocks, each owing returns: the dashboard's figures are one query for all
        returns.attach(
            ContractFactory(consortium=lead.consortium, start_date=framework.start_date), returns.starter_template()
        )
    db.session.commit()
    after = counts(client, urls, statements)
    assert after == before
    sign_in(client, UserFactory(authority=lead.consortium.memberships[0].authority))
    partner_counts = counts(client, ["/", "/dashboard", "/placements", "/placements/new", "/usage"], statements)
    assert all(n <= 20 for n in partner_counts.values()), partner_counts


def test_users_and_consortium_pages_do_not_load_organisations_one_by_one(app, runner, statements):
    runner.invoke(args=["demo", "seed"])
    from consortium.core.models import User

    admin = db.session.scalar(select(User).where(User.email == "admin@demo.test"))
    lead = db.session.scalar(select(User).where(User.email == "lead@demo.test"))
    consortium = lead.consortium
    client = app.test_client()
    sign_in(client, admin)
    urls = ["/users", f"/consortia/{consortium.id}"]
    before = counts(client, urls, statements)
    for _ in range(4):
        UserFactory(role="lead", consortium=consortium)
        UserFactory(role="partner", authority=AuthorityFactory())
        UserFactory(role="provider", provider=ProviderFactory())
        MembershipFactory(consortium=consortium)
    db.session.commit()
    assert counts(client, urls, statements) == before


def test_referral_pages_and_the_api_list_do_not_grow_with_referrals_and_offers(app, client, world, statements):
    """The lists rank every listed referral's offers with one read of the homes' judgements and points."""
    from tests.contracts.test_referrals_api import bearer
    from tests.factories import HomeFactory, partner, provider_user
    from tests.referral_world import invitation_of, offer, opened

    one, two = world["homes"]["One"], world["homes"]["Two"]

    def referral_with_offers(n):
        referral = opened(world, child_ref=f"NOT-Q{n:03d}")
        # A home of their own for each offer: the ranking reads judgements and points per home.
        for home in (one, two):
            extra = HomeFactory(provider=home.provider, local_authority=f"Area {n}", postcode=f"NG{n % 9 + 1} 1AA")
            offer(invitation_of(referral, home.provider), extra)
        return referral

    first = referral_with_offers(0)
    officer = partner(world["nottingham"])
    staff = provider_user(one.provider)
    headers = bearer(officer, "read")
    db.session.commit()

    def measured():
        found = {}
        sign_in(client, officer)
        found |= counts(client, ["/referrals", f"/referrals/{first.id}", "/vacancies"], statements)
        statements.clear()
        assert client.get("/api/v1/referrals?limit=50", headers=headers).status_code == 200
        found["/api/v1/referrals"] = len(statements)
        sign_in(client, staff)
        found |= counts(client, ["/invitations"], statements)
        return found

    before = measured()
    for n in range(1, 6):
        referral_with_offers(n)
    db.session.commit()
    after = measured()
    assert after == before, (before, after)
    # The API's request also finds its token and its user and counts the token's use.
    assert all(n <= (25 if url.startswith("/api/") else 20) for url, n in after.items()), after
