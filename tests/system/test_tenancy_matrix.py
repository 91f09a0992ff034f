"""Every route that takes an object's id, asked by each role with another tenant's ids: never
shown, never changed. The routes are found from the app, so a new route with an id this test
does not know fails until it is added here."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from audits.models import Flag
from consortium.core import audit, services, tokens
from consortium.core.audit import AuditEvent
from consortium.core.extensions import db
from consortium.core.models import Authority
from consortium.recharges import contributions
from consortium.recharges import services as recharges
from contracts import cofunding, returns
from contracts.models import Placement
from contracts.referrals import services as referrals
from contracts.referrals import vacancies
from tests.conftest import sign_in
from tests.factories import (
    AdmissionFactory,
    AuthorityFactory,
    BlockPriceFactory,
    CofunderFactory,
    ConsortiumFactory,
    ContractFactory,
    FlagFactory,
    HomeFactory,
    LotFactory,
    MembershipFactory,
    PlacementFactory,
    PlacementFeeFactory,
    ProviderFactory,
    UploadFactory,
    UserFactory,
    cofunder_user,
    lead,
    partner,
    provider_user,
)

# Provider quality and authorities are shared: commissioners of every consortium see them.
SHARED = {"providers.provider", "providers.home", "core.authority", "providers_api.get_home", "core_api.get_authority"}
# A body each API change would accept, so that only the other tenant's id can refuse it.
API_BODIES = {
    "contracts_api.end_placement": {"endDate": date.today().isoformat()},
    "contracts_api.change_fee": {"weeklyFeePence": 100000, "effectiveFrom": date.today().isoformat()},
    "audits_api.acknowledge_flag": {"note": "x"},
    "audits_api.resolve_flag": {"note": "x"},
    "returns_api.submit_return": {"values": {"EET": "90"}, "submit": False},
    "referrals_api.open_referral": {},
    "referrals_api.withdraw_referral": {"reason": "x"},
    "referrals_api.buy_spot": {
        "homeUrn": "SC100001",
        "startDate": date.today().isoformat(),
        "weeklyFeePence": 100000,
        "placementType": "residential",
        "reason": "x",
    },
    "referrals_api.accept_offer": {},
    "referrals_api.make_offer": {
        "homeUrn": "SC100001",
        "startDate": date.today().isoformat(),
        "coreWeeklyCostPence": 1,
    },
    "referrals_api.decline": {"reason": "No vacancy"},
    "referrals_api.withdraw_offer": {},
    "contracts_api.add_contribution": {"cofunderRef": "X", "percent": "1", "firstNight": "2024-05-01"},
}


@pytest.fixture
def theirs():
    """Everything here belongs to another consortium, authority and provider."""
    their_authority = AuthorityFactory()
    consortium = ConsortiumFactory(lead=their_authority)
    provider = ProviderFactory()
    home = HomeFactory(provider=provider)
    block = ContractFactory(
        consortium=consortium, provider=provider, start_date=date(2024, 4, 1), ref="THEIRS-BLOCK-REF"
    )
    block.homes.append(home)
    BlockPriceFactory(contract=block)
    framework = ContractFactory(kind="framework", consortium=consortium)
    admission = AdmissionFactory(lot=LotFactory(contract=framework), provider=provider)
    placement = PlacementFactory(
        contract=block, home=home, authority=their_authority, start_date=date(2024, 5, 1), child_ref="THEIRS-CHILD-REF"
    )
    outcomes = returns.attach(block, returns.starter_template())
    monitoring_return = returns.save(
        outcomes, provider, "2024-Q1", {"EET": "90"}, {}, None, date(2024, 7, 5), submit=False
    )
    pool = recharges.create_pool(consortium, "Pool", date(2024, 4, 1), date(2025, 3, 31), 100000, "equal")
    recharges.draft_statements(pool)
    recharges.issue(pool, date(2025, 4, 10))
    their_lead = lead(consortium)
    asked = services.request_membership(
        consortium, AuthorityFactory().code, date(2025, 4, 1), None, their_lead, "http://test"
    )
    flag = FlagFactory(kind="underused_block_beds", subject=block.ref, contract=block, provider=provider)
    referral = referrals.new_draft(
        None,
        their_authority.code,
        consortium,
        child_ref="THEIRS-CHILD-REF",
        age_in_years=14,
        needed_by=date.today() + timedelta(days=7),
        residential_suitability="Preferred",
    )
    invitation = next(i for i in referrals.open_referral(referral) if i.stage == "Block")
    offer = referrals.make_offer(
        invitation, None, referrals.OfferValues(home.urn, date.today() + timedelta(days=7), "standard")
    )
    vacancy = vacancies.publish(provider.id, home, 1, date.today(), None, ["residential"], 10, 17, date.today())
    # Their co-funder pays towards a framework placement of theirs, and has a statement for it.
    cofunder = CofunderFactory(consortium_id=consortium.id, name="THEIRS-COFUNDER")
    funded = PlacementFactory(
        contract=framework,
        home=home,
        authority=their_authority,
        start_date=date(2024, 5, 1),
        child_ref="THEIRS-CHILD-REF",
    )
    PlacementFeeFactory(placement=funded, weekly_pence=350_000)
    contribution = cofunding.add_contribution(funded, cofunder, date(2024, 5, 1), percent=Decimal(25))
    cofunding.set_funding_shares(
        block, date(2024, 4, 1), {their_authority.code: Decimal(50)}, {cofunder.id: Decimal(50)}
    )
    contributions.issue_contributions(consortium, cofunder, date(2024, 4, 1), date(2025, 4, 10))
    return {
        "consortium_id": consortium.id,
        "membership_id": consortium.memberships[0].id,
        "contract_id": block.id,
        "lot_id": framework.lots[0].id,
        "admission_id": admission.id,
        "placement_id": placement.id,
        "indicator_id": outcomes.indicators[0].id,
        "return_id": monitoring_return.id,
        "provider_id": provider.id,
        "period": "2024-Q1",
        "pool_id": pool.id,
        "statement_id": pool.statements[0].id,
        "flag_id": flag.id,
        "upload_id": UploadFactory(user_id=their_lead.id).id,
        "user_id": their_lead.id,
        "urn": home.urn,
        "code": their_authority.code,
        "fmt": "csv",
        "table": "placements",
        "action": "resolve",
        "request_id": asked.id,
        "decision": "accept",
        "token": "not-a-token",
        "token_id": tokens.create(their_lead, "Theirs", "write")[0].id,
        "referral_id": referral.id,
        "invitation_id": invitation.id,
        "offer_id": offer.id,
        "vacancy_id": vacancy.id,
        "step": "when",
        "cofunder_id": cofunder.id,
        "contribution_id": contribution.id,
        "quarter": "2024-Q2",
    }


def ours():
    """A user of each tenant role. Administrators belong to no tenant: they manage consortia and
    accounts; what they must never see is child-level data (tested below)."""
    consortium = ConsortiumFactory()
    return {
        "lead": lead(consortium),
        "partner": partner(consortium.memberships[0].authority),
        "provider": provider_user(),
        "cofunder": cofunder_user(CofunderFactory(consortium_id=consortium.id)),
    }


def routes(app):
    for rule in app.url_map.iter_rules():
        ids = set(rule.arguments) - {"fmt", "table", "action", "period", "decision", "step", "quarter"}
        if rule.endpoint == "static" or not ids:
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            yield rule, method


def test_another_tenants_objects_are_never_shown_or_changed(app, client, theirs):
    users = ours()
    bearers = {role: tokens.create(user, "Matrix", "write")[1] for role, user in users.items()}
    db.session.commit()
    changes_before = db.session.scalar(select(func.max(AuditEvent.id))) or 0
    flags_before = db.session.scalar(select(func.count()).select_from(Flag))
    seen = []
    for rule, method in routes(app):
        unknown = set(rule.arguments) - set(theirs)
        assert not unknown, f"{rule.rule}: add an object for {unknown} to this test"
        url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(theirs[m.group(1)]), rule.rule)
        api = rule.rule.startswith("/api/")
        if api and method == "POST":
            assert rule.endpoint in API_BODIES, f"{rule.rule}: add a valid body for {rule.endpoint} to this test"
        for role, user in users.items():
            if api:
                # The token of one of ours, with a body that would be accepted: only the id is theirs.
                headers = {"Authorization": f"Bearer {bearers[role]}"}
                response = (
                    client.get(url, headers=headers)
                    if method == "GET"
                    else client.post(url, json=API_BODIES[rule.endpoint], headers=headers)
                )
            else:
                sign_in(client, user)
                response = (
                    client.get(url) if method == "GET" else client.post(url, data={"note": "x", "decision": "accept"})
                )
            # A co-funder's staff see only what it funds: none of the shared register either.
            shared = role != "cofunder" and (
                rule.endpoint in SHARED
                and role != "provider"
                or rule.endpoint in ("core.authority", "core_api.get_authority")
            )
            if shared and method == "GET":
                assert response.status_code == 200, (role, method, url)
            else:
                assert response.status_code in (403, 404), (role, method, url, response.status_code)
            seen.append((rule.endpoint, method, role))
    assert len({endpoint for endpoint, _, _ in seen}) > 40
    assert len({endpoint for endpoint, _, _ in seen if "_api." in endpoint}) >= 10  # the API's, with tokens
    # Nothing of theirs was changed by any of it (refused access is recorded, nothing else).
    changes = db.session.scalars(select(AuditEvent.action).where(AuditEvent.id > changes_before)).all()
    assert set(changes) <= {"access refused"}, set(changes)
    assert db.session.scalar(select(func.count()).select_from(Flag)) == flags_before


LISTS = [
    "/referrals",
    "/invitations",
    "/vacancies",
    "/sufficiency",
    "/sufficiency/high-cost.csv",
    "/flags",
    "/flags/export.csv",
    "/placements",
    "/placements/export.csv",
    "/placements/pds.csv",
    "/audit",
    "/audit/export.csv",
    "/contracts",
    "/contracts/export.csv",
    "/contracts/transparency.csv",
    "/returns",
    "/returns/export.csv",
    "/dashboard",
    "/usage",
    "/recharges",
    "/recharges/contributions",
    "/funding",
    "/cofunders",
    "/messages",
    "/",
]
FILTERS = ("authority", "contract", "provider", "home", "object", "type", "user")


def test_lists_the_audit_log_and_their_filters_show_nothing_of_another_tenant(app, client, theirs):
    """Every list (and the audit log by what its events are about), asked with another tenant's
    values in each filter, by each role of ours. Their authority is a member of our consortium
    too: the case where the audit log once showed our lead another consortium's placements."""
    users = ours()
    shared = db.session.get(Authority, theirs["code"])
    MembershipFactory(consortium=users["lead"].consortium, authority=shared, joined=date(2023, 4, 1))
    # Their authority's officer changes their placement: the event names someone of our member authority.
    officer = partner(shared)
    audit.set_actor(officer.id, officer.email)
    placement = db.session.get(Placement, theirs["placement_id"])
    placement.end_reason = "THEIRS-CHILD-REF moved"
    db.session.flush()
    audit.set_actor(None, "system")
    values = {
        "authority": theirs["code"],
        "contract": "THEIRS-BLOCK-REF",
        "provider": str(theirs["provider_id"]),
        "home": theirs["urn"],
        "object": str(theirs["placement_id"]),
        "type": "Placement",
        "user": "",
    }
    for role, user in users.items():
        sign_in(client, user)
        for url in LISTS:
            for param in (None, *FILTERS):
                response = client.get(
                    url, query_string={param: values[param], "status": "all"} if param else {"status": "all"}
                )
                assert response.status_code in (200, 302, 403, 404), (role, url, param, response.status_code)
                text = (
                    response.get_data(as_text=True)
                    .replace("THEIRS-BLOCK-REF&", "")
                    .replace('value="THEIRS-BLOCK-REF"', "")
                )
                assert "THEIRS-CHILD-REF" not in text and "contract=THEIRS-BLOCK-REF" not in text, (role, url, param)
                # Not even as an event with its values withheld.
                assert f"Placement {placement.id}<" not in text and f",Placement,{placement.id}," not in text, (
                    role,
                    url,
                    param,
                )
                if response.status_code == 200 and url.endswith(".csv"):
                    assert "THEIRS-BLOCK-REF" not in text, (role, url, param)


def test_administrators_never_see_placements(app, client, theirs):
    sign_in(client, UserFactory(role="admin"))
    for url in (f"/placements/{theirs['placement_id']}", "/placements", "/placements/export.csv", "/usage"):
        assert client.get(url).status_code in (403, 404), url


API_LISTS = [
    "/api/v1/placements",
    "/api/v1/placements/pds.csv",
    "/api/v1/flags",
    "/api/v1/contracts",
    "/api/v1/statements",
    "/api/v1/consortia",
    "/api/v1/returns",
    "/api/v1/homes",
]
API_FILTERS = ("authorityCode", "contractRef", "homeUrn", "providerId")


def test_the_apis_lists_and_their_filters_show_nothing_of_another_tenant(app, client, theirs):
    users = ours()
    values = {
        "authorityCode": theirs["code"],
        "contractRef": "THEIRS-BLOCK-REF",
        "homeUrn": theirs["urn"],
        "providerId": str(theirs["provider_id"]),
    }
    for role, user in users.items():
        headers = {"Authorization": f"Bearer {tokens.create(user, 'Lists', 'read')[1]}"}
        for url in API_LISTS:
            for param in (None, *API_FILTERS):
                response = client.get(url, query_string={param: values[param]} if param else {}, headers=headers)
                # A filter a list does not take is refused by name; a role that may not list is refused.
                assert response.status_code in (200, 403, 422), (role, url, param, response.status_code)
                text = response.get_data(as_text=True)
                assert "THEIRS-CHILD-REF" not in text and "THEIRS-BLOCK-REF" not in text, (role, url, param)
