"""The checks on contracts: underused block beds, expiring contracts, homes in use of concern."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from audits import checks
from audits.models import Flag
from consortium.core.extensions import db
from contracts.models import Placement
from tests.factories import (
    BedOutageFactory,
    BlockPriceFactory,
    ContractFactory,
    ExtensionDecisionFactory,
    HomeFactory,
    InspectionFactory,
    JudgementFactory,
    PlacementFactory,
)

AS_OF = date(2024, 6, 30)


def flags(kind):
    return db.session.scalars(select(Flag).where(Flag.kind == kind).order_by(Flag.subject, Flag.id)).all()


def block_with(placed: int, beds=10, **kwargs):
    contract = ContractFactory(ref="EM-BLOCK", beds=beds, start_date=date(2024, 4, 1), **kwargs)
    BlockPriceFactory(contract=contract, weekly_pence=350000)
    placements = [PlacementFactory(contract=contract, home=None, start_date=date(2024, 5, 1)) for _ in range(placed)]
    return contract, placements


def test_underused_beds_the_design_example():
    contract, _ = block_with(6)
    checks.run(AS_OF, ["underused_block_beds"])
    (flag,) = flags("underused_block_beds")
    assert (
        flag.detail == "Utilisation 60.0% over the 28 nights to 29 Jun 2024: 112 void bed-nights, void cost £56,000.00"
    )
    assert (flag.subject, flag.contract_id, flag.utilisation, flag.void_bed_nights, flag.pence, flag.bed_nights) == (
        "EM-BLOCK",
        contract.id,
        Decimal("60.0"),
        112,
        5_600_000,
        280,
    )
    assert (flag.window_start, flag.window_end, flag.severity) == (date(2024, 6, 2), date(2024, 6, 29), "medium")
    checks.run(AS_OF, ["underused_block_beds"])
    assert len(flags("underused_block_beds")) == 1


def test_underuse_resolves_itself_when_utilisation_is_back():
    contract, _ = block_with(6)
    checks.run(AS_OF)
    for _ in range(2):
        PlacementFactory(contract=contract, home=None, start_date=date(2024, 6, 30))
    checks.run(date(2024, 7, 28))  # 8 of 10 beds for the 28 nights to 27 July: exactly 80%
    (flag,) = flags("underused_block_beds")
    assert (flag.status, flag.resolved_on, flag.resolved_by_id) == ("resolved", date(2024, 7, 28), None)


def test_beds_out_of_use_are_not_void():
    contract, _ = block_with(8)
    BedOutageFactory(
        contract=contract, beds=2, start_date=date(2024, 5, 1), end_date=None, reason="Closed for refurbishment"
    )
    checks.run(AS_OF, ["underused_block_beds"])
    assert flags("underused_block_beds") == []


def test_a_contract_that_has_not_started_or_has_no_capacity_is_not_checked():
    ContractFactory(beds=5, start_date=date(2024, 7, 1))
    checks.run(AS_OF, ["underused_block_beds"])
    assert flags("underused_block_beds") == []


def test_expiring_contracts():
    ContractFactory(ref="CAN-EXTEND", end_date=date(2025, 3, 31), max_end_date=date(2027, 3, 31))
    ContractFactory(ref="AT-MAXIMUM", kind="framework", end_date=date(2025, 3, 31), max_end_date=date(2025, 3, 31))
    decided = ContractFactory(ref="DECIDED", end_date=date(2025, 1, 31), max_end_date=date(2026, 1, 31))
    ExtensionDecisionFactory(contract=decided, decision="expire")
    ContractFactory(ref="FAR-OFF", end_date=date(2025, 7, 1), max_end_date=date(2027, 3, 31))  # 366 days away
    ContractFactory(ref="SHORT-NOTICE", end_date=date(2024, 9, 30), max_end_date=date(2025, 9, 30), notice_days=60)
    checks.run(AS_OF, ["contract_expiring"])
    found = {f.subject: (f.severity, f.detail, f.event_date) for f in flags("contract_expiring")}
    assert set(found) == {"CAN-EXTEND", "AT-MAXIMUM", "DECIDED"}
    assert found["CAN-EXTEND"][1].endswith(
        "ends on 31 Mar 2025, 274 days away: extension decision due (it can be extended to 31 Mar 2027)"
    )
    assert found["AT-MAXIMUM"][1].endswith("re-procurement needed") and found["AT-MAXIMUM"][0] == "high"
    assert found["DECIDED"][1].endswith("re-procurement needed")
    # Extending moves the end date out of the notice period and the flag resolves itself.
    contract = db.session.scalar(select(Flag).where(Flag.subject == "CAN-EXTEND")).contract
    contract.end_date = date(2026, 3, 31)
    checks.run(AS_OF, ["contract_expiring"])
    assert {f.subject for f in flags("contract_expiring") if f.status != "resolved"} == {"AT-MAXIMUM", "DECIDED"}


def test_homes_in_use_of_concern():
    ri = JudgementFactory(name="Requires improvement to be good")
    good = JudgementFactory(name="Good")
    first_inspection_ri = HomeFactory(urn="SC100001", name="Seed case")
    InspectionFactory(home=first_inspection_ri, inspection_date=date(2024, 1, 10), judgement=ri)
    suspended = HomeFactory(urn="SC100002", name="Suspended", registration_status="Suspended")
    InspectionFactory(home=suspended, inspection_date=date(2023, 1, 10), judgement=good)
    unused_ri = HomeFactory(urn="SC100003")
    InspectionFactory(home=unused_ri, inspection_date=date(2024, 1, 10), judgement=ri)
    fine = HomeFactory(urn="SC100004")
    InspectionFactory(home=fine, inspection_date=date(2024, 1, 10), judgement=good)
    later_ri = HomeFactory(urn="SC100005")
    InspectionFactory(home=later_ri, inspection_date=date(2024, 7, 10), judgement=ri)  # after the check's date
    for home in (first_inspection_ri, first_inspection_ri, suspended, fine, later_ri):
        PlacementFactory(home=home, start_date=date(2024, 3, 1))
    PlacementFactory(home=unused_ri, start_date=date(2024, 3, 1), end_date=date(2024, 6, 30))  # left on the day
    checks.run(AS_OF, ["home_in_use_concern"])
    found = {f.subject: f for f in flags("home_in_use_concern")}
    assert set(found) == {"SC100001", "SC100002"}
    # Shared with every consortium: it says children are placed there, never how many of whose.
    assert found["SC100001"].detail.endswith(
        "children placed there on 30 Jun 2024; judged Requires improvement to be good on 10 Jan 2024"
    )
    assert found["SC100002"].detail.endswith("children placed there on 30 Jun 2024; registration Suspended")
    assert found["SC100002"].severity == "high" and found["SC100001"].severity == "medium"
    checks.run(AS_OF, ["home_in_use_concern"])
    assert len(flags("home_in_use_concern")) == 2
    # The children leave the first home: its flag resolves itself.
    for placement in db.session.scalars(select(Placement).where(Placement.home_id == first_inspection_ri.id)):
        placement.end_date = date(2024, 7, 1)
    checks.run(date(2024, 7, 2), ["home_in_use_concern"])
    assert {f.subject: f.status for f in flags("home_in_use_concern")}["SC100001"] == "resolved"


def test_the_cli_prints_the_new_kinds(runner):
    block_with(6)
    db.session.commit()
    result = runner.invoke(args=["audits", "run", "--as-of", "2024-06-30"])
    assert result.exit_code == 0, result.output
    assert (
        'underused_block_beds,EM-BLOCK,medium,2024-06-30,"Utilisation 60.0% over the 28 nights to 29 Jun 2024: '
        '112 void bed-nights, void cost £56,000.00"' in result.output
    )
