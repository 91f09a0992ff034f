"""Statements to co-funders (DESIGN §4c): a quarter's contributions, and shares of a block's
cost by its funding shares, numbered with the members' statements and fixed once issued."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from consortium.core.extensions import db
from consortium.core.services import RuleBroken
from consortium.recharges import contributions, services
from consortium.recharges.pdf import statement_pdf
from contracts import cofunding
from tests.conftest import pdf_text
from tests.contracts.test_cofunding import Q1, world  # noqa: F401  (the fixture)
from tests.factories import AuthorityFactory, BlockPriceFactory, ContractFactory, MembershipFactory

AFTER_Q1 = date(2026, 7, 2)


def test_a_quarter_is_issued_once_with_its_lines_and_again_only_after_a_credit_note(world):  # noqa: F811
    w = world
    cofunding.add_contribution(w["one"], w["icb"], date(2026, 4, 1), percent=Decimal("25"))
    cofunding.add_contribution(w["two"], w["icb"], date(2026, 5, 10), weekly_pence=70_000)
    with pytest.raises(RuleBroken, match="2026-Q1 ends on 30 Jun 2026: its statement can be issued from 1 Jul 2026"):
        contributions.issue_contributions(w["consortium"], w["icb"], Q1[0], date(2026, 6, 30))

    statement = contributions.issue_contributions(w["consortium"], w["icb"], Q1[0], AFTER_Q1)
    assert (statement.number, statement.amount_pence, statement.usage) == ("EMRF-2026-0001", 1_547_500, 132)
    assert [(x.child_ref, x.nights, x.amount_pence) for x in statement.lines] == [
        ("CH-1", 91, 1_137_500),
        ("CH-2", 41, 410_000),
    ]
    with pytest.raises(RuleBroken, match="is EMRF-2026-0001: credit it first"):
        contributions.issue_contributions(w["consortium"], w["icb"], Q1[0], AFTER_Q1)

    text_of_pdf = pdf_text(statement_pdf(statement))
    for expected in (
        "Contributions statement",
        "NHS Nottingham and Nottinghamshire ICB",
        "CH-1",
        "£11,375.00",
        "£15,475.00",
    ):
        assert expected in text_of_pdf

    # A contribution found late: credit the statement, then issue the quarter again, afresh.
    cofunding.add_contribution(w["two"], w["send"], date(2026, 6, 1), percent=Decimal("10"))
    note, replacement = services.credit(statement, "CH-2's dates were wrong", None, date(2026, 7, 3))
    assert (note.number, note.amount_pence, replacement) == ("EMRF-2026-0002", -1_547_500, None)
    again = contributions.issue_contributions(w["consortium"], w["icb"], Q1[0], date(2026, 7, 3))
    assert again.number == "EMRF-2026-0003"
    with pytest.raises(RuleBroken, match="issuing its quarter again"):
        services.credit(again, "wrong", 100, date(2026, 7, 4))


def test_issued_lines_never_change_in_the_database(world):  # noqa: F811
    w = world
    cofunding.add_contribution(w["one"], w["icb"], date(2026, 4, 1), percent=Decimal("25"))
    statement = contributions.issue_contributions(w["consortium"], w["icb"], Q1[0], AFTER_Q1)
    db.session.flush()
    with pytest.raises(DatabaseError, match="cannot change"):
        with db.session.begin_nested():
            db.session.execute(
                text("UPDATE statement_lines SET amount_pence = 1 WHERE statement_id = :id"), {"id": statement.id}
            )
    with pytest.raises(DatabaseError, match="cannot change"):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE statements SET cofunder_id = NULL WHERE id = :id"), {"id": statement.id})


def test_the_lead_sees_each_quarter_due_beside_its_statement(world):  # noqa: F811
    w = world
    cofunding.add_contribution(w["one"], w["icb"], date(2026, 4, 1), percent=Decimal("25"))
    contributions.issue_contributions(w["consortium"], w["icb"], Q1[0], AFTER_Q1)
    rows = contributions.recent_quarters(w["consortium"], date(2026, 8, 15))
    # 2026-Q2 to 15 August is still running: 1 July to 30 September, 92 nights x £125.00.
    assert [(r.name, r.total_pence, r.statement.number if r.statement else None) for r in rows] == [
        ("2026-Q2", 1_150_000, None),
        ("2026-Q1", 1_137_500, "EMRF-2026-0001"),
    ]


def test_a_block_pool_is_split_by_its_funding_shares_and_co_funders_get_statements(world):  # noqa: F811
    w = world
    derby = AuthorityFactory(code="E06000015", name="Derby")
    MembershipFactory(consortium=w["consortium"], authority=derby, joined=date(2023, 4, 1))
    # A 3-bed short-breaks block owned by Nottingham, £3,500.00 a bed-week: Q1's 91 nights cost
    # 3 x 91 x £500.00 = £136,500.00.
    block = ContractFactory(consortium=w["consortium"], owner=w["one"].authority, beds=3, start_date=date(2026, 4, 1))
    BlockPriceFactory(contract=block, weekly_pence=350_000, effective_from=date(2026, 4, 1))
    cofunding.set_funding_shares(
        block,
        date(2026, 4, 1),
        {"E06000018": Decimal("33.33"), "E06000015": Decimal("16.67")},
        {w["icb"].id: Decimal("25"), w["send"].id: Decimal("25")},
    )
    pool = services.create_block_pool(block, *Q1)
    assert (pool.basis, pool.amount_pence) == ("shares", 13_650_000)
    # 33.33% is £45,495.45; 16.67% is £22,754.55; 25% is £34,125.00 each: £136,500.00 in all.
    drafts = services.draft_statements(pool)
    assert sorted((s.authority_code or s.cofunder.ref, s.amount_pence) for s in drafts) == [
        ("E06000015", 2_275_455),
        ("E06000018", 4_549_545),
        ("NHS-NOTTS-ICB", 3_412_500),
        ("NOTTS-SEND", 3_412_500),
    ]
    issued = services.issue(pool, AFTER_Q1)
    assert [s.number for s in issued] == [f"EMRF-2026-000{n}" for n in range(1, 5)]
    icb_statement = next(s for s in issued if s.cofunder_id == w["icb"].id)
    assert "NHS Nottingham and Nottinghamshire ICB" in pdf_text(statement_pdf(icb_statement))


def test_funding_shares_changing_inside_a_pool_period_are_refused(world):  # noqa: F811
    w = world
    block = ContractFactory(consortium=w["consortium"], beds=2, start_date=date(2026, 4, 1))
    BlockPriceFactory(contract=block, weekly_pence=350_000, effective_from=date(2026, 4, 1))
    cofunding.set_funding_shares(block, date(2026, 4, 1), {"E06000018": Decimal(50)}, {w["icb"].id: Decimal(50)})
    cofunding.set_funding_shares(block, date(2026, 5, 1), {"E06000018": Decimal(60)}, {w["icb"].id: Decimal(40)})
    with pytest.raises(RuleBroken, match="change on 1 May 2026: make one pool for each period"):
        services.create_block_pool(block, *Q1)
    pool = services.create_block_pool(block, date(2026, 5, 1), date(2026, 6, 30))
    shares = {s.authority_code or s.cofunder.ref: s.amount_pence for s in services.draft_statements(pool)}
    # 2 beds x 61 nights x £500.00 = £61,000.00: 60% and 40%.
    assert shares == {"E06000018": 3_660_000, "NHS-NOTTS-ICB": 2_440_000}
