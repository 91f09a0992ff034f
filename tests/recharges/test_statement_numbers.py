"""Two leads issuing at the same moment get different numbers, with no gaps: run against a real
database of its own (not the test's rolled-back transaction), on SQLite or PostgreSQL."""

import threading
import uuid
from datetime import date

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from config import Testing
from consortium.app import create_app
from consortium.core.extensions import db
from consortium.core.models import Authority, Consortium, Membership
from consortium.recharges import services
from consortium.recharges.models import CostPool, Statement


@pytest.fixture
def separate_database(app, tmp_path):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        name = f"mpc_numbers_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'numbers.db'}"


def test_two_runs_issued_at_once_get_distinct_consecutive_numbers(separate_database):
    class Separate(Testing):
        SQLALCHEMY_DATABASE_URI = separate_database
        SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 30}} if separate_database.startswith("sqlite") else {}

    other = create_app(Separate)
    original_session = db.session
    db.session = db._make_scoped_session({})  # this app's own sessions, not the test's transaction
    try:
        with other.app_context():
            upgrade()
            for code in ("E06000015", "E06000016", "E06000018"):
                db.session.add(Authority(code=code, name=code))
            consortium = Consortium(ref="EMRF", name="East Midlands", lead_code="E06000015")
            consortium.memberships = [
                Membership(authority_code=c, joined=date(2020, 4, 1)) for c in ("E06000015", "E06000016", "E06000018")
            ]
            db.session.add(consortium)
            db.session.flush()
            pools = []
            for n in range(2):
                pool = services.create_pool(
                    consortium, f"Pool {n}", date(2024, 4, 1), date(2025, 3, 31), 90000 + n, "equal"
                )
                services.draft_statements(pool)
                pools.append(pool.id)
            db.session.commit()

        start, errors = threading.Barrier(2), []

        def issue(pool_id):
            try:
                with other.app_context():
                    pool = db.session.get(CostPool, pool_id)
                    start.wait()
                    services.issue(pool, date(2025, 4, 10))
                    db.session.commit()
            except Exception as error:  # reported below: the test must fail, not hang
                errors.append(error)

        threads = [threading.Thread(target=issue, args=(pool_id,)) for pool_id in pools]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        with other.app_context():
            numbers = sorted(db.session.scalars(select(Statement.number)))
            db.session.remove()
            db.engine.dispose()
        assert numbers == [f"EMRF-2025-{n:04d}" for n in range(1, 7)]
    finally:
        db.session = original_session
