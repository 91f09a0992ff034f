"""Co-funding (DESIGN §4c): contributions within the fee on every night, and what co-funders owe,
worked by hand to the penny."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from consortium.core.extensions import db
from consortium.core.services import RuleBroken
from contracts import cofunding, services
from tests.factories import (
    AuthorityFactory,
    CofunderFactory,
    ConsortiumFactory,
    ContractFactory,
    PlacementFactory,
    PlacementFeeFactory,
)

Q1 = (date(2026, 4, 1), date(2026, 6, 30))


@pytest.fixture
def world():
    """Nottingham's two framework placements: CH-1 from 1 Apr 2026 at £3,500.00 a week, open;
    CH-2 from 10 May to 20 Jun 2026 (left that day) at £2,800.00, then £3,000.00 from 1 June."""
    nottingham = AuthorityFactory(code="E06000018", name="Nottingham")
    consortium = ConsortiumFactory(ref="EMRF", lead=nottingham)
    framework = ContractFactory(consortium=consortium, kind="framework", start_date=date(2025, 4, 1))
    one = PlacementFactory(authority=nottingham, child_ref="CH-1", contract=framework, start_date=date(2026, 4, 1))
    PlacementFeeFactory(placement=one, weekly_pence=350_000)
    two = PlacementFactory(
        authority=nottingham,
        child_ref="CH-2",
        contract=framework,
        start_date=date(2026, 5, 10),
        end_date=date(2026, 6, 20),
    )
    PlacementFeeFactory(placement=two, weekly_pence=280_000)
    PlacementFeeFactory(placement=two, weekly_pence=300_000, effective_from=date(2026, 6, 1))
    db.session.expire_all()
    icb = CofunderFactory(ref="NHS-NOTTS-ICB", name="NHS Nottingham and Nottinghamshire ICB", kind="health")
    send = CofunderFactory(ref="NOTTS-SEND", name="Nottingham SEND", kind="education")
    return {"consortium": consortium, "framework": framework, "one": one, "two": two, "icb": icb, "send": send}


def test_a_quarter_of_percentages_fixed_amounts_and_a_fee_change_to_the_penny(world):
    w = world
    cofunding.add_contribution(w["one"], w["icb"], date(2026, 4, 1), percent=Decimal("25"))
    cofunding.add_contribution(w["two"], w["icb"], date(2026, 5, 10), weekly_pence=70_000)
    cofunding.add_contribution(w["two"], w["send"], date(2026, 6, 1), date(2026, 6, 10), percent=Decimal("33.33"))
    due = cofunding.due_in_period(*Q1)

    # The ICB: CH-1, 91 nights x 25% of £3,500.00 / 7 = 91 x £125.00 = £11,375.00;
    # CH-2, 10 May to 19 June = 22 + 19 = 41 nights x £700.00 / 7 = £4,100.00. Total £15,475.00.
    total, lines = due[w["icb"].id]
    assert total == 1_547_500
    assert [(d.child_ref, d.nights, d.amount_pence) for d in lines] == [("CH-1", 91, 1_137_500), ("CH-2", 41, 410_000)]
    # SEND: 1 to 10 June, 10 nights x 33.33% of £3,000.00 (the new fee) / 7 = £1,428.428571... = £1,428.43.
    total, lines = due[w["send"].id]
    assert lines[0].exact == Fraction(10 * 300_000 * 3333, 70_000)
    assert (total, lines[0].nights) == (142_843, 10)


def test_rows_get_whole_pence_by_largest_remainder_and_add_up_to_the_total(world):
    w = world
    # £100.00 a week on each placement, for one night each: £14.285714... each, £28.571428... in
    # all, rounded once to £28.57; the left-over penny goes to the lower child reference.
    cofunding.add_contribution(w["one"], w["icb"], date(2026, 6, 19), date(2026, 6, 19), weekly_pence=10_000)
    cofunding.add_contribution(w["two"], w["icb"], date(2026, 6, 19), date(2026, 6, 19), weekly_pence=10_000)
    total, lines = cofunding.due_in_period(*Q1)[w["icb"].id]
    assert total == 2857
    assert [(d.child_ref, d.amount_pence) for d in lines] == [("CH-1", 1429), ("CH-2", 1428)]


def test_a_range_over_two_quarters_rounds_each_quarter_once(world):
    w = world
    # £100.00 a week over 25 June to 6 July: 6 nights in Q1 (£85.714285... = £85.71) and 6 in Q2
    # (£85.71 again): £171.42, where rounding the 12 nights at once would give £171.43.
    cofunding.add_contribution(w["one"], w["icb"], date(2026, 4, 1), weekly_pence=10_000)
    lines, total = cofunding.due_for(w["icb"], date(2026, 6, 25), date(2026, 7, 6))
    assert total == 17_142
    assert [(x.child_ref, x.nights, x.amount_pence) for x in lines] == [("CH-1", 12, 17_142)]


def test_shares_over_the_fee_are_refused_with_the_night(world):
    w = world
    cofunding.add_contribution(w["one"], w["icb"], date(2026, 4, 1), percent=Decimal("25"))
    with pytest.raises(
        RuleBroken, match=r"On the night of 1 May 2026 .* £3,675.00 a week, more than the fee of £3,500.00"
    ):
        cofunding.add_contribution(w["one"], w["send"], date(2026, 5, 1), percent=Decimal("80"))
    # £875.00 (25%) and a fixed £2,725.00 come to £3,600.00.
    with pytest.raises(RuleBroken, match=r"1 Apr 2026 .* £3,600.00 a week, more than the fee of £3,500.00"):
        cofunding.add_contribution(w["one"], w["send"], date(2026, 4, 1), weekly_pence=272_500)


def test_a_fixed_amount_above_the_fee_is_refused(world):
    with pytest.raises(RuleBroken, match=r"10 May 2026 .* more than the fee of £2,800.00"):
        cofunding.add_contribution(world["two"], world["icb"], date(2026, 5, 10), weekly_pence=280_001)


def test_a_lower_fee_may_not_fall_below_a_fixed_contribution(world):
    w = world
    cofunding.add_contribution(w["two"], w["icb"], date(2026, 5, 10), weekly_pence=250_000)
    with pytest.raises(RuleBroken, match=r"On the night of 5 Jun 2026 .* more than the fee of £2,400.00"):
        services.change_fee(w["two"], 240_000, date(2026, 6, 5))


def test_a_contribution_before_the_placement_a_block_placement_and_an_overlap_are_refused(world):
    w = world
    with pytest.raises(RuleBroken, match="cannot start before the placement, which started on 1 Apr 2026"):
        cofunding.add_contribution(w["one"], w["icb"], date(2026, 3, 31), percent=Decimal("10"))
    with pytest.raises(RuleBroken, match="The placement ended on 20 Jun 2026"):
        cofunding.add_contribution(w["two"], w["icb"], date(2026, 6, 20), percent=Decimal("10"))
    block_placement = PlacementFactory(
        contract=ContractFactory(consortium=w["consortium"]), start_date=date(2026, 4, 1)
    )
    with pytest.raises(RuleBroken, match="no weekly fee"):
        cofunding.add_contribution(block_placement, w["icb"], date(2026, 4, 1), percent=Decimal("10"))
    cofunding.add_contribution(w["one"], w["icb"], date(2026, 4, 1), date(2026, 4, 30), percent=Decimal("10"))
    with pytest.raises(RuleBroken, match="already contributes from 1 Apr 2026"):
        cofunding.add_contribution(w["one"], w["icb"], date(2026, 4, 30), percent=Decimal("10"))
    # The next night is free: a new share from 1 May is the history's next row.
    cofunding.add_contribution(w["one"], w["icb"], date(2026, 5, 1), percent=Decimal("20"))
    for percent in (Decimal("0"), Decimal("100.5"), Decimal("12.345")):
        with pytest.raises(RuleBroken, match="percentage must be more than 0 and at most 100"):
            cofunding.add_contribution(w["one"], w["send"], date(2026, 4, 1), percent=percent)
    with pytest.raises(RuleBroken, match="not both"):
        cofunding.add_contribution(w["one"], w["send"], date(2026, 4, 1), percent=Decimal(5), weekly_pence=100)


def test_ending_a_contribution_keeps_its_earlier_nights(world):
    w = world
    share = cofunding.add_contribution(w["one"], w["icb"], date(2026, 4, 1), percent=Decimal("25"))
    cofunding.end_contribution(share, date(2026, 4, 30))
    total, lines = cofunding.due_in_period(*Q1)[w["icb"].id]
    assert (lines[0].nights, total) == (30, 30 * 12_500)
    with pytest.raises(RuleBroken, match="on or after the first"):
        cofunding.end_contribution(share, date(2026, 3, 31))


def test_funding_shares_must_add_up_to_100(world):
    block = ContractFactory(consortium=world["consortium"], start_date=date(2026, 4, 1))
    with pytest.raises(RuleBroken, match="add up to 90%, not 100%"):
        cofunding.set_funding_shares(
            block, date(2026, 4, 1), {"E06000018": Decimal("50.00")}, {world["icb"].id: Decimal("40.00")}
        )
    shares = cofunding.set_funding_shares(
        block,
        date(2026, 4, 1),
        {"E06000018": Decimal("50")},
        {world["icb"].id: Decimal("25"), world["send"].id: Decimal("25")},
    )
    assert sorted(s.basis_points for s in shares) == [2500, 2500, 5000]
    assert len(cofunding.funding_shares_on(block, date(2026, 6, 1))) == 3
    assert cofunding.funding_shares_on(block, date(2026, 3, 31)) == []
