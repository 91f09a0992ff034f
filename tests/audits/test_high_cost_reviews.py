"""High-cost reviews (DESIGN §4b): a placement at or above its consortium's threshold needs a
recorded review at least every 183 days; `high_cost_review_due` says when one is due. By hand."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from audits import checks
from audits.models import Flag
from consortium.core.access import scoped
from consortium.core.extensions import db
from consortium.core.services import RuleBroken
from contracts import services
from tests.factories import (
    AuthorityFactory,
    ConsortiumFactory,
    ContractFactory,
    HomeFactory,
    PlacementFactory,
    PlacementFeeFactory,
    partner,
)

START = date(2026, 1, 1)  # 183 days on is 3 July 2026


@pytest.fixture
def costly():
    nottingham = AuthorityFactory(code="E06000018", name="Nottingham")
    derby = AuthorityFactory(code="E06000015", name="Derby")
    consortium = ConsortiumFactory(ref="EMRF", lead=derby, members=[nottingham], high_cost_weekly_pence=600000)
    framework = ContractFactory(kind="framework", consortium=consortium, beds=None, start_date=date(2025, 4, 1))
    home = HomeFactory(name="Willow House")
    placements = {}
    for ref, pence in (("NOT-HIGH", 645000), ("NOT-EXACT", 600000), ("NOT-BELOW", 599999)):
        placements[ref] = PlacementFactory(
            authority=nottingham, child_ref=ref, contract=framework, home=home, start_date=START
        )
        PlacementFeeFactory(placement=placements[ref], weekly_pence=pence, effective_from=START)
    return placements


def due():
    return db.session.scalars(
        select(Flag).where(Flag.kind == "high_cost_review_due", Flag.status != "resolved").order_by(Flag.subject)
    ).all()


def test_a_review_is_due_183_days_after_the_start_at_or_above_the_threshold(costly):
    checks.run(date(2026, 7, 3), ["high_cost_review_due"])  # exactly 183 days: not yet
    assert due() == []
    checks.run(date(2026, 7, 4), ["high_cost_review_due"])
    assert [f.subject for f in due()] == ["NOT-EXACT (Nottingham)", "NOT-HIGH (Nottingham)"]  # never £5,999.99
    high = next(f for f in due() if f.subject.startswith("NOT-HIGH"))
    assert high.detail == (
        "Nottingham's placement of NOT-HIGH at Willow House costs £6,450.00 a week, at or above the £6,000.00 "
        "threshold, and was not reviewed since it started on 1 Jan 2026: a review is due every 183 days"
    )
    assert (high.pence, high.placement_id, high.contract_id) == (645000, costly["NOT-HIGH"].id, None)


def test_a_recorded_review_resolves_the_flag_until_183_days_after_it(costly):
    checks.run(date(2026, 7, 4), ["high_cost_review_due"])
    services.record_review(costly["NOT-HIGH"], date(2026, 7, 4), "step_down", "A step-down plan by September")
    checks.run(date(2026, 7, 5), ["high_cost_review_due"])
    assert [f.subject for f in due()] == ["NOT-EXACT (Nottingham)"]
    checks.run(date(2027, 1, 3), ["high_cost_review_due"])  # 183 days after 4 July
    assert [f.subject for f in due()] == ["NOT-EXACT (Nottingham)"]
    checks.run(date(2027, 1, 4), ["high_cost_review_due"])
    assert [f.subject for f in due()] == ["NOT-EXACT (Nottingham)", "NOT-HIGH (Nottingham)"]
    again = next(f for f in due() if f.subject.startswith("NOT-HIGH"))
    assert "last reviewed on 4 Jul 2026" in again.detail


def test_a_spot_placement_meets_the_lowest_threshold_of_its_authoritys_consortia(costly):
    nottingham = costly["NOT-HIGH"].authority
    ConsortiumFactory(members=[nottingham], high_cost_weekly_pence=500000)
    spot = PlacementFactory(authority=nottingham, child_ref="NOT-SPOT", start_date=START)
    PlacementFeeFactory(placement=spot, weekly_pence=550000, effective_from=START)
    checks.run(date(2026, 7, 4), ["high_cost_review_due"])
    assert "NOT-SPOT (Nottingham)" in [f.subject for f in due()]


def test_only_those_who_may_see_the_placement_see_its_flag(costly):
    checks.run(date(2026, 7, 4), ["high_cost_review_due"])
    derby_officer = partner(costly["NOT-HIGH"].contract.consortium.lead)  # a member, not the placing authority
    nottingham_officer = partner(costly["NOT-HIGH"].authority)
    assert db.session.scalars(scoped(Flag, derby_officer).select()).all() == []
    assert len(db.session.scalars(scoped(Flag, nottingham_officer).select()).all()) == 2


def test_a_review_needs_a_known_outcome_and_a_date_in_the_placement(costly):
    placement = costly["NOT-HIGH"]
    with pytest.raises(RuleBroken, match="Choose the outcome"):
        services.record_review(placement, date(2026, 3, 1), "maybe", None)
    with pytest.raises(RuleBroken, match="on or after the start, 1 Jan 2026"):
        services.record_review(placement, date(2025, 12, 31), "continue", None)
    with pytest.raises(RuleBroken, match="or earlier"):
        services.record_review(placement, date(2999, 1, 1), "continue", None)
