"""Short breaks (DESIGN §4c): a block priced per bed-night, and the short-breaks placement type.

A block priced per night keeps its prices as the night's price × 7, so occupancy, void cost, the
underused check and the rest stay the same arithmetic; these examples are worked by hand.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from audits import checks
from audits.models import Flag
from consortium.core.extensions import db
from consortium.core.services import RuleBroken
from consortium.core.tabular import ImportFailed, read_table
from contracts import imports, pds, services, usage
from contracts.models import PLACEMENT_TYPES, Contract
from contracts.placements import PlacementValues
from tests.conftest import sign_in
from tests.contracts.test_placements_api import bearer
from tests.factories import (
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    HomeFactory,
    PlacementFactory,
    ProviderFactory,
    lead,
    partner,
)

AS_OF = date(2024, 6, 30)
FIRST, LAST = date(2024, 6, 2), date(2024, 6, 29)  # the 28 nights before 30 June 2024
NIGHT = 30000  # £300.00 a bed-night
TODAY = date.today()


def short_breaks_block(beds=4, used=2, **kwargs) -> Contract:
    """A short-breaks block priced £300.00 a bed-night (kept as £2,100.00 a bed-week), with
    `used` children staying every night of June 2024."""
    contract = ContractFactory(ref="SB-BLOCK", beds=beds, start_date=date(2024, 4, 1), priced_per="night", **kwargs)
    BlockPriceFactory(contract=contract, weekly_pence=NIGHT * 7, effective_from=date(2024, 4, 1))
    for _ in range(used):
        PlacementFactory(contract=contract, home=None, start_date=date(2024, 5, 1), placement_type="short_breaks")
    return contract


# ---------------------------------------------------------------- the unit and its figures


def test_a_night_price_is_kept_times_seven_and_shown_per_night():
    block = short_breaks_block()
    assert block.price_on(FIRST) == 210000
    assert block.price_label(block.price_on(FIRST)) == "£300.00 a bed-night"
    assert block.price_unit == "bed-night" and block.pence_in_unit(210000) == 30000
    weekly = ContractFactory(ref="WEEK")
    assert (weekly.priced_per, weekly.price_label(350000)) == ("week", "£3,500.00 a bed-week")
    assert weekly.price_label(None) == ""


def test_four_beds_at_300_a_night_two_used_every_night():
    block = short_breaks_block()
    used = usage.occupancy(block, FIRST, LAST)
    # 4 beds × 28 nights = 112 bed-nights; 2 × 28 = 56 occupied, 56 void.
    assert (used.nights, used.capacity, used.occupied, used.void) == (28, 112, 56, 56)
    assert used.utilisation == Decimal("50.0")
    assert used.void_cost_pence == 1_680_000  # 56 × £300.00 = £16,800.00
    assert used.cost_pence == 3_360_000  # 112 × £300.00 = £33,600.00, used or not


def test_a_night_price_changing_inside_the_window_prices_its_own_nights():
    block = short_breaks_block()
    # £300.00 for the 10 nights 2-11 June, then £330.00 for the 18 nights 12-29 June.
    services.change_block_price(block, 33000, date(2024, 6, 12))
    assert [(p.weekly_pence, p.effective_to) for p in block.block_prices] == [
        (210000, date(2024, 6, 11)),
        (231000, None),
    ]
    used = usage.occupancy(block, FIRST, LAST)
    # 2 void beds a night: 20 × £300.00 + 36 × £330.00 = £6,000.00 + £11,880.00.
    assert used.void_cost_pence == 600_000 + 1_188_000
    # 4 beds a night: 40 × £300.00 + 72 × £330.00 = £12,000.00 + £23,760.00.
    assert used.cost_pence == 1_200_000 + 2_376_000


def test_the_underused_check_on_a_short_breaks_block():
    block = short_breaks_block()
    checks.run(AS_OF, ["underused_block_beds"])
    (flag,) = db.session.scalars(select(Flag).where(Flag.kind == "underused_block_beds")).all()
    assert (
        flag.detail == "Utilisation 50.0% over the 28 nights to 29 Jun 2024: 56 void bed-nights, void cost £16,800.00"
    )
    assert (flag.subject, flag.contract_id, flag.utilisation, flag.void_bed_nights, flag.pence, flag.bed_nights) == (
        "SB-BLOCK",
        block.id,
        Decimal("50.0"),
        56,
        1_680_000,
        112,
    )
    assert (flag.window_start, flag.window_end) == (FIRST, LAST)


def test_a_night_price_in_the_service_refuses_what_a_week_cannot_hold():
    block = short_breaks_block()
    with pytest.raises(RuleBroken, match="£142,857.14 a bed-night or less"):
        services.change_block_price(block, 14_285_715, date(2024, 6, 12))
    with pytest.raises(RuleBroken, match="above zero"):
        services.change_block_price(block, 0, date(2024, 6, 12))


def test_a_block_priced_per_night_needs_each_price_a_whole_number_of_pence_a_night():
    block = ContractFactory(ref="ODD")
    BlockPriceFactory(contract=block, weekly_pence=100000)  # £1,000.00 a week: £142.857... a night
    with pytest.raises(RuleBroken, match="is not a whole number of pence a night"):
        services.set_priced_per(block, "night")
    with pytest.raises(RuleBroken, match="per bed-week or per bed-night"):
        services.set_priced_per(block, "fortnight")
    assert block.priced_per == "week"


def test_the_database_refuses_an_unknown_unit():
    nested = db.session.begin_nested()
    with pytest.raises(IntegrityError, match="priced_per_known"):
        ContractFactory(ref="BAD", priced_per="month")
    nested.rollback()


# ---------------------------------------------------------------- short stays of one child


@pytest.fixture
def stays():
    derby = AuthorityFactory(code="E06000015")
    consortium = ConsortiumFactory(ref="EMRF", lead=derby)
    oak = ProviderFactory(name="Oak Ltd")
    home = HomeFactory(urn="SC100001", provider=oak)
    block = ContractFactory(ref="SB-BLOCK", consortium=consortium, provider=oak, beds=4, priced_per="night")
    block.homes.append(home)
    BlockPriceFactory(contract=block, weekly_pence=NIGHT * 7)
    return block


def stay(start: date, end: date) -> PlacementValues:
    return PlacementValues(
        authority_code="E06000015",
        child_ref="DER-SB-1",
        contract_ref="SB-BLOCK",
        home_urn="SC100001",
        start_date=start,
        end_date=end,
        weekly_pence=None,
        placement_type="short_breaks",
        distance_miles=None,
        age_at_start=9,
    )


def test_back_to_back_short_stays_are_accepted_and_an_overlapping_one_refused(stays):
    assert PLACEMENT_TYPES["short_breaks"] == "Short breaks"
    first = services.record_placement(stay(date(2024, 6, 7), date(2024, 6, 9)))  # the nights of 7 and 8 June
    second = services.record_placement(stay(date(2024, 6, 9), date(2024, 6, 11)))  # from the day the first ends
    third = services.record_placement(stay(date(2024, 6, 21), date(2024, 6, 23)))
    assert [p.placement_type for p in (first, second, third)] == ["short_breaks"] * 3
    with pytest.raises(RuleBroken, match="Child DER-SB-1 is already placed from 9 Jun 2024 to 11 Jun 2024"):
        services.record_placement(stay(date(2024, 6, 10), date(2024, 6, 12)))  # the night of 10 June twice
    # 6 nights used of the block's 4 × 28 in the window: each stay's nights only.
    assert usage.occupancy(stays, FIRST, LAST).occupied == 6


def test_a_short_break_is_residential_in_the_placements_data_standard(stays):
    placement = services.record_placement(stay(date(2024, 6, 7), date(2024, 6, 9)))
    (row,) = pds.rows([placement], date(2024, 6, 30))
    values = dict(zip(pds.COLUMNS, row, strict=True))
    # The standard's weekly cost of a block bed: the night's price × 7.
    assert (values["placement_type"], values["cost_total_weekly"]) == ("Residential", "2100.00")


# ---------------------------------------------------------------- flask import contracts

HEADER = "ref,kind,title,consortium_ref,owner_code,start_date,end_date,max_end_date,beds,bed_week_price,home_urns"


@pytest.fixture
def region():
    derby = AuthorityFactory(code="E06000015")
    consortium = ConsortiumFactory(ref="EMRF", lead=derby)
    oak = ProviderFactory(name="Oak Ltd")
    HomeFactory(urn="SC100001", provider=oak)
    HomeFactory(urn="SC100003", provider=ProviderFactory(name="Elm Ltd"))
    return consortium


def load(text: str, header: str = HEADER + ",bed_night_price"):
    table = read_table(f"{header}\n{text}".encode(), "contracts.csv", **imports.CONTRACT_COLUMNS)
    return imports.import_contracts(table)


def test_the_contracts_import_takes_a_night_price(region, client):
    result = load(
        "SB-BLOCK,block,Short breaks,EMRF,,2024-04-01,2026-03-31,,4,,SC100001,300.00\n"
        "WK-BLOCK,block,Residential,EMRF,,2024-04-01,2026-03-31,,2,3500.00,SC100001,\n"
    )
    assert result.added == 2
    night = db.session.scalar(select(Contract).where(Contract.ref == "SB-BLOCK"))
    week = db.session.scalar(select(Contract).where(Contract.ref == "WK-BLOCK"))
    assert (night.priced_per, night.price_on(date(2024, 4, 1))) == ("night", 210000)
    assert (week.priced_per, week.price_on(date(2024, 4, 1))) == ("week", 350000)
    assert night.price_label(night.price_on(date(2024, 4, 1))) == "£300.00 a bed-night"
    again = load(
        "SB-BLOCK,block,Short breaks,EMRF,,2024-04-01,2026-03-31,,4,,SC100001,300.00\n"
        "WK-BLOCK,block,Residential,EMRF,,2024-04-01,2026-03-31,,2,3500.00,SC100001,\n"
    )
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    sign_in(client, lead(region))
    page = client.get(f"/contracts/{night.id}").get_data(as_text=True)
    assert "£300.00 a bed-night" in page


def test_a_file_without_the_night_column_still_imports_per_week(region):
    load("WK-BLOCK,block,Residential,EMRF,,2024-04-01,2026-03-31,,2,3500.00,SC100001\n", header=HEADER)
    week = db.session.scalar(select(Contract).where(Contract.ref == "WK-BLOCK"))
    assert (week.priced_per, week.price_on(date(2024, 4, 1))) == ("week", 350000)


def test_the_contracts_import_refuses_bad_night_prices_and_imports_nothing(region):
    text = (
        "OK-BLOCK,block,Fine,EMRF,,2024-04-01,2026-03-31,,4,,SC100001,300.00\n"
        "B1,block,Both,EMRF,,2024-04-01,2026-03-31,,4,2100.00,SC100001,300.00\n"
        "B2,block,Zero,EMRF,,2024-04-01,2026-03-31,,4,,SC100001,0\n"
        "B3,block,Negative,EMRF,,2024-04-01,2026-03-31,,4,,SC100001,-5\n"
        "FW,framework,Framework,EMRF,,2024-04-01,2026-03-31,,,,SC100003,300.00\n"
        "B4,block,Too much,EMRF,,2024-04-01,2026-03-31,,4,,SC100001,200000\n"
        "B5,block,Neither,EMRF,,2024-04-01,2026-03-31,,4,,SC100001,\n"
    )
    with pytest.raises(ImportFailed) as failed:
        load(text)
    assert failed.value.lines() == [
        "line 3: give bed_week_price or bed_night_price, not both",
        "line 4: bed_night_price must be above zero",
        "line 5: bed_night_price must be above zero",
        "line 6: bed_night_price is for a block contract: a framework's prices are its admissions'",
        "line 7: bed_night_price '200000' is more than 142,857.00",
        "line 8: bed_week_price '' is not a number",
    ]
    assert db.session.scalar(select(Contract).where(Contract.ref == "OK-BLOCK")) is None


# ---------------------------------------------------------------- the pages and the API


@pytest.fixture
def world():
    derby, nottingham = AuthorityFactory(code="E06000015"), AuthorityFactory(code="E06000018")
    ours = ConsortiumFactory(ref="EMRF", lead=derby, members=[nottingham])
    oak = ProviderFactory(name="Oak Ltd")
    block = ContractFactory(
        ref="SB-BLOCK",
        consortium=ours,
        provider=oak,
        beds=4,
        start_date=TODAY - timedelta(days=400),
        end_date=TODAY + timedelta(days=800),
        max_end_date=TODAY + timedelta(days=1500),
    )
    block.homes.append(HomeFactory(urn="SC100001", provider=oak))
    BlockPriceFactory(contract=block, weekly_pence=NIGHT * 7, effective_from=block.start_date)
    return {"ours": ours, "block": block, "nottingham": nottingham}


def settings(block, priced_per: str) -> dict:
    return {
        "beds": "4",
        "underuse_threshold_percent": "80",
        "underuse_window_nights": "28",
        "notice_days": "365",
        "priced_per": priced_per,
        "version": block.version,
    }


def test_a_lead_prices_a_block_per_night_and_changes_its_night_price(client, world):
    block = world["block"]
    sign_in(client, lead(world["ours"]))
    assert "£2,100.00 a bed-week" in client.get(f"/contracts/{block.id}").get_data(as_text=True)
    form = client.get(f"/contracts/{block.id}/settings").get_data(as_text=True)
    assert "Priced per" in form and "Per bed-night (short breaks)" in form
    assert client.post(f"/contracts/{block.id}/settings", data=settings(block, "night")).status_code == 302
    db.session.refresh(block)
    assert block.priced_per == "night"
    page = client.get(f"/contracts/{block.id}").get_data(as_text=True)
    assert "£300.00 a bed-night" in page and "a bed-week" not in page
    price_form = client.get(f"/contracts/{block.id}/price").get_data(as_text=True)
    assert "Price per bed per night (£)" in price_form and "Change the price per bed-night" in price_form
    start = TODAY + timedelta(days=30)
    when = [str(start.day), str(start.month), str(start.year)]
    too_much = client.post(f"/contracts/{block.id}/price", data={"weekly_price": "200000", "effective_from": when})
    assert too_much.status_code == 400 and "£142,857.14 a bed-night or less" in too_much.get_data(as_text=True)
    response = client.post(f"/contracts/{block.id}/price", data={"weekly_price": "330.00", "effective_from": when})
    assert response.status_code == 302
    db.session.refresh(block)
    assert [(p.weekly_pence, p.effective_to) for p in block.block_prices] == [
        (210000, start - timedelta(days=1)),
        (231000, None),  # £330.00 a night × 7
    ]
    # Back to per week: the same prices, shown per bed-week.
    assert client.post(f"/contracts/{block.id}/settings", data=settings(block, "week")).status_code == 302
    assert "£2,100.00 a bed-week" in client.get(f"/contracts/{block.id}").get_data(as_text=True)


def test_the_settings_refuse_a_night_unit_for_a_week_price_of_odd_pence(client, world):
    block = world["block"]
    block.block_prices[0].weekly_pence = 100000  # £1,000.00 a week
    db.session.flush()
    sign_in(client, lead(world["ours"]))
    response = client.post(f"/contracts/{block.id}/settings", data=settings(block, "night"))
    assert response.status_code == 400 and "is not a whole number of pence a night" in response.get_data(as_text=True)
    db.session.refresh(block)
    assert block.priced_per == "week"


def test_settings_without_the_unit_leave_it_as_it_is(client, world):
    block = world["block"]
    block.priced_per = "night"
    db.session.flush()
    sign_in(client, lead(world["ours"]))
    data = settings(block, "")
    del data["priced_per"]
    assert client.post(f"/contracts/{block.id}/settings", data=data).status_code == 302
    db.session.refresh(block)
    assert block.priced_per == "night"


def test_the_api_says_what_a_blocks_price_is_per(client, world):
    block = world["block"]
    block.priced_per = "night"
    framework = ContractFactory(ref="FW", kind="framework", consortium=world["ours"])
    db.session.flush()
    auth = bearer(partner(world["nottingham"]), "read")
    body = client.get(f"/api/v1/contracts/{block.id}", headers=auth).get_json()
    assert (body["pricedPer"], body["bedWeekPrices"][0]["weeklyPence"]) == ("night", 210000)
    assert client.get(f"/api/v1/contracts/{framework.id}", headers=auth).get_json()["pricedPer"] is None
