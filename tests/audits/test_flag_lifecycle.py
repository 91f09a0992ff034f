"""Acting on flags: acknowledge, resolve, history, who may; the reopen rule (DESIGN §4)."""

from datetime import date

from sqlalchemy import select

from audits import checks
from audits.models import Flag
from consortium.core.extensions import db
from tests.audits.test_quality_drops import load
from tests.conftest import sign_in
from tests.factories import (
    BlockPriceFactory,
    ContractFactory,
    PlacementFactory,
    lead,
    partner,
)


def underused_block(placed=6):
    contract = ContractFactory(ref="EM-BLOCK", beds=10, start_date=date(2024, 4, 1))
    BlockPriceFactory(contract=contract, weekly_pence=350000)
    placements = [PlacementFactory(contract=contract, home=None, start_date=date(2024, 5, 1)) for _ in range(placed)]
    return contract, placements


def flags(kind="underused_block_beds"):
    return db.session.scalars(select(Flag).where(Flag.kind == kind).order_by(Flag.id)).all()


def test_a_lead_acknowledges_then_resolves_and_the_history_shows_it(client):
    contract, _ = underused_block()
    checks.run(date(2024, 6, 30), ["underused_block_beds"])
    (flag,) = flags()
    user = lead(contract.consortium)
    sign_in(client, user)
    page = client.get(f"/flags/{flag.id}").get_data(as_text=True)
    assert "Utilisation 60.0% over the 28 nights to 29 Jun 2024: 112 void bed-nights, void cost £56,000.00" in page
    assert "Acknowledge" in page and "EM-BLOCK" in page
    client.post(f"/flags/{flag.id}/acknowledge", data={"note": "Asked the provider why", "version": flag.version})
    db.session.refresh(flag)
    assert (flag.status, flag.acknowledged_by_id, flag.acknowledgement_note) == (
        "acknowledged",
        user.id,
        "Asked the provider why",
    )
    missing = client.post(f"/flags/{flag.id}/resolve", data={"note": "", "version": flag.version})
    page = missing.get_data(as_text=True)  # on its field, linked from the summary, as every form says it
    assert (
        missing.status_code == 400
        and "Say what was done" in page
        and 'href="#note"' in page
        and 'id="note-error"' in page
    )
    client.post(f"/flags/{flag.id}/resolve", data={"note": "Two referrals placed this week", "version": flag.version})
    db.session.refresh(flag)
    assert (flag.status, flag.resolved_by_id, flag.resolution_note) == (
        "resolved",
        user.id,
        "Two referrals placed this week",
    )
    history = client.get(f"/flags/{flag.id}").get_data(as_text=True)
    for text in ("Opened", "Acknowledged", "Resolved", "Two referrals placed this week", user.email):
        assert text in history


def test_only_leads_of_the_consortium_act(client):
    contract, _ = underused_block()
    checks.run(date(2024, 6, 30), ["underused_block_beds"])
    (flag,) = flags()
    sign_in(client, lead())
    assert client.get(f"/flags/{flag.id}").status_code == 404
    assert client.post(f"/flags/{flag.id}/resolve", data={"note": "x"}).status_code == 404
    sign_in(client, partner(contract.consortium.memberships[0].authority))
    assert client.get(f"/flags/{flag.id}").status_code == 200
    assert client.post(f"/flags/{flag.id}/resolve", data={"note": "x"}).status_code == 403
    db.session.refresh(flag)
    assert flag.status == "open"


def test_the_reopen_rule():
    contract, placements = underused_block()
    checks.run(date(2024, 6, 30), ["underused_block_beds"])
    (flag,) = flags()
    from audits import services

    services.resolve(flag, lead(contract.consortium), "Known: two beds being refurbished")
    # The condition goes on unbroken: no new flag, day after day.
    checks.run(date(2024, 7, 1), ["underused_block_beds"])
    checks.run(date(2024, 7, 2), ["underused_block_beds"])
    assert [f.status for f in flags()] == ["resolved"]
    # It clears (9 beds full for the whole window)...
    for _ in range(3):
        PlacementFactory(contract=contract, home=None, start_date=date(2024, 7, 1))
    checks.run(date(2024, 7, 30), ["underused_block_beds"])
    assert flags()[0].condition_cleared_on == date(2024, 7, 30)
    assert [f.status for f in flags()] == ["resolved"]
    # ...and comes back: a new flag opens.
    for placement in placements:
        placement.end_date = date(2024, 8, 1)
    checks.run(date(2024, 8, 29), ["underused_block_beds"])
    assert [f.status for f in flags()] == ["resolved", "open"]


def test_a_flag_resolved_by_its_check_reopens_when_the_condition_returns():
    contract, placements = underused_block()
    checks.run(date(2024, 6, 30), ["underused_block_beds"])
    for _ in range(3):
        PlacementFactory(contract=contract, home=None, start_date=date(2024, 7, 1))
    checks.run(date(2024, 7, 30), ["underused_block_beds"])
    assert [(f.status, f.resolved_by_id) for f in flags()] == [("resolved", None)]
    for placement in placements:
        placement.end_date = date(2024, 8, 1)
    checks.run(date(2024, 8, 29), ["underused_block_beds"])
    assert [f.status for f in flags()] == ["resolved", "open"]


def test_a_lead_acts_on_quality_flags_of_homes_their_consortium_uses(client):
    load("SC000002,A,P Ltd,2023-01-10,Good", "SC000002,A,P Ltd,2024-02-10,Inadequate")
    checks.run(date(2024, 6, 30), ["quality_drop"])
    (flag,) = flags("quality_drop")
    contract = ContractFactory(kind="framework")
    user = lead(contract.consortium)
    sign_in(client, user)
    assert "Resolve" not in client.get(f"/flags/{flag.id}").get_data(as_text=True)  # not a home they use
    PlacementFactory(contract=contract, home=flag.home, start_date=date(2024, 3, 1))
    assert "Resolve" in client.get(f"/flags/{flag.id}").get_data(as_text=True)


def test_the_list_filters_by_contract_authority_and_provider(client):
    contract, placements = underused_block()
    checks.run(date(2024, 6, 30), ["underused_block_beds"])
    sign_in(client, lead(contract.consortium))
    member = contract.consortium.memberships[0].authority_code
    assert "EM-BLOCK" in client.get("/flags?contract=EM-BLOCK").get_data(as_text=True)
    assert "No flags match" in client.get("/flags?contract=OTHER").get_data(as_text=True)
    assert "EM-BLOCK" in client.get(f"/flags?authority={member}").get_data(as_text=True)
    assert "No flags match" in client.get("/flags?authority=E09999999").get_data(as_text=True)
    assert "EM-BLOCK" in client.get(f"/flags?provider={contract.provider_id}").get_data(as_text=True)
