"""`flask import contracts` and `flask import placements`: idempotent, all or nothing, each bad line named."""

from datetime import date

import pytest
from sqlalchemy import func, select

from consortium.core.extensions import db
from consortium.core.tabular import ImportFailed, read_table
from contracts import imports
from contracts.models import END_REASONS, Admission, Contract, Placement, PlacementFee
from tests.factories import (
    AuthorityFactory,
    ConsortiumFactory,
    HomeFactory,
    ProviderFactory,
)

CONTRACTS_HEADER = (
    "ref,kind,title,consortium_ref,owner_code,start_date,end_date,max_end_date,beds,bed_week_price,home_urns\n"
)
PLACEMENTS_HEADER = (
    "authority_code,child_ref,contract_ref,home_urn,start_date,end_date,weekly_fee,placement_type,distance_miles,"
    "age_at_start\n"
)


@pytest.fixture
def region():
    """A consortium of Derby (lead) and Nottingham; Rutland is not a member. Two providers' homes."""
    derby, nottingham = AuthorityFactory(code="E06000015"), AuthorityFactory(code="E06000018")
    AuthorityFactory(code="E06000017")
    consortium = ConsortiumFactory(ref="EMRF", lead=derby, members=[nottingham])
    oak, elm = ProviderFactory(name="Oak Ltd"), ProviderFactory(name="Elm Ltd")
    for urn, provider in (("SC100001", oak), ("SC100002", oak), ("SC100003", elm), ("SC100004", elm)):
        HomeFactory(urn=urn, provider=provider)
    return consortium


def load_contracts(text):
    return imports.import_contracts(
        read_table((CONTRACTS_HEADER + text).encode(), "contracts.csv", **imports.CONTRACT_COLUMNS)
    )


def load_placements(text):
    return imports.import_placements(
        read_table((PLACEMENTS_HEADER + text).encode(), "placements.csv", **imports.PLACEMENT_COLUMNS)
    )


CONTRACTS = (
    "EM-FW,framework,Regional framework,EMRF,,2023-04-01,2027-03-31,2029-03-31,,,SC100003\n"
    "EM-BLOCK,block,Residential block,EMRF,E06000015,2024-04-01,2026-03-31,2028-03-31,2,3500.00,SC100001;SC100002\n"
)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_contracts_import_then_again_changes_nothing(region):
    result = load_contracts(CONTRACTS)
    assert (result.added, result.details) == (2, {"homes_linked": 2, "providers_admitted": 1})
    block = db.session.scalar(select(Contract).where(Contract.ref == "EM-BLOCK"))
    assert (block.beds, block.owner_code, block.provider.name, [h.urn for h in block.homes]) == (
        2,
        "E06000015",
        "Oak Ltd",
        ["SC100001", "SC100002"],
    )
    assert block.price_on(date(2024, 4, 1)) == 350000
    framework = db.session.scalar(select(Contract).where(Contract.ref == "EM-FW"))
    assert [(lot.name, [a.provider.name for a in lot.admissions]) for lot in framework.lots] == [
        ("General", ["Elm Ltd"])
    ]
    again = load_contracts(CONTRACTS)
    assert (again.added, again.updated, again.unchanged, again.details) == (
        0,
        0,
        2,
        {"homes_linked": 0, "providers_admitted": 0},
    )
    assert count(Admission) == 1


def test_bad_contracts_import_nothing(region):
    text = (
        "X,lease,T,EMRF,,2024-04-01,2025-03-31,,,,\n"
        "B1,block,T,NOPE,E09999999,2024-04-01,2023-03-31,,0,-5,SC999999\n"
        "B2,block,T,EMRF,,2024-04-01,2025-03-31,2025-03-31,2,3500,SC100001;SC100003\n"
    )
    with pytest.raises(ImportFailed) as failed:
        load_contracts(text)
    lines = failed.value.lines()
    assert lines[0] == "line 2: kind must be framework or block, not 'lease'"
    assert lines[1].startswith(
        "line 3: unknown consortium 'NOPE'; unknown authority 'E09999999' as owner; end_date is before start_date"
    )
    assert "unknown home 'SC999999'" in lines[1] and "beds must be a whole number above zero" in lines[1]
    assert lines[2] == "line 4: a block contract's homes must all be run by one provider"
    assert count(Contract) == 0


def placements_setup(region):
    load_contracts(CONTRACTS)


PLACEMENTS = (
    "E06000015,DER-001,EM-BLOCK,SC100001,2024-04-01,2024-06-30,,residential,5.0,14\n"
    "E06000018,NOT-001,EM-BLOCK,SC100002,2024-05-01,,3500.00,residential,12.5,15\n"
    "E06000018,NOT-002,EM-FW,SC100003,2024-05-01,,4120.50,residential,21.0,13\n"
    "E06000017,RUT-001,,SC100004,2024-05-01,,5100,residential,3.3,12\n"
    "E06000018,NOT-003,,,2024-05-01,,450,in_house_fostering,2.0,9\n"
)


def test_placements_import_then_again_changes_nothing(region):
    placements_setup(region)
    result = load_placements(PLACEMENTS)
    assert (result.added, result.updated, result.unchanged) == (5, 0, 0)
    framework = db.session.scalar(select(Placement).where(Placement.child_ref == "NOT-002"))
    assert (framework.lot.name, framework.fees[0].weekly_pence, str(framework.distance_miles)) == (
        "General",
        412050,
        "21.0",
    )
    in_block = db.session.scalar(select(Placement).where(Placement.child_ref == "NOT-001"))
    assert in_block.fees == []  # a block placement costs the block's price, never a fee
    fostering = db.session.scalar(select(Placement).where(Placement.child_ref == "NOT-003"))
    assert fostering.home_id is None and fostering.contract_id is None
    again = load_placements(PLACEMENTS)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert (count(Placement), count(PlacementFee)) == (5, 3)
    # An end date now known updates the placement it matches.
    ended = load_placements(PLACEMENTS.replace("2024-05-01,,4120.50", "2024-05-01,2024-09-01,4120.50"))
    assert (ended.added, ended.updated, ended.unchanged) == (0, 1, 4)
    db.session.refresh(framework)
    assert framework.end_date == date(2024, 9, 1)


def bad(region, text, existing=""):
    placements_setup(region)
    if existing:
        load_placements(existing)
    before = count(Placement)
    with pytest.raises(ImportFailed) as failed:
        load_placements(text)
    assert count(Placement) == before
    return failed.value.lines()


@pytest.mark.parametrize(
    "row, message",
    [
        ("E09999999,X-1,,SC100004,2024-05-01,,5100,residential,3,12", "unknown authority 'E09999999'"),
        ("E06000018,X-1,,SC999999,2024-05-01,,5100,residential,3,12", "unknown home 'SC999999'"),
        ("E06000018,X-1,NOPE,SC100004,2024-05-01,,5100,residential,3,12", "unknown contract 'NOPE'"),
        (
            "E06000018,X-1,EM-BLOCK,SC100003,2024-05-01,,,residential,3,12",
            "SC100003 is not one of the homes of EM-BLOCK",
        ),
        (
            "E06000018,X-1,EM-FW,SC100001,2024-05-01,,4000,residential,3,12",
            "Oak Ltd, which runs SC100001, is not admitted to EM-FW",
        ),
        (
            "E06000017,X-1,EM-BLOCK,SC100001,2024-05-01,,,residential,3,12",
            "E06000017 is not a member of the consortium of EM-BLOCK",
        ),
        (
            "E06000018,X-1,,SC100004,2024-05-01,2024-04-01,5100,residential,3,12",
            "the end date must be after the start date",
        ),
        ("E06000018,X-1,,SC100004,2024-05-01,,0,residential,3,12", "the weekly fee must be above zero"),
        ("E06000018,X-1,,SC100004,2024-05-01,,-5100,residential,3,12", "the weekly fee must be above zero"),
        (
            "E06000018,X-1,,SC100004,2024-05-01,,5100,supported_accommodation,3,15",
            "a child of 15 cannot be placed in supported accommodation: it is only for young people of 16 or over",
        ),
        ("E06000018,X-1,,SC100004,2024-05-01,,5100,castle,3,12", "unknown placement type 'castle'"),
        ("E06000018,X-1,,SC100004,31/02/2024,,5100,residential,3,12", "start_date: '31/02/2024' is not a date"),
        # A superscript two is a digit to str.isdigit() but not a number to int().
        (
            "E06000018,X-1,,SC100004,2024-05-01,,5100,residential,3,\u00b2",
            "age_at_start '\u00b2' is not an age in years",
        ),
    ],
)
def test_bad_placements_are_named_by_line(region, row, message):
    lines = bad(region, PLACEMENTS + row + "\n")
    assert len(lines) == 1 and lines[0].startswith("line 7: ") and message in lines[0], lines


def test_overlapping_placements_of_one_child(region):
    lines = bad(
        region,
        "E06000018,NOT-001,,SC100004,2024-06-01,,5100,residential,3,12\n"
        "E06000018,NOT-009,,SC100004,2024-01-01,2024-03-01,5100,residential,3,12\n"
        "E06000018,NOT-009,,SC100003,2024-02-28,2024-04-01,5100,residential,3,12\n",
        existing=PLACEMENTS,
    )
    assert lines == [
        "line 2: child NOT-001 of E06000018 overlaps a placement already recorded (from 01/05/2024)",
        "line 4: child NOT-009 of E06000018 overlaps line 3 (from 01/01/2024 to 01/03/2024)",
    ]


def test_a_block_is_never_above_its_beds(region):
    # EM-BLOCK has 2 beds. DER-001 leaves on 30 June; a third child from 29 June is one too many
    # on the night of 29 June, and the night a child leaves is free again.
    lines = bad(region, "E06000015,DER-002,EM-BLOCK,SC100002,2024-06-29,,,residential,4,12\n", existing=PLACEMENTS)
    assert lines == ["line 2: EM-BLOCK would have more placements than its 2 beds on the night of 29 Jun 2024"]
    load_placements("E06000015,DER-002,EM-BLOCK,SC100002,2024-06-30,,,residential,4,12\n")
    assert count(Placement) == 6


def test_the_cli_reports_and_exits_non_zero(region, runner, tmp_path):
    placements_setup(region)
    db.session.commit()
    path = tmp_path / "placements.csv"
    path.write_text(PLACEMENTS_HEADER + PLACEMENTS)
    result = runner.invoke(args=["import", "placements", str(path)])
    assert result.exit_code == 0 and "5 added" in result.output, result.output
    path.write_text(PLACEMENTS_HEADER + "E06000018,X,,SC100004,2024-05-01,,0,residential,3,12\n")
    result = runner.invoke(args=["import", "placements", str(path)])
    assert result.exit_code == 1 and "line 2: the weekly fee must be above zero" in result.output


def test_placements_carry_their_coded_end_reason_and_an_unknown_code_is_named(region):
    load_contracts(CONTRACTS)
    header = PLACEMENTS_HEADER.strip() + ",end_reason_code,end_reason\n"

    def load(text):
        table = read_table((header + text).encode(), "placements.csv", **imports.PLACEMENT_COLUMNS)
        return imports.import_placements(table)

    with pytest.raises(ImportFailed) as failed:
        load("E06000018,X-1,,SC100004,2024-05-01,2024-09-01,5100,residential,3,12,HOME,\n")
    assert failed.value.lines() == ["line 2: unknown end reason code 'HOME' (one of " + ", ".join(END_REASONS) + ")"]
    load("E06000018,X-1,,SC100004,2024-05-01,2024-09-01,5100,residential,3,12,creqb,Carers gave notice\n")
    placement = db.session.scalar(select(Placement).where(Placement.child_ref == "X-1"))
    assert (placement.end_reason_code, placement.end_reason) == ("CREQB", "Carers gave notice")
