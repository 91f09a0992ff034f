"""Two officers of one authority save placements at the same moment: each save works the
authority's usage out again (a delete and an insert of its rows) inside its own transaction.
On PostgreSQL the two take turns (advisory locks, `consortium.core.sql.serialise`), so neither fails
on the summary's unique keys and the rows left agree with working everything out from nothing.

SQLite lets one transaction write at a time, so the race exists on PostgreSQL alone: this test
runs in the PostgreSQL run of the suite, on a database of its own (the threads need committed
data and connections of their own, outside the test's rolled-back transaction).
"""

import threading
import time
import uuid
from datetime import date

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from consortium.core.extensions import db
from contracts import summaries
from contracts.models import Placement, UsageDay, UsageSeries
from tests.conftest import in_app_on


@pytest.fixture
def own_database(app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip(
            "the race is PostgreSQL's: SQLite lets one transaction write at a time (runs in the PostgreSQL run)"
        )
    name = f"mpc_race_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    database = url.set(database=name).render_as_string(hide_password=False)

    def write():
        upgrade()
        db.session.execute(
            text("INSERT INTO authorities (code, name, region) VALUES ('E06000018', 'Nottingham', 'East Midlands')")
        )
        for n in range(2):
            db.session.execute(
                text(
                    "INSERT INTO placements (authority_code, child_ref, start_date, placement_type, version) "
                    f"VALUES ('E06000018', 'C{n}', '2024-05-01', 'residential', 1)"
                )
            )
        summaries.refresh_all()

    in_app_on(database, write)
    yield database
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def _kept(session: Session):
    keys = dict(session.execute(select(UsageSeries.id, UsageSeries.authority_code)).all())
    return sorted(
        (keys.get(d.series_id, "no such series"), d.day, d.placed, d.started) for d in session.scalars(select(UsageDay))
    )


def test_two_saves_of_one_authoritys_placements_at_once_take_turns(own_database):
    engine = create_engine(own_database)
    both_changed = threading.Barrier(2)
    errors = []

    def end(child_ref: str, day: date):
        try:
            with Session(engine) as session:
                placement = session.scalar(select(Placement).where(Placement.child_ref == child_ref))
                placement.end_date = day
                both_changed.wait(timeout=10)  # both transactions are open before either saves
                session.flush()  # works the authority's usage out again
                time.sleep(0.3)  # and holds it a while before committing
                session.commit()
        except Exception as error:  # noqa: BLE001 (reported below, with the thread's context)
            errors.append(repr(error))

    threads = [
        threading.Thread(target=end, args=("C0", date(2024, 6, 1))),
        threading.Thread(target=end, args=("C1", date(2024, 7, 1))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors

    with Session(engine) as session:
        kept = _kept(session)
        summaries.refresh_all(session)
        assert kept == _kept(session)  # the same as working it all out again from nothing
        # Both ends are in it: from 1 July nobody is placed.
        assert [(day, placed) for _, day, placed, _ in kept] == [
            (date.min, 0),
            (date(2024, 5, 1), 2),
            (date(2024, 6, 1), 1),
            (date(2024, 7, 1), 0),
        ]
        session.rollback()
    engine.dispose()
