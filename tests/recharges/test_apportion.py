"""The apportionment engine: the DESIGN example, membership by days, bases, and properties."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consortium.recharges.apportion import (
    ApportionmentError,
    Member,
    apportion,
    share_percent,
)


def amounts(shares):
    return [(s.code, s.amount) for s in shares]


def test_the_design_example():
    members = [Member("E1", 365, 1), Member("E2", 365, 1), Member("E3", 365, 1)]
    shares = apportion(10_000_000, members, "placements")
    assert amounts(shares) == [("E1", 3_333_334), ("E2", 3_333_333), ("E3", 3_333_333)]
    assert [share_percent(s, 10_000_000) for s in shares] == [Decimal("33.33")] * 3


def test_by_placements_with_a_base_part():
    # £1,000 with a 50% base: £500 equally (£166.666...) and £500 by placements 3:1:0.
    members = [Member("E1", 365, 3), Member("E2", 365, 1), Member("E3", 365, 0)]
    shares = apportion(100_000, members, "placements", base_percent=50)
    assert [s.exact for s in shares] == [Fraction(50000, 3) + 37500, Fraction(50000, 3) + 12500, Fraction(50000, 3)]
    assert amounts(shares) == [("E1", 54167), ("E2", 29167), ("E3", 16666)]


def test_a_member_joining_mid_period_shares_the_equal_part_by_days():
    # 365-day year; E3 joined for the last 73 days: weights 365:365:73.
    shares = apportion(803_00, [Member("E1", 365), Member("E2", 365), Member("E3", 73)], "equal")
    assert [s.exact for s in shares] == [
        Fraction(80300 * 365, 803),
        Fraction(80300 * 365, 803),
        Fraction(80300 * 73, 803),
    ]
    assert amounts(shares) == [("E1", 36500), ("E2", 36500), ("E3", 7300)]


def test_no_usage_at_all_splits_the_usage_part_equally():
    shares = apportion(100, [Member("E1", 10, 0), Member("E2", 10, 0)], "bed_nights", base_percent=20)
    assert amounts(shares) == [("E1", 50), ("E2", 50)]


def test_fixed_percentages():
    members = [
        Member("E1", 365, fixed_percent=Decimal("50")),
        Member("E2", 365, fixed_percent=Decimal("30")),
        Member("E3", 365, fixed_percent=Decimal("20")),
    ]
    assert amounts(apportion(1001, members, "fixed")) == [("E1", 501), ("E2", 300), ("E3", 200)]
    bad = [Member("E1", 365, fixed_percent=Decimal("50")), Member("E2", 365, fixed_percent=Decimal("40"))]
    with pytest.raises(ApportionmentError, match="add up to 90, not 100"):
        apportion(1000, bad, "fixed")


def test_ties_go_to_the_lower_authority_code():
    shares = apportion(2, [Member("E3", 1), Member("E1", 1), Member("E2", 1)], "equal")
    assert amounts(shares) == [("E1", 1), ("E2", 1), ("E3", 0)]


@pytest.mark.parametrize(
    "amount, members, basis, message",
    [
        (0, [Member("E1", 1)], "equal", "above zero"),
        (-5, [Member("E1", 1)], "equal", "above zero"),
        (100, [Member("E1", 0)], "equal", "no members in the period"),
        (100, [Member("E1", 1)], "parsecs", "basis must be one of"),
    ],
)
def test_refusals(amount, members, basis, message):
    with pytest.raises(ApportionmentError, match=message):
        apportion(amount, members, basis)


member_lists = st.lists(st.tuples(st.integers(1, 366), st.integers(0, 50_000)), min_size=1, max_size=12).map(
    lambda rows: [Member(f"E{index:08d}", days, use) for index, (days, use) in enumerate(rows)]
)


@given(
    amount=st.integers(1, 10**11),
    members=member_lists,
    basis=st.sampled_from(["placements", "bed_nights", "equal"]),
    base=st.integers(0, 100),
    order=st.randoms(),
)
def test_properties(amount, members, basis, base, order):
    shares = apportion(amount, members, basis, base_percent=base)
    assert sum(s.amount for s in shares) == amount
    assert all(abs(s.amount - s.exact) < 1 for s in shares)
    assert sum(s.exact for s in shares) == amount
    shuffled = list(members)
    order.shuffle(shuffled)
    assert apportion(amount, shuffled, basis, base_percent=base) == shares
