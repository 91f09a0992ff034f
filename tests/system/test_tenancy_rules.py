"""Tenancy that follows rules, not only ids: membership dates and requests, shared flags acted on
per consortium, and filters that narrow within what the viewer may see and never widen it."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from audits import services as flag_services
from consortium.core import services
from consortium.core.extensions import db
from consortium.core.models import Membership
from contracts import placements as rules
from contracts.models import Placement
from tests.conftest import sign_in
from tests.factories import (
    AuthorityFactory,
    ConsortiumFactory,
    ContractFactory,
    FlagFactory,
    HomeFactory,
    MembershipFactory,
    PlacementFactory,
    lead,
    partner,
    provider_user,
)

TODAY = date.today()


def block_of(consortium, **kwargs):
    home = HomeFactory()
    block = ContractFactory(
        consortium=consortium,
        provider=home.provider,
        start_date=TODAY - timedelta(days=400),
        end_date=TODAY + timedelta(days=700),
        max_end_date=TODAY + timedelta(days=700),
        **kwargs,
    )
    block.homes.append(home)
    return block


def values(authority, block, start, child="NEW-1"):
    return rules.PlacementValues(
        authority_code=authority.code,
        child_ref=child,
        contract_ref=block.ref,
        home_urn=block.homes[0].urn,
        start_date=start,
        end_date=None,
        weekly_pence=None,
        placement_type="residential",
        age_at_start=14,
    )


# ---------------------------------------------------------------- membership dates


def test_a_former_member_sees_only_its_own_history_and_cannot_place_under_the_contracts(client):
    leaver = AuthorityFactory()
    consortium = ConsortiumFactory()
    MembershipFactory(
        consortium=consortium, authority=leaver, joined=TODAY - timedelta(days=300), left=TODAY - timedelta(days=1)
    )
    block = block_of(consortium)
    own = PlacementFactory(
        authority=leaver, contract=block, home=block.homes[0], start_date=TODAY - timedelta(days=200), child_ref="OLD-1"
    )
    officer = partner(leaver)
    sign_in(client, officer)
    assert client.get(f"/contracts/{block.id}").status_code == 404
    assert block.ref not in client.get("/contracts").get_data(as_text=True)
    assert block.ref not in client.get("/returns").get_data(as_text=True)
    # Its own placement, made while a member, is still its own to see.
    assert client.get(f"/placements/{own.id}").status_code == 200
    assert client.get(f"/consortia/{consortium.id}").status_code == 200
    # The form offers only the contracts of current consortia; the rule refuses a start after leaving.
    form = client.get("/placements/new").get_data(as_text=True)
    assert block.ref not in form
    problems, _ = _check(values(leaver, block, TODAY))
    assert any("was not a member of the consortium" in p for p in problems), problems
    # A placement dated inside its membership is still accepted (recorded late).
    problems, _ = _check(values(leaver, block, TODAY - timedelta(days=100), child="LATE-1"))
    assert not problems, problems


def test_a_member_that_joins_in_the_future_sees_nothing_of_the_consortium_yet(client):
    newcomer = AuthorityFactory()
    consortium = ConsortiumFactory()
    MembershipFactory(consortium=consortium, authority=newcomer, joined=TODAY + timedelta(days=30))
    block = block_of(consortium)
    sign_in(client, partner(newcomer))
    assert client.get(f"/consortia/{consortium.id}").status_code == 404
    assert client.get(f"/contracts/{block.id}").status_code == 404
    assert block.ref not in client.get("/placements/new").get_data(as_text=True)
    problems, _ = _check(values(newcomer, block, TODAY))
    assert any("was not a member" in p for p in problems), problems


def test_a_request_to_join_grants_nothing_until_the_authority_accepts(client):
    asked = AuthorityFactory()
    consortium = ConsortiumFactory()
    block = block_of(consortium)
    the_lead = lead(consortium)
    request = services.request_membership(
        consortium, asked.code, TODAY - timedelta(days=10), None, the_lead, "http://test"
    )
    officer = partner(asked)
    sign_in(client, officer)
    assert client.get(f"/contracts/{block.id}").status_code == 404
    problems, _ = _check(values(asked, block, TODAY))
    assert any("is not a member" in p for p in problems), problems
    # The lead cannot accept on the authority's behalf; another authority's officer cannot either.
    with pytest.raises(services.RuleBroken):
        services.decide_membership_request(request, "accept", the_lead)
    sign_in(client, partner(AuthorityFactory()))
    assert client.post(f"/membership-requests/{request.id}/accept").status_code == 404
    sign_in(client, officer)
    assert client.post(f"/membership-requests/{request.id}/accept").status_code == 302
    assert db.session.scalar(
        select(Membership).where(Membership.authority_code == asked.code)
    ).joined == TODAY - timedelta(days=10)
    assert client.get(f"/contracts/{block.id}").status_code == 200


def test_a_declined_or_withdrawn_request_makes_no_membership(client):
    consortium = ConsortiumFactory()
    the_lead = lead(consortium)
    for decision, who in (("decline", partner), ("withdraw", lambda _: the_lead)):
        authority = AuthorityFactory()
        request = services.request_membership(consortium, authority.code, TODAY, None, the_lead, "http://test")
        sign_in(client, who(authority))
        assert client.post(f"/membership-requests/{request.id}/{decision}").status_code == 302
        db.session.refresh(request)
        assert request.status == {"decline": "declined", "withdraw": "withdrawn"}[decision]
        assert db.session.scalar(select(Membership).where(Membership.authority_code == authority.code)) is None
        # A decided request is decided for good.
        assert "already been" in client.post(
            f"/membership-requests/{request.id}/accept", follow_redirects=True
        ).get_data(as_text=True)


# ---------------------------------------------------------------- shared flags, acted on per consortium


@pytest.fixture
def shared_flag():
    """A quality drop on a home both consortia use."""
    first, second = ConsortiumFactory(), ConsortiumFactory()
    home = HomeFactory()
    for consortium in (first, second):
        block = ContractFactory(consortium=consortium, provider=home.provider)
        block.homes.append(home)
        PlacementFactory(contract=block, home=home, authority=consortium.lead)
    flag = FlagFactory(kind="quality_drop", subject=home.urn, home=home, provider=home.provider)
    return {"first": first, "second": second, "home": home, "flag": flag}


def test_each_consortium_acknowledges_and_resolves_a_shared_flag_for_itself(client, shared_flag):
    flag, first, second = shared_flag["flag"], shared_flag["first"], shared_flag["second"]
    first_lead, second_lead = lead(first, email="first@lead.test"), lead(second, email="second@lead.test")
    sign_in(client, first_lead)
    assert (
        client.post(
            f"/flags/{flag.id}/acknowledge", data={"note": "Calling the provider today", "version": flag.version}
        ).status_code
        == 302
    )
    db.session.refresh(flag)
    assert (
        client.post(
            f"/flags/{flag.id}/resolve", data={"note": "Improvement plan agreed with us", "version": flag.version}
        ).status_code
        == 302
    )
    page = client.get(f"/flags/{flag.id}").get_data(as_text=True)
    assert "Resolved for your consortium" in page and "Improvement plan agreed with us" in page
    assert flag.subject in client.get("/flags?status=resolved").get_data(as_text=True)
    assert flag.subject not in client.get("/flags?status=open").get_data(as_text=True)
    # The second consortium still has it open, sees that another acted, and reads neither note nor name.
    sign_in(client, second_lead)
    page = client.get(f"/flags/{flag.id}").get_data(as_text=True)
    assert "Open for your consortium" in page and "1 has resolved it" in page and "Another consortium" in page
    assert "Improvement plan" not in page and "Calling the provider" not in page and "first@lead.test" not in page
    assert flag.subject in client.get("/flags?status=open").get_data(as_text=True)
    assert "Improvement plan" not in client.get("/flags/export.csv").get_data(as_text=True)
    db.session.refresh(flag)
    assert (
        client.post(
            f"/flags/{flag.id}/acknowledge", data={"note": "We use it too", "version": flag.version}
        ).status_code
        == 302
    )
    # The provider and the partners see that consortia acted, never what they wrote or who they are.
    for viewer in (provider_user(shared_flag["home"].provider), partner(second.lead)):
        sign_in(client, viewer)
        page = client.get(f"/flags/{flag.id}").get_data(as_text=True)
        assert "Improvement plan" not in page and "first@lead.test" not in page
        if viewer.role == "provider":
            assert "We use it too" not in page and "second@lead.test" not in page
    # Still open as a flag: resolving it for one consortium closed it for nobody else.
    db.session.refresh(flag)
    assert flag.status == "acknowledged" and flag_services.can_act(second_lead, flag)


def test_a_newer_inspection_opens_a_shared_flag_anew_for_every_consortium(shared_flag):
    from audits.checks import FlagBook
    from tests.factories import InspectionFactory

    flag, first = shared_flag["flag"], shared_flag["first"]
    first_lead = lead(first)
    flag.inspection_id = InspectionFactory(home=shared_flag["home"], inspection_date=date(2024, 6, 1)).id
    db.session.flush()
    flag_services.resolve(flag, first_lead, "Done", flag.version)
    assert flag.seen_status(first_lead) == "resolved"
    newer = InspectionFactory(home=shared_flag["home"], inspection_date=date(2025, 6, 1))
    FlagBook("quality_drop").raise_flag(
        flag.subject,
        TODAY,
        reopen_guard=False,
        severity="high",
        detail="fell again",
        home_id=flag.home_id,
        inspection_id=newer.id,
    )
    assert flag.seen_status(first_lead) == "open" and flag.responses == []


# ---------------------------------------------------------------- filters never widen


@pytest.fixture
def two_tenants():
    """Ours and theirs; their member authority has placed children under their block and bought
    a spot placement in a home that is of concern."""
    ours, their_member = AuthorityFactory(code="E06000018"), AuthorityFactory(code="E06000099")
    our_consortium, their_consortium = ConsortiumFactory(members=[ours]), ConsortiumFactory(members=[their_member])
    our_block, their_block = block_of(our_consortium, ref="OUR-BLOCK"), block_of(their_consortium, ref="THEIR-BLOCK")
    PlacementFactory(authority=ours, contract=our_block, home=our_block.homes[0], child_ref="OUR-CHILD")
    PlacementFactory(authority=their_member, contract=their_block, home=their_block.homes[0], child_ref="THEIR-CHILD")
    spot_home = HomeFactory(urn="SC999001")
    PlacementFactory(authority=their_member, home=spot_home, child_ref="THEIR-SPOT")
    FlagFactory(kind="home_in_use_concern", subject=spot_home.urn, home=spot_home, provider=spot_home.provider)
    FlagFactory(
        kind="underused_block_beds",
        subject="THEIR-BLOCK",
        subject_key="THEIR-BLOCK",
        contract=their_block,
        provider=their_block.provider,
    )
    FlagFactory(
        kind="underused_block_beds",
        subject="OUR-BLOCK",
        subject_key="OUR-BLOCK",
        contract=our_block,
        provider=our_block.provider,
    )
    db.session.flush()
    return {
        "ours": ours,
        "our_consortium": our_consortium,
        "their_member": their_member,
        "their_block": their_block,
        "their_provider": their_block.provider,
    }


THEIRS = ("THEIR-CHILD", "THEIR-SPOT", "THEIR-BLOCK", "SC999001")


def test_every_filter_of_every_list_given_another_tenants_values_shows_only_the_viewers_rows(client, two_tenants):
    their_values = {
        "authority": two_tenants["their_member"].code,
        "contract": "THEIR-BLOCK",
        "home": "SC999001",
        "provider": str(two_tenants["their_provider"].id),
        "user": "system",
        "object": str(two_tenants["their_block"].id),
        "type": "Placement",
        "kind": "home_in_use_concern",
        "status": "all",
    }
    lists = {
        "/flags": ("kind", "status", "provider", "contract", "authority"),
        "/flags/export.csv": ("kind", "status", "provider", "contract", "authority"),
        "/placements": ("authority", "contract", "home", "status"),
        "/placements/export.csv": ("authority", "contract", "home", "status"),
        "/audit": ("user", "type", "object", "action"),
        "/audit/export.csv": ("user", "type", "object", "action"),
        "/contracts": ("kind",),
        "/returns": ("status",),
    }
    viewers = {"lead": lead(two_tenants["our_consortium"]), "partner": partner(two_tenants["ours"])}
    for role, viewer in viewers.items():
        sign_in(client, viewer)
        for url, params in lists.items():
            for param in params:
                if url.startswith("/audit") and role != "lead":
                    continue
                response = client.get(
                    url,
                    query_string={param: their_values.get(param, "x"), "status": their_values["status"]}
                    if param != "status"
                    else {param: their_values[param]},
                )
                assert response.status_code in (200, 403), (role, url, param, response.status_code)
                # What the person typed is shown back in the filter's box: that is theirs, not a leak.
                given = their_values.get(param, "x")
                text = response.get_data(as_text=True).replace(f'value="{given}"', "").replace(f"{param}={given}", "")
                if (param in ("kind", "status") and url.startswith("/flags")) or url.startswith("/audit"):
                    # The home, and the shared flag on it, are everyone's to see; who placed there is not.
                    text = text.replace("SC999001", "")
                leaked = [marker for marker in THEIRS if marker in text]
                assert not leaked, (
                    role,
                    url,
                    param,
                    leaked,
                    [text[max(0, text.index(m) - 150) : text.index(m) + 50] for m in leaked],
                )
    # The filter that leaked: a partner learnt where another consortium's authority had placed children.
    sign_in(client, viewers["partner"])
    assert "SC999001" in client.get("/flags?status=all").get_data(as_text=True)  # shared, so listed unfiltered
    filtered = client.get(f"/flags?status=all&authority={two_tenants['their_member'].code}").get_data(as_text=True)
    assert "SC999001" not in filtered
    # Filtering by one's own authority still finds one's own.
    assert "OUR-BLOCK" in client.get(f"/flags?status=all&authority={two_tenants['ours'].code}").get_data(as_text=True)


def test_a_filter_value_too_large_for_a_column_finds_nothing_and_never_fails(client, two_tenants):
    sign_in(client, lead(two_tenants["our_consortium"]))
    for url in (
        "/flags?provider=99999999999999999999999",
        "/flags?provider=-1",
        "/placements?page=1000000000000000000000000000",
        "/homes?judgement=99999999999999999999999",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/placements/99999999999999999999999").status_code == 404
    assert client.get("/contracts/9223372036854775808").status_code == 404
    assert client.get("/flags?kind=a%00b").status_code == 400


def test_placements_recorded_for_a_child_never_appear_in_another_consortiums_placement_list(client, two_tenants):
    sign_in(client, lead(two_tenants["our_consortium"]))
    listed = client.get("/placements?status=all").get_data(as_text=True)
    assert "OUR-CHILD" in listed and "THEIR-CHILD" not in listed and "THEIR-SPOT" not in listed
    assert db.session.scalar(select(Placement.id).where(Placement.child_ref == "THEIR-SPOT")) is not None


def _check(placement: rules.PlacementValues) -> tuple[list[str], dict]:
    return rules.PlacementChecker.for_values([placement]).check(placement)
