"""Referrals, the search order, offers, ranking and accepting (DESIGN §4a), with hand-worked examples."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from consortium.core.extensions import db
from consortium.core.messages import OutboxMessage
from consortium.core.services import RuleBroken
from contracts.models import Admission, Placement
from contracts.placements import PlacementValues
from contracts.referrals import figures, search, services
from providers import geo
from providers.models import PostcodeDistrict
from tests.factories import HomeFactory, InspectionFactory, JudgementFactory, PlacementFactory
from tests.factories import lead as lead_user
from tests.referral_world import OPENED, TODAY, invitation_of, offer, opened, referral_for

# ---------------------------------------------------------------- urgency, numbers, the first stage


@pytest.mark.parametrize(
    "needed_by, expected",
    [
        (date(2026, 11, 30), "Today"),
        (date(2026, 12, 1), "Today"),
        (date(2026, 12, 2), "< 5 days"),
        (date(2026, 12, 5), "< 5 days"),
        (date(2026, 12, 6), "> 5 days"),
    ],
)
def test_urgency_follows_the_needed_by_date(needed_by, expected):
    assert search.urgency(needed_by, date(2026, 12, 1)) == expected


def test_opening_numbers_the_referral_and_invites_the_block_and_the_preferred_tier(world):
    first = opened(world)
    second = opened(world, child_ref="NOT-0043")
    assert (first.number, second.number) == ("EMRF-R-2026-0001", "EMRF-R-2026-0002")
    assert first.urgency == "> 5 days"
    stages = sorted((i.provider.name, i.stage) for i in first.invitations)
    assert stages == [
        ("Block Homes Ltd", "Block"),
        ("Provider One Ltd", "Preferred"),
        ("Provider Two Ltd", "Preferred"),
    ]
    # Sent at opening; > 5 days: a 72-hour window.
    assert {search.aware(i.deadline) for i in first.invitations} == {OPENED + timedelta(hours=72)}
    assert search.aware(first.next_stage_at) == OPENED + timedelta(hours=72)
    sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "referral")).all()
    assert len(sent) == 6  # one per provider's member of staff, three providers, two referrals
    assert all("NOT-0042" not in m.body and "NOT-0043" not in m.body for m in sent)


def test_the_window_follows_the_urgency(world):
    today = opened(world, needed_by=TODAY)
    soon = opened(world, child_ref="NOT-0050", needed_by=TODAY + timedelta(days=3))
    assert {search.aware(i.deadline) - OPENED for i in today.invitations} == {timedelta(hours=4)}
    assert {search.aware(i.deadline) - OPENED for i in soon.invitations} == {timedelta(hours=24)}


def test_a_full_block_is_not_invited(world):
    for n in range(2):
        PlacementFactory(
            authority=world["nottingham"],
            contract=world["block"],
            home=world["block_home"],
            start_date=date(2026, 6, 1),
        )
    db.session.flush()
    referral = opened(world)
    assert "Block" not in {i.stage for i in referral.invitations}


def test_a_block_bed_free_for_only_some_of_the_28_nights_is_not_offered(world):
    PlacementFactory(
        authority=world["nottingham"], contract=world["block"], home=world["block_home"], start_date=date(2026, 6, 1)
    )
    # The second bed is taken from the 20th night from the needed-by date.
    PlacementFactory(
        authority=world["nottingham"],
        contract=world["block"],
        home=world["block_home"],
        start_date=TODAY + timedelta(days=27),
    )
    db.session.flush()
    assert "Block" not in {i.stage for i in opened(world).invitations}


def test_a_standing_block_offer_holds_its_bed(world):
    PlacementFactory(
        authority=world["nottingham"], contract=world["block"], home=world["block_home"], start_date=date(2026, 6, 1)
    )
    db.session.flush()
    first = opened(world)
    other = opened(world, child_ref="NOT-0044")  # invited too while the bed was free
    offer(invitation_of(first, world["block"].provider), world["block_home"])
    later = opened(world, child_ref="NOT-0043")
    assert "Block" not in {i.stage for i in later.invitations}
    # The same bed offered to a second referral: the second offer sees it held.
    with pytest.raises(RuleBroken, match="no bed free"):
        offer(invitation_of(other, world["block"].provider), world["block_home"])


def test_a_referral_needs_a_suitable_type_and_a_date_not_past(world):
    with pytest.raises(RuleBroken, match="at least one must be suitable"):
        services.open_referral(referral_for(world, residential_suitability="Unsuitable"), OPENED)
    with pytest.raises(RuleBroken, match="today, 1 Dec 2026, or later"):
        services.open_referral(referral_for(world, needed_by=TODAY - timedelta(days=1)), OPENED)
    with pytest.raises(RuleBroken, match="16 or over"):
        services.open_referral(referral_for(world, supported_suitability="Preferred"), OPENED)


# ---------------------------------------------------------------- tiers


def test_the_reserve_tier_is_invited_when_the_window_ends_with_no_offer(world):
    referral = opened(world)
    services.tick(OPENED + timedelta(hours=72) - timedelta(minutes=1))
    assert {i.stage for i in referral.invitations} == {"Block", "Preferred"}
    services.tick(OPENED + timedelta(hours=72))
    db.session.refresh(referral)
    reserve = [i for i in referral.invitations if i.stage == "Reserve"]
    assert [i.provider.name for i in reserve] == ["Provider Three Ltd"]
    assert search.aware(reserve[0].deadline) == OPENED + timedelta(hours=144)
    assert {i.status for i in referral.invitations if i.stage != "Reserve"} == {"no_response"}
    assert referral.next_stage_at is None  # no Other tier: nobody left to ask
    services.tick(OPENED + timedelta(hours=200))  # running again changes nothing but the expiry
    db.session.refresh(referral)
    assert len(referral.invitations) == 4


def test_a_standing_offer_at_the_window_end_holds_the_next_tier_back(world):
    referral = opened(world)
    one = world["homes"]["One"]
    offer(invitation_of(referral, one.provider), one, at=OPENED + timedelta(hours=30))
    services.tick(OPENED + timedelta(hours=72))
    db.session.refresh(referral)
    assert "Reserve" not in {i.stage for i in referral.invitations}
    # The offer lapses 48 hours after it was made; then the next tier is asked.
    services.tick(OPENED + timedelta(hours=78))
    db.session.refresh(referral)
    assert [o.status for o in referral.offers] == ["lapsed"]
    assert "Reserve" in {i.stage for i in referral.invitations}


# ---------------------------------------------------------------- offers and ranking


def test_offers_are_ranked_block_first_then_by_quality_and_price(world):
    one, two, three = (world["homes"][n] for n in ("One", "Two", "Three"))
    db.session.scalar(select(Admission).where(Admission.provider_id == three.provider_id)).tier = "Preferred"
    referral = opened(world)
    at = OPENED + timedelta(hours=1)
    # One (Outstanding): £4,000.00 core + £500.00 additional support = £4,500.00.
    offer(invitation_of(referral, one.provider), one, at=at, additional_support_pence=50000)
    # Two (Good): £3,600.00, the lowest.
    offer(invitation_of(referral, two.provider), two, core=360000, at=at + timedelta(minutes=1))
    # Three (not yet inspected): £3,700.00.
    offer(invitation_of(referral, three.provider), three, core=370000, at=at + timedelta(minutes=2))
    ranked = search.rank_offers(referral, referral.offers)
    figures = [(r.offer.home.urn, r.quality_points, r.price_points, r.score) for r in ranked]
    assert figures == [
        (one.urn, 60, Decimal("32.0"), Decimal("92.0")),  # 60 + 40 x 3600 / 4500
        (two.urn, 45, Decimal("40.0"), Decimal("85.0")),  # 45 + 40 x 3600 / 3600
        (three.urn, 30, Decimal("38.9"), Decimal("68.9")),  # 30 + 40 x 3600 / 3700 = 30 + 38.918...
    ]


def test_a_block_offer_comes_first_at_the_block_price(world):
    referral = opened(world)
    one = world["homes"]["One"]
    offer(invitation_of(referral, one.provider), one)
    block_offer = offer(invitation_of(referral, world["block"].provider), world["block_home"], core=1)
    assert (block_offer.total_pence, block_offer.is_block) == (350000, True)
    ranked = search.rank_offers(referral, referral.offers)
    assert [r.offer.is_block for r in ranked] == [True, False]
    assert ranked[0].score is None and ranked[1].score == Decimal("100.0")


def test_a_core_fee_above_the_framework_price_needs_a_reason(world):
    referral = opened(world)
    one = world["homes"]["One"]
    with pytest.raises(RuleBroken, match="above the framework price of £4,000.00 a week for standard need"):
        offer(invitation_of(referral, one.provider), one, core=410000)
    made = offer(invitation_of(referral, one.provider), one, core=410000, reason="Two to one staffing at night")
    assert made.above_framework_price and made.framework_price_pence == 400000


def test_offers_the_rules_refuse(world):
    referral = opened(world)
    one, two = world["homes"]["One"], world["homes"]["Two"]
    invitation = invitation_of(referral, one.provider)
    with pytest.raises(RuleBroken, match="Choose one of your homes"):
        offer(invitation, two)
    flat = HomeFactory(provider=one.provider, provision_type="Supported accommodation")
    with pytest.raises(RuleBroken, match="does not give the kind of placement"):
        offer(invitation, flat)
    with pytest.raises(RuleBroken, match="deadline for answering EMRF-R-2026-0001 was 4 Dec 2026 09:00"):
        offer(invitation, one, at=OPENED + timedelta(hours=72))


def test_a_decline_needs_a_reason_and_ends_the_invitation(world):
    referral = opened(world)
    invitation = invitation_of(referral, world["block"].provider)
    with pytest.raises(RuleBroken, match="Choose a reason"):
        services.decline(invitation, "Busy", None, OPENED)
    services.decline(invitation, "No vacancy", None, OPENED + timedelta(hours=1))
    assert invitation.status == "declined"
    with pytest.raises(RuleBroken, match="already answered"):
        services.decline(invitation, "No vacancy", None, OPENED + timedelta(hours=2))


def test_distance_uses_the_postcode_district_when_imported(world):
    home = world["homes"]["One"]
    nottingham = world["nottingham"]
    # Nottingham's point to Derby's point: 13.37 miles on the 3,958.8-mile sphere.
    home.local_authority, home.postcode = "Derby", "DE22 1AA"
    assert geo.distances_from(nottingham, [home])[home.id] == geo.Distance(Decimal("13.4"), "Derby's point")
    db.session.add(PostcodeDistrict(district="DE22", latitude=Decimal("53.2307"), longitude=Decimal("-0.5406")))
    db.session.flush()
    assert geo.distances_from(nottingham, [home])[home.id] == geo.Distance(Decimal("31.9"), "postcode district DE22")


# ---------------------------------------------------------------- accepting


def test_accepting_makes_the_placement_and_closes_the_referral(world):
    referral = opened(world)
    one, two = world["homes"]["One"], world["homes"]["Two"]
    chosen = offer(invitation_of(referral, one.provider), one, additional_support_pence=25000)
    other = offer(invitation_of(referral, two.provider), two)
    placement = services.accept(chosen, at=OPENED + timedelta(hours=2))
    assert (placement.contract.ref, placement.home_id, placement.fees[0].weekly_pence) == ("EM-FW", one.id, 425000)
    assert (placement.child_ref, placement.age_at_start, placement.placement_type) == ("NOT-0042", 14, "residential")
    assert (referral.status, referral.placement_id) == ("placed", placement.id)
    assert (chosen.status, other.status) == ("accepted", "not_selected")
    told = {m.subject for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.period.like("closed-%")))}
    assert told == {"Referral EMRF-R-2026-0001: placed elsewhere"}
    with pytest.raises(RuleBroken, match="already placed"):
        services.accept(other, at=OPENED + timedelta(hours=3))


def test_passing_over_a_block_offer_needs_a_reason(world):
    referral = opened(world)
    one = world["homes"]["One"]
    chosen = offer(invitation_of(referral, one.provider), one)
    offer(invitation_of(referral, world["block"].provider), world["block_home"])
    with pytest.raises(RuleBroken, match="A block bed is offered"):
        services.accept(chosen, at=OPENED + timedelta(hours=2))
    services.accept(chosen, passed_block_reason="Nearer the child's school", at=OPENED + timedelta(hours=2))
    assert referral.passed_block_reason == "Nearer the child's school"


def test_accepting_a_block_offer_places_under_the_block(world):
    referral = opened(world)
    made = offer(invitation_of(referral, world["block"].provider), world["block_home"])
    placement = services.accept(made, at=OPENED + timedelta(hours=2))
    assert placement.contract.ref == "EM-BLOCK" and placement.fees == []


def test_a_home_judged_inadequate_since_the_offer_needs_a_reason(world):
    referral = opened(world)
    one = world["homes"]["One"]
    made = offer(invitation_of(referral, one.provider), one)
    InspectionFactory(home=one, inspection_date=TODAY, judgement=JudgementFactory(name="Inadequate", rank=4))
    with pytest.raises(RuleBroken, match="has since been judged Inadequate"):
        services.accept(made, at=OPENED + timedelta(hours=2))
    services.accept(made, inadequate_reason="Ofsted's concerns are about another wing", at=OPENED + timedelta(hours=2))


def test_a_lapsed_offer_cannot_be_accepted(world):
    referral = opened(world)
    one = world["homes"]["One"]
    made = offer(invitation_of(referral, one.provider), one)
    with pytest.raises(RuleBroken, match="has lapsed"):
        services.accept(made, at=OPENED + timedelta(hours=50))


# ---------------------------------------------------------------- spot, withdrawing, unmet


def spot_values(home):
    return PlacementValues(
        authority_code="",
        child_ref="",
        contract_ref=None,
        home_urn=home.urn,
        start_date=TODAY + timedelta(days=7),
        end_date=None,
        weekly_pence=520000,
        placement_type="residential",
    )


def test_spot_waits_for_every_answer_and_every_tier(world):
    referral = opened(world)
    spot_home = HomeFactory()
    with pytest.raises(RuleBroken, match="A spot purchase waits"):
        services.buy_spot(referral, spot_values(spot_home), "Nothing suits", OPENED + timedelta(hours=1))
    services.tick(OPENED + timedelta(hours=72))
    db.session.refresh(referral)
    assert not search.spot_allowed(referral, OPENED + timedelta(hours=100))  # Reserve still has time
    services.tick(OPENED + timedelta(hours=144))
    db.session.refresh(referral)
    placement = services.buy_spot(referral, spot_values(spot_home), "Nothing suits", OPENED + timedelta(hours=145))
    assert placement.contract_id is None and referral.spot_reason == "Nothing suits"


def test_spot_at_once_for_a_referral_needed_today(world):
    referral = opened(world, needed_by=TODAY)
    with pytest.raises(RuleBroken, match="Say why"):
        services.buy_spot(referral, spot_values(HomeFactory()), " ", OPENED)
    services.buy_spot(referral, spot_values(HomeFactory()), "Needed tonight", OPENED)
    assert referral.status == "placed"


def test_withdrawing_tells_every_invited_provider(world):
    referral = opened(world)
    services.withdraw(referral, "Returned home", OPENED + timedelta(hours=1))
    assert referral.status == "withdrawn"
    told = db.session.scalars(select(OutboxMessage).where(OutboxMessage.period.like("closed-%"))).all()
    assert len(told) == 3 and {i.status for i in referral.invitations} == {"closed"}


def test_closing_unmet_needs_a_known_reason(world):
    referral = opened(world)
    with pytest.raises(RuleBroken, match="Choose a reason"):
        services.close_unmet(referral, "Gave up")
    services.close_unmet(referral, "No suitable offer", "Needs could not be met within the region")
    assert (referral.status, referral.close_reason) == (
        "unmet",
        "No suitable offer: Needs could not be met within the region",
    )


def test_nobody_to_invite_allows_spot_at_once(world):
    referral = opened(world, residential_suitability="Unsuitable", foster_suitability="Preferred")
    assert referral.invitations == [] and referral.next_stage_at is None
    assert search.spot_allowed(referral, OPENED)
    assert db.session.scalar(select(Placement.id)) is None


# ---------------------------------------------------------------- the lead dashboard's figures


def test_the_lead_sees_referrals_placed_by_route_and_the_median_hours(world):
    block_provider, one, two = (world["block"].provider, world["homes"]["One"], world["homes"]["Two"])
    november = referral_for(world, child_ref="NOT-0040")
    services.open_referral(november, OPENED - timedelta(hours=23))  # 30 November, 10:00
    made = offer(invitation_of(november, block_provider), world["block_home"], at=OPENED - timedelta(hours=22))
    services.accept(made, at=OPENED - timedelta(hours=21))  # 2 hours after opening
    by_block, by_one, by_two = (opened(world, child_ref=f"NOT-004{n}") for n in (1, 2, 3))
    made = offer(invitation_of(by_block, block_provider), world["block_home"])
    services.accept(made, at=OPENED + timedelta(hours=2))  # 2 hours
    services.accept(offer(invitation_of(by_one, one.provider), one), at=OPENED + timedelta(hours=5))
    services.accept(offer(invitation_of(by_two, two.provider), two), at=OPENED + timedelta(hours=12))
    spot = opened(world, child_ref="NOT-0044", needed_by=TODAY)
    services.buy_spot(spot, spot_values(HomeFactory()), "Needed tonight", OPENED + timedelta(hours=9))
    opened(world, child_ref="NOT-0045")  # still open
    PlacementFactory(contract=world["block"], home=world["block_home"], start_date=TODAY + timedelta(days=2))
    lead = lead_user(world["consortium"])

    december = figures.lead_figures(lead, TODAY, date(2026, 12, 31))
    assert december.open == 1
    assert december.placed_by_month == {(2026, 12): {"block": 1, "framework": 2, "spot": 1}}
    assert december.median_hours == pytest.approx(7.0)  # 2, 5, 9, 12: between 5 and 9
    # Both block placements found through referrals start on 8 December, one more was placed directly.
    assert december.block_starts == 3
    autumn = figures.lead_figures(lead, date(2026, 11, 1), date(2026, 12, 31))
    assert autumn.placed_by_month[(2026, 11)] == {"block": 1}
    assert autumn.placed("block") == 2 and autumn.median_hours == pytest.approx(5.0)  # 2, 2, 5, 9, 12
    assert figures.lead_figures(lead_user(), TODAY, date(2026, 12, 31)).open == 0  # another consortium
