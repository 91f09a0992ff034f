"""Demand, unmet need and stability (DESIGN §4b), counted by hand."""

from datetime import date, timedelta

import pytest

from consortium.sufficiency import demand as dm
from consortium.sufficiency import forecast as fc
from contracts.referrals import services
from tests.contracts.test_referrals import spot_values
from tests.factories import AuthorityFactory, HomeFactory, PlacementFactory
from tests.referral_world import OPENED, TODAY, invitation_of, offer, opened


def test_demand_counts_referrals_by_month_age_urgency_and_outcome(world):
    nottingham = world["nottingham"]
    one = world["homes"]["One"]
    placed = opened(world, child_ref="NOT-1", age_in_years=15)
    services.accept(offer(invitation_of(placed, one.provider), one), at=OPENED + timedelta(hours=6))
    unmet = opened(world, child_ref="NOT-2", age_in_years=16, needed_by=TODAY)
    services.decline(invitation_of(unmet, one.provider), "No vacancy", None, OPENED + timedelta(hours=1))
    services.close_unmet(unmet, "No suitable offer", None, OPENED + timedelta(hours=3))
    spot = opened(world, child_ref="NOT-3", age_in_years=9, needed_by=TODAY)
    services.buy_spot(spot, spot_values(HomeFactory()), "Needed tonight", OPENED + timedelta(hours=2))
    services.withdraw(opened(world, child_ref="NOT-4"), "Returned home", OPENED + timedelta(hours=1))
    opened(world, child_ref="NOT-5", age_in_years=4)
    scope = fc.authority_scope(nottingham)

    found = dm.demand(scope, TODAY, TODAY)
    assert found.opened == 5 and found.by_month == [("Dec 2026", 5)]
    assert found.by_age == [("0 to 4", 1), ("5 to 9", 1), ("10 to 15", 2), ("16 to 17", 1)]
    assert found.by_urgency == [("Today", 2), ("< 5 days", 0), ("> 5 days", 3)]
    assert found.outcomes == {"block": 0, "framework": 1, "spot": 1, "unmet": 1, "withdrawn": 1, "open": 1}
    assert found.median_hours == pytest.approx(4.0)  # placed after 6 hours and 2 hours
    assert found.offers_per_referral == pytest.approx(1 / 5)
    assert found.decline_reasons == [("No vacancy", 1)]
    assert found.by_kind == [("Residential care", 5)]
    assert found.unmet_by_kind == [("Residential care", 1, 1)]  # one closed unmet, one bought spot
    assert dm.demand(scope, TODAY + timedelta(days=1), TODAY + timedelta(days=30)).opened == 0


def test_stability_counts_children_with_three_placements_unplanned_endings_and_moves():
    authority = AuthorityFactory(code="E06000018", name="Nottingham")
    for start, end, code in (
        (date(2025, 4, 10), date(2025, 6, 1), "CREQB"),  # unplanned
        (date(2025, 6, 1), date(2025, 9, 1), "CARPL"),
        (date(2025, 9, 1), None, None),
    ):
        PlacementFactory(authority=authority, child_ref="NOT-A", start_date=start, end_date=end, end_reason_code=code)
    PlacementFactory(authority=authority, child_ref="NOT-B", start_date=date(2024, 1, 1))
    years = dm.stability(fc.authority_scope(authority), 2025, years=2)
    earlier, year = years
    assert (year.year, year.children, year.three_or_more, year.unplanned, year.ended, year.placements) == (
        2025,
        2,
        1,
        1,
        2,
        4,
    )
    assert year.moves_per_child == pytest.approx(1.0) and year.three_or_more_share == pytest.approx(50.0)
    assert (earlier.year, earlier.children, earlier.placements) == (2024, 1, 1)  # NOT-B since January 2024
