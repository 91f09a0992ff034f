"""The referrals' flags (DESIGN §4a): referral_unanswered and block_void_while_spot, worked by hand."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from audits import checks
from audits.models import Flag
from consortium.core.extensions import db
from contracts.referrals import services
from tests.factories import HomeFactory, PlacementFactory, PlacementFeeFactory
from tests.referral_world import OPENED, TODAY, invitation_of, offer, opened


def flags(kind):
    return db.session.scalars(select(Flag).where(Flag.kind == kind).order_by(Flag.id)).all()


def test_an_open_referral_past_its_needed_by_date_is_flagged_until_placed(world):
    referral = opened(world)  # needed by 8 Dec 2026
    checks.run(TODAY + timedelta(days=7), ["referral_unanswered"])
    assert flags("referral_unanswered") == []
    one = world["homes"]["One"]
    offer(invitation_of(referral, one.provider), one, at=OPENED + timedelta(hours=2))
    checks.run(TODAY + timedelta(days=8), ["referral_unanswered"])
    (flag,) = flags("referral_unanswered")
    assert (flag.subject, flag.severity, flag.referral_id, flag.event_date) == (
        "EMRF-R-2026-0001",
        "medium",
        referral.id,
        TODAY + timedelta(days=7),
    )
    assert flag.detail == (
        "EMRF-R-2026-0001 for Nottingham was needed by 8 Dec 2026 and is still open: "
        "1 offer standing, 2 of 3 invitations unanswered"
    )
    services.withdraw(referral, "No longer needed", OPENED + timedelta(days=8))
    checks.run(TODAY + timedelta(days=9), ["referral_unanswered"])
    assert flag.status == "resolved"


def test_a_referral_needed_today_is_flagged_high(world):
    opened(world, needed_by=TODAY)
    checks.run(TODAY + timedelta(days=1), ["referral_unanswered"])
    assert [f.severity for f in flags("referral_unanswered")] == ["high"]


def test_a_spot_placement_while_a_block_bed_stood_empty(world):
    start = TODAY + timedelta(days=10)
    home = HomeFactory(provision_type="Children's home")
    placement = PlacementFactory(authority=world["nottingham"], home=home, start_date=start, child_ref="NOT-0099")
    PlacementFeeFactory(placement=placement, weekly_pence=520000)
    db.session.flush()
    checks.run(start - timedelta(days=1), ["block_void_while_spot"])
    assert flags("block_void_while_spot") == []
    checks.run(start, ["block_void_while_spot"])
    (flag,) = flags("block_void_while_spot")
    # Both beds free on each of the 7 nights: 14 void bed-nights at £3,500.00 a bed-week = £7,000.00.
    assert (flag.subject, flag.placement_id, flag.void_bed_nights, flag.pence) == ("EM-BLOCK", placement.id, 14, 700000)
    assert flag.detail == (
        "Nottingham placed a child through a spot purchase at £5,200.00 a week from 11 Dec 2026 in a children's "
        "home, while EM-BLOCK had a bed free on each of the 7 nights from then (void cost £7,000.00 over those "
        "nights); its provider was not invited"
    )
    checks.run(start, ["block_void_while_spot"])
    assert len(flags("block_void_while_spot")) == 1
    # Resolved by a person, the same placement never opens it again.
    flag.status = "resolved"
    db.session.flush()
    checks.run(start, ["block_void_while_spot"])
    assert [f.status for f in flags("block_void_while_spot")] == ["resolved"]


def test_no_flag_when_the_block_was_asked_for_the_child(world):
    referral = opened(world, child_ref="NOT-0099")
    services.decline(invitation_of(referral, world["block"].provider), "Cannot meet needs", None, OPENED)
    start = TODAY + timedelta(days=10)
    placement = PlacementFactory(
        authority=world["nottingham"], home=HomeFactory(), start_date=start, child_ref="NOT-0099"
    )
    PlacementFeeFactory(placement=placement, weekly_pence=520000)
    db.session.flush()
    checks.run(start, ["block_void_while_spot"])
    assert flags("block_void_while_spot") == []


def test_no_flag_when_the_block_was_full(world):
    for _ in range(2):
        PlacementFactory(
            authority=world["nottingham"], contract=world["block"], home=world["block_home"], start_date=TODAY
        )
    start = TODAY + timedelta(days=10)
    placement = PlacementFactory(authority=world["nottingham"], home=HomeFactory(), start_date=start)
    PlacementFeeFactory(placement=placement, weekly_pence=520000)
    db.session.flush()
    checks.run(start, ["block_void_while_spot"])
    assert flags("block_void_while_spot") == []
