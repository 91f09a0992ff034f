"""Each role's home page answers its questions at a glance and lists its tasks, with figures
worked out by hand for a small consortium."""

from datetime import date, timedelta

from consortium.core.dates import financial_year
from consortium.recharges import services as recharges
from contracts import returns
from tests.conftest import sign_in
from tests.factories import (
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    FlagFactory,
    HomeFactory,
    InspectionFactory,
    JudgementFactory,
    PlacementFactory,
    PlacementFeeFactory,
    ProviderFactory,
    lead,
    partner,
    provider_user,
)

TODAY = date.today()


def _world():
    derby, nottingham = AuthorityFactory(code="E06000015"), AuthorityFactory(code="E06000018")
    consortium = ConsortiumFactory(lead=derby, members=[nottingham])
    oak = ProviderFactory(name="Oak Ltd")
    good, poor = HomeFactory(urn="SC100001", provider=oak), HomeFactory(urn="SC100002", provider=oak)
    InspectionFactory(
        home=good, inspection_date=TODAY - timedelta(days=200), judgement=JudgementFactory(name="Good", rank=2)
    )
    InspectionFactory(
        home=poor, inspection_date=TODAY - timedelta(days=200), judgement=JudgementFactory(name="Inadequate", rank=4)
    )
    block = ContractFactory(
        ref="BLOCK",
        consortium=consortium,
        provider=oak,
        beds=2,
        start_date=TODAY - timedelta(days=800),
        end_date=TODAY + timedelta(days=800),
        max_end_date=TODAY + timedelta(days=1500),
    )
    block.homes.extend([good])
    BlockPriceFactory(contract=block, weekly_pence=350000, effective_from=block.start_date)
    # Nottingham: one child in the block's Good home for the last 30 nights, 5 miles away; one spot
    # placement in the Inadequate home, 30 miles away, at £7,000 a week from the year's start.
    PlacementFactory(
        authority=nottingham, contract=block, home=good, start_date=TODAY - timedelta(days=30), distance_miles=5
    )
    year_start = financial_year(TODAY)[0]
    spot = PlacementFactory(authority=nottingham, contract=None, home=poor, start_date=year_start, distance_miles=30)
    PlacementFeeFactory(placement=spot, weekly_pence=700000)
    FlagFactory(kind="underused_block_beds", subject="BLOCK", contract=block, severity="medium", opened_on=TODAY)
    FlagFactory(
        kind="overdue_return", subject="BLOCK", contract=block, severity="high", opened_on=TODAY, status="acknowledged"
    )
    return {"consortium": consortium, "nottingham": nottingham, "oak": oak, "block": block, "year_start": year_start}


def test_a_lead_sees_the_headline_figures_and_tasks(client):
    world = _world()
    pool = recharges.create_pool(
        world["consortium"],
        "Contract management",
        TODAY - timedelta(days=90),
        TODAY + timedelta(days=90),
        1_000_000,
        "equal",
    )
    recharges.draft_statements(pool)
    sign_in(client, lead(world["consortium"]))
    page = client.get("/").get_data(as_text=True)
    # One placement under the consortium's contracts (the spot one is Nottingham's own), 5 miles away.
    assert (
        ">1</span>" in page
        and "placement open</a> under the consortium's contracts; 100% of those with a distance within 20 miles" in page
    )
    # Two beds from the year's start to yesterday; one occupied the last 30 nights.
    nights = (TODAY - timedelta(days=1) - world["year_start"]).days + 1
    utilisation = round(100 * 30 / (2 * nights), 1)
    void = (2 * nights - 30) * 50_000  # £3,500 a bed-week is £500 a night
    assert f">{utilisation:.1f}%</span>" in page and f"void cost £{void / 100:,.2f}" in page
    assert ">1</span>of 1 placement open in" in page.replace("\n", "").replace("  ", "")
    assert "open flags</a>: 1 high, 1 medium" in page
    assert (
        "No returns to review" in page
        and "1 flag to acknowledge or resolve" in page
        and "1 cost pool ready to issue" in page
    )


def test_a_usage_pool_still_running_is_not_ready_to_issue(client):
    world = _world()
    recharges.create_pool(
        world["consortium"],
        "This year",
        TODAY - timedelta(days=90),
        TODAY + timedelta(days=90),
        1_000_000,
        "placements",
    )
    sign_in(client, lead(world["consortium"]))
    assert "No cost pools ready to issue" in client.get("/").get_data(as_text=True)


def test_a_partner_sees_placements_spend_statements_and_homes_of_concern(client):
    world = _world()
    sign_in(client, partner(world["nottingham"]))
    page = client.get("/").get_data(as_text=True)
    assert ">2</span>" in page and "children placed</a> today; 50% of those with a distance within 20 miles" in page
    # The spot placement's nights from the year's start to yesterday at £1,000 a night
    # (the block's are not the partner's spend).
    nights = (TODAY - timedelta(days=1) - world["year_start"]).days + 1
    assert f"£{nights * 1000:,}.00</span>spent on placements" in page.replace("\n", "").replace("  ", "")
    assert "No statements to pay" in page
    assert (
        "Review the placements in 1 home of concern" in page
        and "(below Good, declined since, or not registered)" in page
    )


def test_a_provider_sees_each_return_to_do_with_a_button(client):
    world = _world()
    block = world["block"]
    returns.attach(block, returns.starter_template(), applies_from=TODAY - timedelta(days=200))
    sign_in(client, provider_user(world["oak"]))
    page = client.get("/").get_data(as_text=True)
    assert "Returns to do" in page and "Fill in the return" in page
    assert f'href="/contracts/{block.id}/returns/{world["oak"].id}/' in page
    assert "Your block beds this year" in page and "BLOCK</a>: 2 beds" in page
