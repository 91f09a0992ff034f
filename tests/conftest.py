"""Fixtures: the app, a database rolled back after each test, clients, a CLI runner, sign-in.

On SQLite (the default) the schema comes from the models; with TEST_DATABASE_URL pointing at
PostgreSQL it is built by the real migrations. Each test runs inside a transaction on one
connection; the sessions of the test and of its requests join it through savepoints, so what
a view commits is still rolled back when the test ends.
"""

import contextvars
import os

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from hypothesis import settings
from sqlalchemy import event, text
from sqlalchemy.orm import scoped_session, sessionmaker

from config import Testing
from consortium.app import create_app
from consortium.core.extensions import db

# Property tests: thorough on a developer's machine, lighter in CI.
settings.register_profile("dev", max_examples=300, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile("fuzz", max_examples=3000, deadline=None)  # run by hand: HYPOTHESIS_PROFILE=fuzz
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def _sqlite_savepoints_work(engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN itself
    # (the recipe in SQLAlchemy's SQLite dialect documentation).
    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


class IsolatedClient(FlaskClient):
    """Each request runs in a context of its own, as in production: the test's app context
    (and its `g`, which caches the signed-in user) is not shared with the request."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


class IsolatedCliRunner(FlaskCliRunner):
    def invoke(self, *args, **kwargs):
        return contextvars.Context().run(super().invoke, *args, **kwargs)


@pytest.fixture(scope="session")
def app():
    os.environ.pop("DATABASE_URL", None)  # belt and braces: tests never use it
    app = create_app(Testing)
    app.test_client_class = IsolatedClient
    app.test_cli_runner_class = IsolatedCliRunner
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_savepoints_work(db.engine)
            db.create_all()
        else:
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            upgrade()
    yield app


@pytest.fixture(autouse=True)
def database(app):
    """A transaction around the whole test, rolled back at the end."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"), scopefunc=_app_ctx_id
        )
        try:
            yield db
        finally:
            db.session.remove()
            db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def csrf_app(app):
    """The app with CSRF protection on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


def pdf_text(data: bytes) -> str:
    """The text of a PDF the service made, page by page, as a reader would copy it."""
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def sign_in(client, user):
    """Sign a test client in as `user` without the cost of hashing a password."""
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token
        session["_fresh"] = True
    return client


@pytest.fixture
def world():
    """The consortium of the referrals' tests (tests/referral_world.py)."""
    from tests.referral_world import build_world

    return build_world()


@pytest.fixture
def signed_in(client):
    return lambda user: sign_in(client, user)


def in_app_on(database: str, work) -> None:
    """Run `work` in an app of its own on another database (one a test made), and commit: for
    tests whose processes or threads need committed data of their own."""

    class Separate(Testing):
        SQLALCHEMY_DATABASE_URI = database

    other = create_app(Separate)
    original = db.session
    db.session = db._make_scoped_session({})
    try:
        with other.app_context():
            work()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    finally:
        db.session = original
