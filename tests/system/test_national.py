"""The national-scale generator, run small: deterministic, and its data keeps the rules."""

from datetime import date

import pytest
from sqlalchemy import func, select

from consortium import national
from consortium.core.extensions import db
from consortium.recharges.models import CostPool, Statement
from contracts import placements as rules
from contracts.models import Contract, Placement

TODAY = date(2026, 11, 24)


@pytest.fixture
def small(monkeypatch):
    for name, value in (
        ("AUTHORITIES", 13),
        ("CONSORTIA", 2),
        ("PROVIDERS", 40),
        ("HOMES", 60),
        ("BLOCKS", 4),
        ("PLACEMENTS", 600),
    ):
        monkeypatch.setattr(national, name, value)


def fingerprint():
    return db.session.execute(
        select(
            func.count(), func.sum(Placement.home_id), func.max(Placement.start_date), func.count(Placement.end_date)
        )
    ).one()


def test_the_same_seed_makes_the_same_data_and_it_keeps_the_rules(small):
    nested = db.session.begin_nested()
    counts = national.seed(TODAY, seed_value=7)
    first = fingerprint()
    assert counts["placements"] == 600 and counts["contracts"] == 2 * national.FRAMEWORKS_PER_CONSORTIUM + 4
    # Blocks are never above their beds; no child is placed twice at once; statements add up.
    for block in db.session.scalars(select(Contract).where(Contract.kind == "block")):
        assert rules.first_night_over_beds(block) is None, block.ref
    assert rules.overlapping_children(list(db.session.scalars(select(Placement.id)))) == []
    for pool in db.session.scalars(select(CostPool)):
        assert (
            sum(s.amount_pence for s in db.session.scalars(select(Statement).where(Statement.pool_id == pool.id)))
            == pool.amount_pence
        )
    with pytest.raises(national.NotEmpty):
        national.seed(TODAY)
    nested.rollback()
    nested = db.session.begin_nested()
    national.seed(TODAY, seed_value=7)
    assert fingerprint() == first
    nested.rollback()
