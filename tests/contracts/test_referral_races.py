"""Two people acting on the same referral or the same block bed at the same moment, in two real
threads with connections of their own, on PostgreSQL (DESIGN §4a's races):

- two officers accept two providers' offers of one referral at once: exactly one placement, the
  other is told the referral is already placed;
- two providers' staff offer a block's last free bed to two referrals at once: the second offer
  sees the bed held by the first and is refused.

SQLite lets one transaction write at a time, so these races are PostgreSQL's: the tests run in the
PostgreSQL run of the suite, each on a database of its own (the threads need committed data).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from config import Testing
from consortium.app import create_app
from consortium.core.extensions import db
from consortium.core.services import RuleBroken
from contracts.models import Placement
from contracts.referrals import services
from contracts.referrals.models import Offer, Referral, ReferralInvitation
from tests.factories import PlacementFactory
from tests.referral_world import OPENED, build_world, invitation_of, offer, opened

AT = OPENED + timedelta(hours=2)


@pytest.fixture
def race_app(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("the races are PostgreSQL's: SQLite lets one transaction write at a time (runs in that run)")
    name = f"mpc_referral_race_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))

    class Separate(Testing):
        SQLALCHEMY_DATABASE_URI = url.set(database=name).render_as_string(hide_password=False)

    other = create_app(Separate)
    original = db.session
    db.session = db._make_scoped_session({})  # sessions of this app's own, one per thread's app context
    try:
        with other.app_context():
            upgrade()
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
        db.session = original
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def _at_once(race_app, work, arguments) -> tuple[list, list[str]]:
    """Run `work(argument)` in two threads that start together, each committing after holding
    its transaction a while; the results and the refusals' words."""
    start, done, refused, failed = threading.Barrier(2), [], [], []

    def run(argument):
        try:
            with race_app.app_context():
                prepared = work(argument, None)  # read what is needed before both go
                start.wait(timeout=10)
                try:
                    done.append(work(argument, prepared))
                    time.sleep(0.3)  # the first to get there holds its locks a while before committing
                    db.session.commit()
                except RuleBroken as broken:
                    db.session.rollback()
                    refused.append(str(broken))
        except Exception as error:  # noqa: BLE001 (reported by the test: it must fail, not hang)
            failed.append(repr(error))

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failed, failed
    return done, refused


def test_two_officers_accepting_two_offers_at_once_make_one_placement(race_app):
    with race_app.app_context():
        world = build_world()
        referral = opened(world)
        offers = [
            offer(invitation_of(referral, world["homes"][name].provider), world["homes"][name]).id
            for name in ("One", "Two")
        ]
        number = referral.number
        db.session.commit()

    def accept(offer_id, prepared):
        if prepared is None:
            return db.session.get(Offer, offer_id)
        return services.accept(prepared, at=AT).id

    placed, refused = _at_once(race_app, accept, offers)

    assert len(placed) == 1 and refused == [f"{number} is already placed: nothing was changed"]
    with race_app.app_context():
        assert db.session.scalar(select(func.count(Placement.id))) == 1
        kept = db.session.scalar(select(Referral))
        assert kept.status == "placed" and kept.placement_id == placed[0]
        assert sorted(o.status for o in db.session.scalars(select(Offer))) == ["accepted", "not_selected"]


def test_the_last_block_bed_offered_to_two_referrals_at_once_is_held_by_the_first(race_app):
    with race_app.app_context():
        world = build_world()
        # One of the block's two beds is taken from before the search's nights until after them.
        PlacementFactory(contract=world["block"], home=world["block_home"], start_date=date(2026, 11, 1))
        first, second = opened(world), opened(world, child_ref="NOT-0043")
        invitations = [invitation_of(r, world["block"].provider).id for r in (first, second)]
        home_urn = world["block_home"].urn
        db.session.commit()

    def offer_the_bed(invitation_id, prepared):
        invitation = db.session.get(ReferralInvitation, invitation_id)
        if prepared is None:
            return invitation.id
        values = services.OfferValues(
            home_urn=home_urn, start_date=OPENED.date() + timedelta(days=7), need_level="standard"
        )
        return services.make_offer(invitation, None, values, AT).id

    made, refused = _at_once(race_app, offer_the_bed, invitations)

    assert len(made) == 1 and refused == [
        "EM-BLOCK has no bed free on each of the 28 nights from 8 Dec 2026: "
        "its beds are occupied or held by other offers"
    ]
    with race_app.app_context():
        standing = db.session.scalars(select(Offer).where(Offer.status == "standing")).all()
        assert [o.id for o in standing] == made and standing[0].is_block
