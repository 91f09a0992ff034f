"""Contract and placement pages: who sees and changes what, forms, optimistic locking."""

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from consortium.core.extensions import db
from consortium.core.formatting import day
from contracts.models import Contract, Placement, Price
from providers.models import Home
from tests.conftest import sign_in
from tests.factories import (
    AdmissionFactory,
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    HomeFactory,
    LotFactory,
    PlacementFactory,
    PlacementFeeFactory,
    PriceFactory,
    ProviderFactory,
    lead,
    partner,
    provider_user,
)

TODAY = date.today()


@pytest.fixture
def world():
    """Two consortia. Ours: Derby (lead) and Nottingham, a 2-bed block and a framework."""
    derby, nottingham, elsewhere = (AuthorityFactory(code=c) for c in ("E06000015", "E06000018", "E08000001"))
    ours = ConsortiumFactory(ref="EMRF", lead=derby, members=[nottingham])
    theirs = ConsortiumFactory(ref="NW", lead=elsewhere)
    oak = ProviderFactory(name="Oak Ltd")
    home_a, home_b = HomeFactory(urn="SC100001", provider=oak), HomeFactory(urn="SC100002", provider=oak)
    block = ContractFactory(
        ref="BLOCK",
        consortium=ours,
        provider=oak,
        beds=2,
        start_date=TODAY - timedelta(days=400),
        end_date=TODAY + timedelta(days=800),
        max_end_date=TODAY + timedelta(days=1500),
    )
    block.homes.extend([home_a, home_b])
    BlockPriceFactory(contract=block, weekly_pence=350000, effective_from=block.start_date)
    framework = ContractFactory(
        ref="FW",
        kind="framework",
        consortium=ours,
        start_date=TODAY - timedelta(days=700),
        end_date=TODAY + timedelta(days=300),
        max_end_date=TODAY + timedelta(days=1000),
    )
    lot = LotFactory(contract=framework, name="Residential")
    admission = AdmissionFactory(lot=lot, provider=oak)
    PriceFactory(admission=admission, weekly_pence=400000, effective_from=framework.start_date)
    other_block = ContractFactory(ref="THEIRS", consortium=theirs)
    mine = PlacementFactory(
        authority=nottingham, child_ref="NOT-1", contract=block, home=home_a, start_date=TODAY - timedelta(days=30)
    )
    derbys = PlacementFactory(
        authority=derby, child_ref="DER-1", contract=None, home=home_b, start_date=TODAY - timedelta(days=60)
    )
    PlacementFeeFactory(placement=derbys, weekly_pence=520000)
    return {
        "ours": ours,
        "theirs": theirs,
        "block": block,
        "framework": framework,
        "admission": admission,
        "lot": lot,
        "other_block": other_block,
        "mine": mine,
        "derbys": derbys,
        "nottingham": nottingham,
        "derby": derby,
        "oak": oak,
    }


def test_a_partner_sees_only_their_own_placements(client, world):
    sign_in(client, partner(world["nottingham"]))
    listing = client.get("/placements").get_data(as_text=True)
    assert "NOT-1" in listing and "DER-1" not in listing
    assert client.get(f"/placements/{world['mine'].id}").status_code == 200
    assert client.get(f"/placements/{world['derbys'].id}").status_code == 404
    assert client.get(f"/placements/{world['derbys'].id}/end").status_code == 404
    assert (
        client.post(f"/placements/{world['derbys'].id}/end", data={"end_date": ["1", "1", "2030"]}).status_code == 404
    )
    exported = client.get("/placements/export.csv").get_data(as_text=True)
    assert "NOT-1" in exported and "DER-1" not in exported
    assert client.get(f"/contracts/{world['block'].id}").status_code == 200
    assert client.get(f"/contracts/{world['other_block'].id}").status_code == 404


def test_a_lead_sees_the_consortiums_placements_but_records_none(client, world):
    sign_in(client, lead(world["ours"]))
    listing = client.get("/placements").get_data(as_text=True)
    assert "NOT-1" in listing
    assert "DER-1" not in listing  # a spot placement is under no contract of the consortium
    assert client.get("/placements/new").status_code == 403
    assert client.get(f"/contracts/{world['other_block'].id}").status_code == 404
    other_lead = lead(world["theirs"])
    sign_in(client, other_lead)
    assert client.get(f"/placements/{world['mine'].id}").status_code == 404
    assert client.get(f"/contracts/{world['block'].id}/decision").status_code == 404


def test_providers_and_admins_see_no_placements(client, world):
    sign_in(client, provider_user(world["oak"]))
    assert client.get("/placements").status_code == 403
    assert client.get(f"/contracts/{world['block'].id}").status_code == 200  # their own block
    assert client.get(f"/contracts/{world['other_block'].id}").status_code == 404


def new_placement(client, **overrides):
    data = {
        "child_ref": "NOT-2",
        "contract_ref": "BLOCK",
        "home_urn": "SC100002",
        "placement_type": "residential",
        "start_date": [str(TODAY.day), str(TODAY.month), str(TODAY.year)],
        "age_at_start": "14",
        "distance_miles": "4.5",
    }
    data.update(overrides)
    return client.post("/placements/new", data=data)


def test_a_partner_records_and_ends_a_placement(client, world):
    sign_in(client, partner(world["nottingham"]))
    response = new_placement(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    placement = db.session.scalar(select(Placement).where(Placement.child_ref == "NOT-2"))
    assert (placement.authority_code, placement.contract.ref, placement.fees) == ("E06000018", "BLOCK", [])
    end = TODAY + timedelta(days=10)
    response = client.post(
        f"/placements/{placement.id}/end",
        data={"end_date": [str(end.day), str(end.month), str(end.year)], "end_reason": "Returned home", "version": "1"},
    )
    assert response.status_code == 400 and "Choose why the placement ended" in response.get_data(as_text=True)
    response = client.post(
        f"/placements/{placement.id}/end",
        data={
            "end_date": [str(end.day), str(end.month), str(end.year)],
            "end_reason_code": "E4A",
            "end_reason": "Returned home",
            "version": "1",
        },
    )
    assert response.status_code == 302
    db.session.refresh(placement)
    assert (placement.end_date, placement.end_reason_code, placement.end_reason) == (end, "E4A", "Returned home")
    assert placement.end_reason_name == "Care ended: returned home as the care plan intended"


def test_the_placement_form_offers_each_contracts_homes_with_the_framework_prices(client, world):
    sign_in(client, partner(world["nottingham"]))
    page = re.sub(r"\s+", " ", html.unescape(client.get("/placements/new").get_data(as_text=True)))
    home_a, home_b = (db.session.scalar(select(Home).where(Home.urn == urn)) for urn in ("SC100001", "SC100002"))
    # The block's two homes, and the framework's admitted provider's homes with its price today.
    assert f'<option value="SC100001" data-contract="BLOCK">{home_a.name} (SC100001): BLOCK block</option>' in page
    assert (
        f'data-contract="FW">{home_b.name} (SC100002), Oak Ltd: FW, Residential (standard £4,000.00 a week)</option>'
        in page
    )
    assert 'id="home_urn"' in page  # a spot purchase from a home not listed


def test_a_fee_above_the_framework_price_asks_for_the_reason_and_keeps_it(client, world):
    sign_in(client, partner(world["nottingham"]))
    above = {"contract_ref": "FW", "home_urn": "", "home": "SC100002", "weekly_fee": "4500", "need_level": "standard"}
    response = new_placement(client, **above)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "<title>Error: " in page
    assert 'href="#fee_reason">The fee is above FW\'s price of £4,000.00 a week for standard need: say why' in page
    assert db.session.scalar(select(Placement).where(Placement.child_ref == "NOT-2")) is None
    response = new_placement(client, **above, fee_reason="Two staff at night for the first month")
    assert response.status_code == 302, response.get_data(as_text=True)
    placement = db.session.scalar(select(Placement).where(Placement.child_ref == "NOT-2"))
    assert (placement.home.urn, placement.fee_reason) == ("SC100002", "Two staff at night for the first month")
    assert "Two staff at night for the first month" in client.get(f"/placements/{placement.id}").get_data(as_text=True)
    # At or below the price, nothing is asked.
    assert new_placement(client, **{**above, "child_ref": "NOT-3", "weekly_fee": "4000"}).status_code == 302


def test_a_home_is_chosen_or_given_by_urn_not_both(client, world):
    sign_in(client, partner(world["nottingham"]))
    response = new_placement(client, home="SC100001")
    assert response.status_code == 400
    assert "Choose a home from the list or give another home&#39;s URN, not both" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {
                "placement_type": "supported_accommodation",
                "age_at_start": "15",
                "contract_ref": "",
                "weekly_fee": "1700",
            },
            "A child of 15 cannot be placed in supported accommodation",
        ),
        ({"home_urn": "SC999999"}, "Unknown home 'SC999999'"),
        ({"contract_ref": "", "weekly_fee": "0"}, "The weekly fee must be above zero"),
        ({"child_ref": "NOT-1", "contract_ref": "", "weekly_fee": "5000"}, "Child NOT-1 is already placed from"),
    ],
)
def test_the_placement_form_refuses_what_the_rules_refuse(client, world, overrides, message):
    sign_in(client, partner(world["nottingham"]))
    response = new_placement(client, **overrides)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "govuk-error-summary" in page and message in page
    assert db.session.scalar(select(Placement).where(Placement.child_ref == "NOT-2")) is None


def test_a_block_is_never_over_its_beds_through_the_form(client, world):
    sign_in(client, partner(world["nottingham"]))
    assert new_placement(client).status_code == 302  # the second of 2 beds
    response = new_placement(client, child_ref="NOT-3")
    assert response.status_code == 400
    assert (
        f"BLOCK would have more placements than its 2 beds on the night of {TODAY.day} {TODAY:%b %Y}"
        in response.get_data(as_text=True)
    )


def test_a_stale_edit_is_refused_not_overwritten(client, world):
    sign_in(client, partner(world["nottingham"]))
    placement = world["mine"]
    stale = str(placement.version)
    placement.end_reason = "changed elsewhere"
    db.session.flush()  # someone else's edit bumps the version
    end = TODAY + timedelta(days=5)
    response = client.post(
        f"/placements/{placement.id}/end",
        data={"end_date": [str(end.day), str(end.month), str(end.year)], "end_reason_code": "CARPL", "version": stale},
    )
    assert response.status_code == 400
    assert "changed by someone else" in response.get_data(as_text=True)
    db.session.refresh(placement)
    assert placement.end_date is None


def test_framework_management(client, world):
    sign_in(client, lead(world["ours"]))
    framework, admission = world["framework"], world["admission"]
    page = client.get(f"/contracts/{framework.id}").get_data(as_text=True)
    assert "Residential" in page and "Oak Ltd" in page and "standard £4,000.00" in page
    # A price overlapping another for the same admission and need level is refused.
    start = framework.start_date + timedelta(days=10)
    response = client.post(
        f"/admissions/{admission.id}/prices",
        data={
            "need_level": "standard",
            "weekly_price": "4100",
            "effective_from": [str(start.day), str(start.month), str(start.year)],
        },
    )
    assert response.status_code == 400 and "It overlaps the standard price from" in response.get_data(as_text=True)
    response = client.post(
        f"/admissions/{admission.id}/prices",
        data={
            "need_level": "complex",
            "weekly_price": "4900.50",
            "effective_from": [str(start.day), str(start.month), str(start.year)],
        },
    )
    assert response.status_code == 302
    # An uplift ends each price in force and starts a new one; the history stays.
    response = client.post(
        f"/contracts/{framework.id}/uplift",
        data={"percent": "3.5", "effective_from": [str(TODAY.day), str(TODAY.month), str(TODAY.year)], "lot_id": ""},
    )
    assert response.status_code == 302
    prices = db.session.scalars(
        select(Price).where(Price.admission_id == admission.id).order_by(Price.need_level, Price.effective_from)
    ).all()
    assert [(p.need_level, p.weekly_pence, p.effective_to) for p in prices] == [
        ("complex", 490050, TODAY - timedelta(days=1)),
        ("complex", 507202, None),
        ("standard", 400000, TODAY - timedelta(days=1)),
        ("standard", 414000, None),
    ]
    # Suspending needs a reason; reinstating clears it.
    response = client.post(
        f"/admissions/{admission.id}/status", data={"status": "suspended", "reason": "", "version": admission.version}
    )
    assert response.status_code == 400 and "Give the reason" in response.get_data(as_text=True)
    client.post(
        f"/admissions/{admission.id}/status",
        data={"status": "suspended", "reason": "Inadequate at SC100001", "version": admission.version},
    )
    db.session.refresh(admission)
    assert (admission.status, admission.status_reason) == ("suspended", "Inadequate at SC100001")
    # Admitting a provider to a lot.
    elm = ProviderFactory(name="Elm Ltd")
    response = client.post(
        f"/contracts/{framework.id}/lots/{world['lot'].id}/admit", data={"provider_id": str(elm.id), "tier": "Reserve"}
    )
    assert response.status_code == 302
    assert "Elm Ltd" in client.get(f"/contracts/{framework.id}").get_data(as_text=True)


def test_extension_decisions(client, world):
    sign_in(client, lead(world["ours"]))
    framework = world["framework"]
    too_far = framework.max_end_date + timedelta(days=1)
    response = client.post(
        f"/contracts/{framework.id}/decision",
        data={
            "decision": "extend",
            "extend_to": [str(too_far.day), str(too_far.month), str(too_far.year)],
            "version": framework.version,
        },
    )
    assert response.status_code == 400 and "at the latest" in response.get_data(as_text=True)
    new_end = framework.end_date + timedelta(days=365)
    response = client.post(
        f"/contracts/{framework.id}/decision",
        data={
            "decision": "extend",
            "extend_to": [str(new_end.day), str(new_end.month), str(new_end.year)],
            "note": "Board approved",
            "version": framework.version,
        },
    )
    assert response.status_code == 302
    db.session.refresh(framework)
    assert framework.end_date == new_end
    assert (framework.decisions[0].decision, framework.decisions[0].note) == ("extend", "Board approved")
    stale = client.post(f"/contracts/{framework.id}/decision", data={"decision": "expire", "version": "1"})
    assert stale.status_code == 400 and "changed by someone else" in stale.get_data(as_text=True)


def test_block_settings_and_beds_out_of_use(client, world):
    block = world["block"]
    sign_in(client, lead(world["ours"]))
    response = client.post(
        f"/contracts/{block.id}/settings",
        data={
            "beds": "0",
            "underuse_threshold_percent": "80",
            "underuse_window_nights": "28",
            "notice_days": "365",
            "version": block.version,
        },
    )
    assert response.status_code == 400 and "at least one bed" in response.get_data(as_text=True)
    response = client.post(
        f"/contracts/{block.id}/settings",
        data={
            "beds": "3",
            "underuse_threshold_percent": "75",
            "underuse_window_nights": "56",
            "notice_days": "180",
            "version": block.version,
        },
    )
    assert response.status_code == 302
    db.session.refresh(block)
    assert (block.beds, block.underuse_threshold_percent, block.underuse_window_nights, block.notice_days) == (
        3,
        75,
        56,
        180,
    )
    sign_in(client, provider_user(world["oak"]))
    response = client.post(
        f"/contracts/{block.id}/outages",
        data={"beds": "1", "start_date": [str(TODAY.day), str(TODAY.month), str(TODAY.year)], "reason": "Fire damage"},
    )
    assert response.status_code == 302
    db.session.refresh(block)
    assert [(o.beds, o.reason) for o in block.outages] == [(1, "Fire damage")]
    assert client.get(f"/contracts/{world['other_block'].id}/outages").status_code == 404
    sign_in(client, provider_user())
    assert client.get(f"/contracts/{block.id}/outages").status_code == 404


def test_homes_in_use(client, world):
    sign_in(client, partner(world["nottingham"]))
    page = client.get("/homes/in-use").get_data(as_text=True)
    assert "1 placement open today in 1 home" in page and "SC100001" in page and "SC100002" not in page
    # A lead counts the homes the consortium's members use, its contracts and their own spot purchases alike
    # (Derby's spot placement is in SC100002), so every home a concern flag names is listed.
    sign_in(client, lead(world["ours"]))
    page = client.get("/homes/in-use").get_data(as_text=True)
    assert "2 placements open today in 2 homes" in page and "SC100002" in page and "DER-1" not in page


def test_a_home_whose_newest_inspection_declined_is_shown_so_and_flagged_as_of_concern(client, world):
    from audits import checks
    from audits.models import Flag
    from tests.factories import InspectionFactory, JudgementFactory

    home = db.session.scalar(select(Home).where(Home.urn == "SC100001"))
    InspectionFactory(home=home, inspection_date=TODAY - timedelta(days=400), judgement=JudgementFactory(name="Good"))
    declined = JudgementFactory(name="Declined in effectiveness", scale="interim", rank=None, graded=False)
    InspectionFactory(home=home, inspection_date=TODAY - timedelta(days=40), judgement=declined, event_type="Interim")
    checks.run(TODAY, ["home_in_use_concern"])
    flag = db.session.scalar(select(Flag).where(Flag.kind == "home_in_use_concern", Flag.subject == "SC100001"))
    assert (
        f"Declined in effectiveness at the interim inspection on {day(TODAY - timedelta(days=40))} (last graded Good)"
        in flag.detail
    )
    sign_in(client, partner(world["nottingham"]))
    page = client.get("/homes/in-use").get_data(as_text=True)
    assert (
        "Declined in effectiveness" in page
        and "Of concern" in page
        and "0</strong> in homes judged Good or better" in page
    )
    # Beside the last graded judgement wherever judgements appear: the placement, the contracts, the dashboards.
    placement = client.get(f"/placements/{world['mine'].id}").get_data(as_text=True)
    assert f"Good ({day(TODAY - timedelta(days=400))})" in placement
    assert re.search(
        r"Declined in effectiveness\s*</strong>\s*at the interim inspection on " + day(TODAY - timedelta(days=40)),
        placement,
    )
    assert "Today 1 of your children is in homes whose newest inspection, an interim one" in client.get(
        "/dashboard"
    ).get_data(as_text=True)
    sign_in(client, lead(world["ours"]))
    block = client.get(f"/contracts/{world['block'].id}").get_data(as_text=True)
    assert "Good; Declined in effectiveness at the interim inspection" in block
    framework = client.get(f"/contracts/{world['framework'].id}").get_data(as_text=True)
    assert "Declined since (interim): 1" in framework
    assert "Today 1 of the placements in use are in homes whose newest inspection" in client.get("/dashboard").get_data(
        as_text=True
    )
    sign_in(client, provider_user(world["oak"]))
    assert "1 of your homes has since declined in effectiveness at an interim inspection" in client.get(
        "/dashboard"
    ).get_data(as_text=True)


def test_contract_pages_list_and_show_the_block(client, world):
    sign_in(client, lead(world["ours"]))
    listing = client.get("/contracts").get_data(as_text=True)
    assert "BLOCK" in listing and "FW" in listing and "THEIRS" not in listing
    page = client.get(f"/contracts/{world['block'].id}").get_data(as_text=True)
    assert "£3,500.00" in page and "Month by month" in page and "Record beds out of use" in page
    assert "Oak Ltd" in client.get(f"/providers/{world['oak'].id}").get_data(as_text=True)


def test_an_update_on_a_stale_copy_fails_in_the_database_too():
    from sqlalchemy import update
    from sqlalchemy.orm.exc import StaleDataError

    contract = ContractFactory()
    nested = db.session.begin_nested()
    # Someone else saves first: the row's version moves on under our copy.
    db.session.execute(
        update(Contract.__table__).where(Contract.__table__.c.id == contract.id).values(version=contract.version + 1)
    )
    contract.title = "Our edit"
    with pytest.raises(StaleDataError):
        db.session.flush()
    nested.rollback()


def test_block_price_changes_break_dates_and_fee_changes(client, world):
    block = world["block"]
    sign_in(client, lead(world["ours"]))
    start = TODAY + timedelta(days=30)
    response = client.post(
        f"/contracts/{block.id}/price",
        data={"weekly_price": "3622.50", "effective_from": [str(start.day), str(start.month), str(start.year)]},
    )
    assert response.status_code == 302
    db.session.refresh(block)
    assert [(p.weekly_pence, p.effective_to) for p in block.block_prices] == [
        (350000, start - timedelta(days=1)),
        (362250, None),
    ]
    again = client.post(
        f"/contracts/{block.id}/price",
        data={"weekly_price": "3700", "effective_from": [str(start.day), str(start.month), str(start.year)]},
    )
    assert again.status_code == 400 and "A price already starts on or after that date" in again.get_data(as_text=True)
    response = client.post(
        f"/contracts/{block.id}/breaks", data={"break_date": [str(start.day), str(start.month), str(start.year)]}
    )
    assert response.status_code == 302
    db.session.refresh(block)
    assert [b.break_date for b in block.break_dates] == [start]
    sign_in(client, partner(world["derby"]))
    spot = world["derbys"]
    change = TODAY - timedelta(days=10)
    response = client.post(
        f"/placements/{spot.id}/fee",
        data={"weekly_fee": "5400", "effective_from": [str(change.day), str(change.month), str(change.year)]},
    )
    assert response.status_code == 302
    db.session.refresh(spot)
    assert [(f.weekly_pence, f.effective_from) for f in spot.fees] == [(520000, spot.start_date), (540000, change)]
    sign_in(client, partner(world["nottingham"]))
    response = client.post(
        f"/placements/{world['mine'].id}/fee",
        data={"weekly_fee": "5400", "effective_from": [str(change.day), str(change.month), str(change.year)]},
    )
    assert response.status_code == 400 and "has no fee of its own" in response.get_data(as_text=True)
    assert client.post(f"/placements/{spot.id}/fee", data={"weekly_fee": "1"}).status_code == 404


def test_a_frameworks_page_lists_the_open_flags_of_the_homes_its_placements_use(client, world):
    from tests.factories import FlagFactory

    home = db.session.scalar(select(Home).where(Home.urn == "SC100001"))
    PlacementFactory(
        authority=world["nottingham"],
        child_ref="NOT-FW",
        contract=world["framework"],
        lot=world["lot"],
        home=home,
        start_date=TODAY - timedelta(days=10),
    )
    FlagFactory(kind="quality_drop", subject=home.urn, home=home, provider=home.provider, detail="Judged Inadequate")
    sign_in(client, lead(world["ours"]))
    page = client.get(f"/contracts/{world['framework'].id}").get_data(as_text=True)
    assert "Judged Inadequate" in page and "No flags" not in page.split("Open flags")[1][:500]


def test_withdrawing_an_admission_asks_first(client, world):
    admission = world["admission"]
    sign_in(client, lead(world["ours"]))
    data = {"status": "withdrawn", "reason": "Contract ended early", "version": admission.version}
    check = client.post(f"/admissions/{admission.id}/status", data=data)
    assert check.status_code == 200 and "Withdraw the admission" in check.get_data(as_text=True)
    db.session.refresh(admission)
    assert admission.status == "active"
    assert client.post(f"/admissions/{admission.id}/status", data={**data, "confirmed": "yes"}).status_code == 302
    db.session.refresh(admission)
    assert admission.status == "withdrawn"


def test_a_partner_records_a_high_cost_review_on_the_placement_page(client, world):
    sign_in(client, partner(world["nottingham"]))
    placement = world["mine"]
    page = client.get(f"/placements/{placement.id}").get_data(as_text=True)
    assert "No review recorded" in page and f"/placements/{placement.id}/review" in page
    refused = client.post(f"/placements/{placement.id}/review", data={"reviewed_on": ["1", "1", "2999"]})
    assert refused.status_code == 400 and "There is a problem" in refused.get_data(as_text=True)
    on = TODAY - timedelta(days=1)
    day = [str(on.day), str(on.month), str(on.year)]
    for bad in ({"outcome": "1e20"}, {"outcome": "move", "note": "x" * 100_000}, {"outcome": "move", "note": "A\x00B"}):
        answered = client.post(f"/placements/{placement.id}/review", data={"reviewed_on": day, **bad})
        assert answered.status_code == 400 and "There is a problem" in answered.get_data(as_text=True), bad
    ended = client.post(
        f"/placements/{placement.id}/end",
        data={"end_date": day, "end_reason_code": "NaN", "version": str(placement.version)},
    )
    assert ended.status_code == 400 and "There is a problem" in ended.get_data(as_text=True)
    db.session.refresh(placement)
    assert placement.end_date is None and placement.end_reason_code is None
    done = client.post(
        f"/placements/{placement.id}/review",
        data={"reviewed_on": [str(on.day), str(on.month), str(on.year)], "outcome": "move", "note": "Moving nearer"},
    )
    assert done.status_code == 302
    page = client.get(f"/placements/{placement.id}").get_data(as_text=True)
    assert "Move planned" in page and "Moving nearer" in page
