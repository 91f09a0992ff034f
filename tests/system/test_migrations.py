"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from config import Testing
from consortium.app import create_app
from consortium.core.extensions import db


def differences(engine):
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata)


def migrated_sqlite_file(tmp_path):
    class FreshFile(Testing):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'migrated.db'}"

    app = create_app(FreshFile)
    with app.app_context():
        upgrade()
    return app, create_engine(FreshFile.SQLALCHEMY_DATABASE_URI)


def test_migrations_match_the_models(app, tmp_path):
    if db.engine.dialect.name == "postgresql":
        engine = db.engine  # conftest built it with the real migrations
    else:
        _, engine = migrated_sqlite_file(tmp_path)
    assert differences(engine) == []


def test_migrations_add_the_append_only_triggers_and_downgrade_cleanly(tmp_path):
    migrated, engine = migrated_sqlite_file(tmp_path)
    with engine.connect() as connection:
        triggers = set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert {"audit_events_no_update", "audit_events_no_delete"} <= triggers
    with migrated.app_context():
        downgrade(revision="base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
