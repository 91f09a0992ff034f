"""Alembic environment: migrates the database of the current Flask app."""

from alembic import context
from flask import current_app

migrate = current_app.extensions["migrate"]
config = context.config
config.set_main_option("sqlalchemy.url", migrate.db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def skip_empty_autogenerate(_context, _revision, directives):
    # `flask db migrate` with no change to the models writes no empty revision.
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def run_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=migrate.db.metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online():
    options = dict(migrate.configure_args)
    options.setdefault("process_revision_directives", skip_empty_autogenerate)
    with migrate.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=migrate.db.metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
