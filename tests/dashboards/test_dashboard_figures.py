"""Value for money and budget variance against worked examples."""

from datetime import date
from decimal import Decimal

from consortium.core.extensions import db
from consortium.dashboards import services
from consortium.dashboards.models import Budget
from contracts import cofunding
from tests.conftest import sign_in
from tests.factories import (
    AuthorityFactory,
    BlockPriceFactory,
    CofunderFactory,
    ConsortiumFactory,
    ContractFactory,
    LotFactory,
    PlacementFactory,
    PlacementFeeFactory,
    lead,
    partner,
)

FIRST, LAST = date(2024, 6, 2), date(2024, 6, 29)  # 28 nights


def test_value_for_money_of_a_block():
    nottingham = AuthorityFactory(code="E06000018")
    consortium = ConsortiumFactory(lead=nottingham)
    block = ContractFactory(consortium=consortium, beds=10, start_date=date(2024, 4, 1))
    BlockPriceFactory(contract=block, weekly_pence=350000)
    for _ in range(6):
        PlacementFactory(contract=block, home=None, authority=nottingham, start_date=date(2024, 5, 1))
    # The market: two spot residential placements for the 28 nights, at £4,200 and £5,600 a week.
    for fee in (420000, 560000):
        spot = PlacementFactory(contract=None, authority=nottingham, start_date=FIRST, end_date=date(2024, 6, 30))
        PlacementFeeFactory(placement=spot, weekly_pence=fee)
    PlacementFeeFactory(
        placement=PlacementFactory(contract=None, authority=AuthorityFactory(), start_date=FIRST), weekly_pence=990000
    )  # not a member: not in the consortium's market
    (value,) = services.block_values(consortium, FIRST, LAST)
    # Cost: 10 beds x £500 a night x 28 nights = £140,000; occupied 6 x 28 = 168 bed-nights.
    assert (value.cost_pence, value.occupied, value.utilisation) == (14_000_000, 168, Decimal("60.0"))
    assert value.cost_per_occupied_week_pence == 583_333  # £140,000 / 24 weeks = £5,833.33
    # Average weekly fee: (28 x £600 + 28 x £800) / 56 nights x 7 = £4,900.
    assert value.average_weekly_pence == 490_000
    # The 168 occupied nights at £700 a night: £117,600; the block cost £22,400 more.
    assert (value.comparison_pence, value.saving_pence) == (11_760_000, -2_240_000)


def test_budget_variance_splits_into_volume_and_unit_cost():
    derby = AuthorityFactory(code="E06000015")
    budget = Budget(
        authority_code="E06000015",
        financial_year=2024,
        placement_type="residential",
        weeks=Decimal("100"),
        unit_cost_pence=400000,
    )
    # Actual: 120 placement-weeks (840 nights) costing £516,000: £4,300 a week.
    for _ in range(3):  # 3 x 280 nights (1 April 2024 to 6 January 2025)
        placement = PlacementFactory(
            contract=None, authority=derby, start_date=date(2024, 4, 1), end_date=date(2025, 1, 6)
        )
        PlacementFeeFactory(placement=placement, weekly_pence=430000)
    (variance,) = services.variances(2024, [budget], partner(derby))
    assert (variance.actual_weeks, variance.actual_pence, variance.actual_unit_pence) == (
        Decimal(120),
        51_600_000,
        430_000,
    )
    assert variance.budget_pence == 40_000_000
    assert variance.volume_pence == 8_000_000  # (120 - 100) x £4,000
    assert variance.unit_cost_pence == 3_600_000  # (£4,300 - £4,000) x 120
    assert variance.total_pence == variance.volume_pence + variance.unit_cost_pence == 11_600_000


def test_budget_variance_gains_an_income_effect_and_the_three_add_up():
    derby = AuthorityFactory(code="E06000015")
    icb = CofunderFactory()
    budget = Budget(
        authority_code="E06000015",
        financial_year=2024,
        placement_type="residential",
        weeks=Decimal("100"),
        unit_cost_pence=400000,
        contributions_pence=5_000_000,  # £50,000.00 expected from co-funders
    )
    placements = []
    for _ in range(3):  # as above: 120 placement-weeks at £4,300.00, £516,000.00 gross
        placements.append(
            PlacementFactory(contract=None, authority=derby, start_date=date(2024, 4, 1), end_date=date(2025, 1, 6))
        )
        PlacementFeeFactory(placement=placements[-1], weekly_pence=430000)
    db.session.expire_all()
    # The ICB pays 25% of one: £1,075.00 a week for 40 weeks. By quarter, each rounded once:
    # 91 nights £13,975.00; 92 nights £14,128.571... = £14,128.57, twice; 5 nights £767.857... =
    # £767.86. In all £43,000.00.
    cofunding.add_contribution(placements[0], icb, date(2024, 4, 1), percent=Decimal(25))
    (variance,) = services.variances(2024, [budget], partner(derby))
    assert (variance.contributions_pence, variance.net_pence, variance.budget_net_pence) == (
        4_300_000,
        47_300_000,
        35_000_000,
    )
    assert variance.volume_pence == 8_000_000  # (120 - 100) x £4,000.00
    assert variance.unit_cost_pence == 3_600_000  # (£4,300.00 - £4,000.00) x 120
    assert variance.income_pence == 700_000  # -(£43,000.00 - £50,000.00): less income than budgeted
    # (£516,000.00 - £43,000.00) - (£400,000.00 - £50,000.00) = £123,000.00
    assert (
        variance.total_pence == 12_300_000 == variance.volume_pence + variance.unit_cost_pence + variance.income_pence
    )


def test_a_type_with_spend_but_no_budget_is_all_volume():
    derby = AuthorityFactory(code="E06000015")
    placement = PlacementFactory(
        contract=None,
        authority=derby,
        start_date=date(2024, 4, 1),
        end_date=date(2024, 4, 15),
        placement_type="supported_accommodation",
        age_at_start=17,
    )
    PlacementFeeFactory(placement=placement, weekly_pence=170000)
    (variance,) = services.variances(2024, [], partner(derby))
    assert (variance.budget_pence, variance.actual_pence, variance.volume_pence, variance.unit_cost_pence) == (
        0,
        340000,
        0,
        340000,
    )


def test_a_block_naming_a_lot_is_compared_with_placements_in_that_lot_only():
    nottingham = AuthorityFactory(code="E06000018")
    consortium = ConsortiumFactory(lead=nottingham)
    crisis = ContractFactory(consortium=consortium, beds=2, start_date=date(2024, 4, 1), compared_lot="Solo/crisis")
    BlockPriceFactory(contract=crisis, weekly_pence=780000)
    PlacementFactory(contract=crisis, home=None, authority=nottingham, start_date=date(2024, 5, 1))
    framework = ContractFactory(consortium=consortium, kind="framework")
    solo, residential = (
        LotFactory(contract=framework, name="Solo/crisis"),
        LotFactory(contract=framework, name="Residential"),
    )
    # In the lot: £8,400 and £9,800 a week for the 28 nights; outside it a residential £5,000, and a spot one.
    for lot, fee in ((solo, 840000), (solo, 980000), (residential, 500000), (None, 450000)):
        placement = PlacementFactory(
            contract=framework if lot else None,
            lot=lot,
            authority=nottingham,
            start_date=FIRST,
            end_date=date(2024, 6, 30),
        )
        PlacementFeeFactory(placement=placement, weekly_pence=fee)
    (value,) = services.block_values(consortium, FIRST, LAST)
    assert value.average_weekly_pence == 910_000  # (£8,400 + £9,800) / 2, not the residential £6,325 of all four
    assert value.compared_placements == 2
    assert value.compared_with == "residential children's home placements by the members in the Solo/crisis lot"
    # 28 occupied nights at £1,300 a night = £36,400, against 2 beds x 28 nights at £1,114.29 = £62,400.
    assert (value.comparison_pence, value.cost_pence, value.saving_pence) == (3_640_000, 6_240_000, -2_600_000)

    crisis.compared_lot = None  # every framework and spot residential placement: (8,400 + 9,800 + 5,000 + 4,500) / 4
    (value,) = services.block_values(consortium, FIRST, LAST)
    assert (value.average_weekly_pence, value.compared_placements) == (692_500, 4)


def test_a_block_with_nothing_to_compare_says_so(client):
    consortium = ConsortiumFactory()
    block = ContractFactory(consortium=consortium, ref="EM-SOLO", beds=2, start_date=date(2024, 4, 1))
    BlockPriceFactory(contract=block, weekly_pence=780000)
    LotFactory(contract=ContractFactory(consortium=consortium, kind="framework"), name="Solo/crisis")
    sign_in(client, lead(consortium))
    settings = client.get(f"/contracts/{block.id}/settings").get_data(as_text=True)
    assert "Placements in a “Solo/crisis” lot" in settings
    response = client.post(
        f"/contracts/{block.id}/settings",
        data={
            "beds": "2",
            "underuse_threshold_percent": "80",
            "underuse_window_nights": "28",
            "notice_days": "180",
            "compared_lot": "Solo/crisis",
            "version": block.version,
        },
    )
    assert response.status_code == 302
    db.session.refresh(block)
    assert block.compared_lot == "Solo/crisis"
    page = client.get(
        "/value-for-money?from_day=1&from_month=6&from_year=2024&to_day=30&to_month=6&to_year=2024"
    ).get_data(as_text=True)
    assert "No comparable placements" in page and "placements by the members in the Solo/crisis lot" in page
    assert "Cost per occupied bed-week of each block" in page and "Block: cost per occupied bed-week" in page
