"""Cost pools and statements: hand-worked previews, numbering, immutability, credit notes, PDFs."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from consortium.core.extensions import db
from consortium.core.services import RuleBroken
from consortium.recharges import services
from consortium.recharges.models import IssuedStatementChanged
from consortium.recharges.pdf import statement_pdf
from tests.conftest import pdf_text
from tests.factories import (
    AuthorityFactory,
    BlockPriceFactory,
    ConsortiumFactory,
    ContractFactory,
    MembershipFactory,
    PlacementFactory,
)

FY = (date(2024, 4, 1), date(2025, 3, 31))


@pytest.fixture
def consortium():
    """E06000015 (lead), E06000016, E06000018 members all year; E06000017 joined on 1 January."""
    lead_authority = AuthorityFactory(code="E06000015", name="Derby")
    consortium = ConsortiumFactory(ref="EMRF", lead=lead_authority)
    consortium.memberships[0].joined = date(2023, 4, 1)
    for code, name, joined in (
        ("E06000016", "Leicester", date(2023, 4, 1)),
        ("E06000018", "Nottingham", date(2023, 4, 1)),
        ("E06000017", "Rutland", date(2025, 1, 1)),
    ):
        MembershipFactory(consortium=consortium, authority=AuthorityFactory(code=code, name=name), joined=joined)
    contract = ContractFactory(consortium=consortium, kind="framework")
    for code, count in (("E06000015", 3), ("E06000016", 1), ("E06000018", 0), ("E06000017", 1)):
        for n in range(count):
            PlacementFactory(
                contract=contract,
                authority=db.session.get(type(lead_authority), code),
                home=None,
                start_date=date(2025, 2, 1 + n),
                end_date=date(2025, 2, 11 + n),
            )
    return consortium


def test_preview_by_placements_with_a_base(consortium):
    # £12,000 with a 50% base. Base £6,000 by days: 365:365:365:90 of 1,185 days.
    # Usage £6,000 by placements 3:1:0:1 of 5.
    result = services.preview(consortium, *FY, 1_200_000, "placements", 50)
    by_code = {s.code: s for s in result.shares}
    exact = {code: float(share.exact) for code, share in by_code.items()}
    assert exact == pytest.approx(
        {
            "E06000015": 600000 * 365 / 1185 + 360000,
            "E06000016": 600000 * 365 / 1185 + 120000,
            "E06000017": 600000 * 90 / 1185 + 120000,
            "E06000018": 600000 * 365 / 1185,
        }
    )
    # 184810.126.. each for the full members, 45569.62.. for Rutland: floors and remainders by hand.
    assert [(s.code, s.amount) for s in result.shares] == [
        ("E06000015", 544810),
        ("E06000016", 304810),
        ("E06000017", 165570),
        ("E06000018", 184810),
    ]
    assert sum(s.amount for s in result.shares) == 1_200_000
    assert result.total_usage == 5


def test_the_cli_preview_prints_exactly_the_design_format(consortium, runner):
    db.session.commit()
    result = runner.invoke(
        args=[
            "recharges",
            "preview",
            "--consortium",
            "EMRF",
            "--from",
            "2024-04-01",
            "--to",
            "2025-03-31",
            "--amount",
            "100000.00",
            "--basis",
            "placements",
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "authority_code,usage,share_percent,amount",
        "E06000015,3,60.00,60000.00",
        "E06000016,1,20.00,20000.00",
        "E06000017,1,20.00,20000.00",
        "E06000018,0,0.00,0.00",
        "total,5,100.00,100000.00",
    ]
    bad = runner.invoke(
        args=[
            "recharges",
            "preview",
            "--consortium",
            "EMRF",
            "--from",
            "2020-04-01",
            "--to",
            "2021-03-31",
            "--amount",
            "100",
            "--basis",
            "equal",
        ]
    )
    assert bad.exit_code == 1 and "outside the consortium's life" in bad.output


def test_three_equal_members_the_design_example(runner):
    consortium = ConsortiumFactory(
        ref="TRIO",
        lead=AuthorityFactory(code="E00000001"),
        members=[AuthorityFactory(code="E00000002"), AuthorityFactory(code="E00000003")],
    )
    contract = ContractFactory(consortium=consortium, kind="framework")
    for code in ("E00000001", "E00000002", "E00000003"):
        PlacementFactory(
            contract=contract,
            authority=db.session.get(type(consortium.lead), code),
            home=None,
            start_date=date(2024, 5, 1),
        )
    db.session.commit()
    result = runner.invoke(
        args=[
            "recharges",
            "preview",
            "--consortium",
            "TRIO",
            "--from",
            "2024-04-01",
            "--to",
            "2025-03-31",
            "--amount",
            "100000",
            "--basis",
            "placements",
        ]
    )
    assert result.stdout.splitlines()[1:] == [
        "E00000001,1,33.33,33333.34",
        "E00000002,1,33.33,33333.33",
        "E00000003,1,33.33,33333.33",
        "total,3,100.00,100000.00",
    ]


def test_no_usage_is_split_equally_and_said(consortium):
    result = services.preview(consortium, date(2024, 4, 1), date(2024, 6, 30), 3000, "bed_nights")
    assert result.notes[0] == (
        "No member used a bed-night under the consortium's contracts from 1 Apr 2024 to 30 Jun 2024, "
        "so the cost is shared equally."
    )
    assert [s.amount for s in result.shares] == [1000, 1000, 1000]  # Rutland was not yet a member


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"amount_pence": 0}, "above zero"),
        ({"amount_pence": -100}, "above zero"),
        ({"first": date(2022, 4, 1)}, "outside the consortium's life"),
        (
            {
                "basis": "fixed",
                "fixed": {
                    "E06000015": Decimal(50),
                    "E06000016": Decimal(40),
                    "E06000017": Decimal(0),
                    "E06000018": Decimal(0),
                },
            },
            "add up to 90, not 100",
        ),
        ({"basis": "fixed", "fixed": {"E06000015": Decimal(100)}}, "Give every member an agreed percentage"),
        ({"last": date(2024, 3, 1)}, "on or after the first"),
    ],
)
def test_pools_refuse_bad_input(consortium, kwargs, message):
    arguments = {"name": "Pool", "first": FY[0], "last": FY[1], "amount_pence": 100000, "basis": "placements"} | kwargs
    with pytest.raises(RuleBroken, match=message):
        services.create_pool(
            consortium,
            arguments.pop("name"),
            arguments.pop("first"),
            arguments.pop("last"),
            arguments.pop("amount_pence"),
            arguments.pop("basis"),
            fixed=arguments.get("fixed"),
        )


def issued_pool(consortium, on=date(2025, 4, 10)):
    pool = services.create_pool(consortium, "Contract management 2024-25", *FY, 1_200_000, "placements", 50)
    services.draft_statements(pool)
    services.issue(pool, on)
    return pool


def test_statements_are_numbered_without_gaps_and_issuing_twice_is_refused(consortium):
    pool = issued_pool(consortium)
    assert [(s.number, s.authority_code, s.amount_pence) for s in pool.statements] == [
        ("EMRF-2025-0001", "E06000015", 544810),
        ("EMRF-2025-0002", "E06000016", 304810),
        ("EMRF-2025-0003", "E06000017", 165570),
        ("EMRF-2025-0004", "E06000018", 184810),
    ]
    with pytest.raises(RuleBroken, match="Nothing to issue"):
        services.issue(pool, date(2025, 4, 11))
    with pytest.raises(RuleBroken, match="are issued"):
        services.draft_statements(pool)
    second = services.create_pool(consortium, "Another", *FY, 1000, "equal")
    services.draft_statements(second)
    services.issue(second, date(2025, 5, 1))
    assert [s.number for s in second.statements] == [
        "EMRF-2025-0005",
        "EMRF-2025-0006",
        "EMRF-2025-0007",
        "EMRF-2025-0008",
    ]
    third = services.create_pool(consortium, "Next year", *FY, 1000, "equal")
    services.draft_statements(third)
    services.issue(third, date(2026, 1, 5))
    assert third.statements[0].number == "EMRF-2026-0001"


def test_issued_statements_cannot_change_in_the_orm_or_the_database(consortium):
    pool = issued_pool(consortium)
    statement = pool.statements[0]
    nested = db.session.begin_nested()
    statement.amount_pence = 1
    with pytest.raises(IssuedStatementChanged, match="cannot change"):
        db.session.flush()
    nested.rollback()
    for sql in (
        "UPDATE statements SET amount_pence = 1 WHERE id = :id",
        "UPDATE statements SET status = 'draft', number = NULL WHERE id = :id",
        "DELETE FROM statements WHERE id = :id",
    ):
        nested = db.session.begin_nested()
        with pytest.raises(DatabaseError, match="issued statements cannot"):
            db.session.execute(text(sql), {"id": statement.id})
        nested.rollback()
    # Marking it paid is the one change allowed.
    services.mark_paid(statement, date(2025, 5, 1))
    db.session.flush()
    db.session.refresh(statement)
    assert (statement.status, statement.paid_on) == ("paid", date(2025, 5, 1))


def test_a_correction_is_a_credit_note_and_a_new_statement(consortium):
    pool = issued_pool(consortium)
    wrong = pool.statements[1]
    note, replacement = services.credit(wrong, "Leicester's placements were miscounted", 250000, date(2025, 5, 2))
    assert (note.number, note.amount_pence, note.credit_for_id, note.status) == (
        "EMRF-2025-0005",
        -304810,
        wrong.id,
        "issued",
    )
    assert (replacement.status, replacement.amount_pence, replacement.note) == (
        "draft",
        250000,
        "Replaces EMRF-2025-0002",
    )
    services.issue(pool, date(2025, 5, 3))
    assert replacement.number == "EMRF-2025-0006"
    with pytest.raises(RuleBroken, match="already been credited"):
        services.credit(wrong, "again", None, date(2025, 5, 4))
    with pytest.raises(RuleBroken, match="Only an issued statement can be credited"):
        services.credit(note, "a credit of a credit", None, date(2025, 5, 4))


def test_a_block_pool_costs_every_night_and_shares_by_its_bed_nights(consortium):
    block = ContractFactory(consortium=consortium, beds=2, owner=None, start_date=date(2024, 1, 1))
    BlockPriceFactory(
        contract=block, weekly_pence=350000, effective_from=date(2024, 1, 1), effective_to=date(2025, 1, 15)
    )
    BlockPriceFactory(contract=block, weekly_pence=385000, effective_from=date(2025, 1, 16))
    leicester = db.session.get(type(consortium.lead), "E06000016")
    PlacementFactory(contract=block, authority=leicester, home=None, start_date=date(2024, 12, 1))  # 31 nights in Jan
    PlacementFactory(
        contract=block, authority=consortium.lead, home=None, start_date=date(2025, 1, 20), end_date=date(2025, 1, 30)
    )  # 10
    pool = services.create_block_pool(block, date(2025, 1, 1), date(2025, 1, 31))
    # 2 beds x (15 nights at £500 + 16 nights at £550) = £15,000 + £17,600.
    assert pool.amount_pence == 3_260_000 and pool.basis == "bed_nights" and pool.contract_id == block.id
    result = services.pool_preview(pool)
    assert {s.code: (s.usage, s.amount) for s in result.shares} == {
        "E06000015": (10, 795122),
        "E06000016": (31, 2464878),
        "E06000017": (0, 0),
        "E06000018": (0, 0),
    }
    owned = ContractFactory(consortium=consortium, owner=consortium.lead)
    with pytest.raises(RuleBroken, match="the consortium itself owns"):
        services.create_block_pool(owned, date(2025, 1, 1), date(2025, 1, 31))


def test_the_statement_pdf_reads_correctly(consortium, tmp_path):
    pool = issued_pool(consortium)
    pdf = statement_pdf(pool.statements[0])
    assert pdf.startswith(b"%PDF")
    words = pdf_text(pdf)
    for expected in (
        "Recharge statement",
        "EMRF-2025-0001",
        "Derby",
        "Contract management 2024-25",
        "1 Apr 2024 to 31 Mar 2025",
        "3 of the consortium's 5 placements started",
        "£5,448.10",
        "please pay within 30 days, by 10 May 2025",
    ):
        assert expected in words, expected
