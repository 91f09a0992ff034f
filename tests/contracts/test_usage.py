"""Occupancy, voids, usage per authority and spend, against hand-worked examples (DESIGN §4)."""

from datetime import date
from decimal import Decimal

import pytest

from consortium.core.money import apply_percent, div_half_up, percent
from contracts import usage
from tests.factories import (
    AuthorityFactory,
    BedOutageFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    PlacementFactory,
    PlacementFeeFactory,
)

# The 28 nights before 30 June 2024.
FIRST, LAST = date(2024, 6, 2), date(2024, 6, 29)


@pytest.fixture
def block():
    contract = ContractFactory(beds=10, start_date=date(2024, 4, 1))
    BlockPriceFactory(contract=contract, weekly_pence=350000, effective_from=date(2024, 4, 1))
    return contract


def place(contract, start=date(2024, 5, 1), end=None, **kwargs):
    return PlacementFactory(contract=contract, home=None, start_date=start, end_date=end, **kwargs)


def test_the_design_example(block):
    for _ in range(6):
        place(block)
    used = usage.occupancy(block, FIRST, LAST)
    assert (used.nights, used.capacity, used.occupied, used.void) == (28, 280, 168, 112)
    assert used.utilisation == Decimal("60.0")
    assert used.void_cost_pence == 5_600_000  # 112 × £3,500 ÷ 7 = £56,000.00
    window = usage.window_occupancies([block], date(2024, 6, 30))[block.id]
    assert (window.first, window.last, window.occupied, window.capacity) == (FIRST, LAST, 168, 280)


def test_nights_run_from_the_start_up_to_not_including_the_end(block):
    place(block, start=date(2024, 6, 1), end=date(2024, 6, 10))  # nights 2-9 June in the window: 8
    place(block, start=date(2024, 6, 29))  # the last night of the window: 1
    place(block, start=date(2024, 6, 30))  # after the window: 0
    assert usage.occupancy(block, FIRST, LAST).occupied == 9


def test_at_most_the_beds_count_on_any_night(block):
    for _ in range(12):
        place(block)
    used = usage.occupancy(block, FIRST, LAST)
    assert (used.occupied, used.utilisation, used.void_cost_pence) == (280, Decimal("100.0"), 0)


def test_beds_out_of_use_leave_the_capacity(block):
    for _ in range(8):
        place(block)
    # 2 beds out of use for the 7 nights 10-16 June: capacity 280 - 14 = 266, and on those
    # nights at most 8 beds can be occupied (all 8 are).
    BedOutageFactory(contract=block, beds=2, start_date=date(2024, 6, 10), end_date=date(2024, 6, 17))
    used = usage.occupancy(block, FIRST, LAST)
    assert (used.capacity, used.occupied, used.void) == (266, 224, 42)
    assert used.utilisation == Decimal("84.2")  # 224 / 266 = 84.21%
    assert used.void_cost_pence == 2_100_000  # 42 × £500 a night


def test_a_price_change_inside_the_window(block):
    block.block_prices[0].effective_to = date(2024, 6, 15)
    BlockPriceFactory(contract=block, weekly_pence=385000, effective_from=date(2024, 6, 16))
    for _ in range(9):
        place(block)
    # 1 void bed a night: 14 nights (2-15 June) at £500 and 14 nights (16-29 June) at £550.
    assert usage.occupancy(block, FIRST, LAST).void_cost_pence == 14 * 50000 + 14 * 55000


def test_void_cost_rounds_half_up_to_the_penny():
    contract = ContractFactory(beds=1)
    BlockPriceFactory(contract=contract, weekly_pence=100001)  # £1,000.01 a week: £142.858... a night
    assert usage.occupancy(contract, date(2024, 6, 1), date(2024, 6, 1)).void_cost_pence == 14286
    assert div_half_up(7, 14) == 1 and div_half_up(6, 14) == 0 and div_half_up(-7, 14) == -1
    assert percent(2, 3) == Decimal("66.7") and percent(1, 8) == Decimal("12.5") and percent(1, 0) is None
    assert apply_percent(350000, Decimal("3.5")) == 362250 and apply_percent(100001, Decimal("2.5")) == 102501


def test_the_window_is_clipped_to_the_term():
    contract = ContractFactory(beds=4, start_date=date(2024, 6, 20), end_date=date(2025, 6, 19))

    def window(as_of):
        found = usage.window_occupancies([contract], as_of).get(contract.id)
        return found and (found.first, found.last, found.nights)

    assert window(date(2024, 6, 30)) == (date(2024, 6, 20), date(2024, 6, 29), 10)
    assert window(date(2024, 6, 20)) is None
    assert window(date(2025, 7, 5)) == (date(2025, 6, 7), date(2025, 6, 19), 13)


def test_monthly_occupancy(block):
    for _ in range(8):
        place(block)
    for _ in range(2):
        place(block, start=date(2024, 5, 1), end=date(2024, 6, 16))  # 10 occupied until 15 June
    june, july = usage.monthly_occupancy(block, date(2024, 6, 1), date(2024, 7, 31))
    assert (june.first, june.nights, june.occupied, june.utilisation) == (
        date(2024, 6, 1),
        30,
        15 * 10 + 15 * 8,
        Decimal("90.0"),
    )
    assert june.average_occupied_beds == Decimal("9.0")
    assert june.void_cost_pence == 30 * 50000
    assert (july.nights, july.occupied, july.utilisation, july.void_cost_pence) == (
        31,
        248,
        Decimal("80.0"),
        62 * 50000,
    )


def test_placements_started_and_bed_nights_per_member():
    consortium = ConsortiumFactory()
    ours, other_consortium = ContractFactory(consortium=consortium), ContractFactory()
    derby, leicester = AuthorityFactory(code="E06000015"), AuthorityFactory(code="E06000016")
    first, last = date(2024, 4, 1), date(2025, 3, 31)
    place(
        ours, start=date(2024, 3, 25), end=date(2024, 4, 11), authority=derby
    )  # 10 nights in the year, started before
    place(ours, start=date(2025, 3, 1), authority=derby)  # 31 nights, started in the year
    place(ours, start=date(2024, 10, 1), end=date(2024, 10, 2), authority=leicester)  # 1 night
    place(other_consortium, start=date(2024, 5, 1), authority=leicester)  # another consortium's contract
    PlacementFactory(contract=None, start_date=date(2024, 5, 1), authority=leicester)  # spot: never counts
    assert usage.placements_started(consortium.id, first, last) == {"E06000015": 1, "E06000016": 1}
    assert usage.bed_nights(consortium.id, first, last) == {"E06000015": 41, "E06000016": 1}
    # 1 May 2024 to 31 March 2025: 31+30+31+31+30+31+30+31+31+28+31 nights
    assert usage.bed_nights(consortium.id, first, last, contract_id=other_consortium.id) == {"E06000016": 335}


def test_spend_follows_fee_changes_and_leaves_out_block_placements(block):
    derby = AuthorityFactory(code="E06000015")
    spot = PlacementFactory(contract=None, authority=derby, start_date=date(2024, 4, 1), end_date=date(2024, 4, 15))
    PlacementFeeFactory(placement=spot, weekly_pence=70000, effective_from=date(2024, 4, 1))  # £100 a night
    PlacementFeeFactory(placement=spot, weekly_pence=140000, effective_from=date(2024, 4, 8))  # £200 a night
    framework = ContractFactory(kind="framework")
    on_framework = PlacementFactory(contract=framework, authority=derby, start_date=date(2024, 4, 10))
    PlacementFeeFactory(placement=on_framework, weekly_pence=100001)  # open: 21 nights to 30 April
    in_block = place(block, start=date(2024, 4, 1), authority=derby)
    PlacementFeeFactory(placement=in_block, weekly_pence=350000)  # a block placement is never spend
    # 7 × £100 + 7 × £200 + 21 × £1,000.01 ÷ 7 = £700 + £1,400 + £3,000.03
    assert usage.spend(date(2024, 4, 1), date(2024, 4, 30)) == {"E06000015": 70000 + 140000 + 300003}
    assert usage.spend(date(2024, 4, 5), date(2024, 4, 9), ["E06000015"]) == {"E06000015": 3 * 10000 + 2 * 20000}


def test_quarterly_usage_in_one_query():
    consortium = ConsortiumFactory()
    contract = ContractFactory(consortium=consortium)
    derby = AuthorityFactory(code="E06000015")
    place(contract, start=date(2024, 6, 20), end=date(2024, 7, 11), authority=derby)  # 11 nights in Q1, 10 in Q2
    place(contract, start=date(2024, 9, 30), authority=derby)  # open: 1 night in Q2, then to 15 Oct
    assert usage.quarterly(consortium.id, date(2024, 5, 1), date(2024, 10, 15)) == {
        (date(2024, 4, 1), "E06000015"): (1, 11),
        (date(2024, 7, 1), "E06000015"): (1, 11),
        (date(2024, 10, 1), "E06000015"): (0, 15),
    }
    # The same as asking quarter by quarter.
    assert usage.bed_nights(consortium.id, date(2024, 7, 1), date(2024, 9, 30)) == {"E06000015": 11}
