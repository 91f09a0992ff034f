"""The application factory: extensions, blueprints, error handlers, CLI and logging, each a step."""

from __future__ import annotations

import logging
from logging.config import dictConfig

from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import audits.cli
import audits.models
import audits.views
import config as settings
import consortium.api
import contracts.cli
import contracts.cofunding_views
import contracts.referrals.views
import contracts.returns_views
import contracts.services
import contracts.views
import providers.cli
import providers.views
from consortium import demo
from consortium.core import audit, auth, backup, cli, hooks, messages, panels, security, views
from consortium.core import services as core_services
from consortium.core.access import (
    IdConverter,
    answer_works_with,
    refuse_undeclared_routes,
    refuse_unsafe_arguments,
)
from consortium.core.errors import (
    render_conflict,
    render_error,
    render_refused,
    render_unexpected,
)
from consortium.core.extensions import csrf, db, login_manager, migrate
from consortium.core.formatting import FILTERS, GLOBALS
from consortium.core.forms import error_summary
from consortium.core.navigation import navigation
from consortium.core.services import ValueRefused
from consortium.dashboards import glance
from consortium.dashboards import views as dashboard_views
from consortium.recharges import cli as recharges_cli
from consortium.recharges import views as recharges_views
from consortium.sufficiency import cli as sufficiency_cli
from consortium.sufficiency import snapshots
from consortium.sufficiency import views as sufficiency_views
from contracts import summaries


def create_app(config: type[settings.Config] | dict | None = None) -> Flask:
    """Build the app. `config` is a Config class, or a dict of settings over the environment's."""
    app = Flask("consortium", instance_path=str(settings.INSTANCE_PATH))
    app.url_map.converters["int"] = IdConverter  # before any route is added
    configure(app, config)
    register_proxies(app)
    register_logging(app)
    register_extensions(app)
    register_session_hooks()
    register_templates(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def configure(app: Flask, config) -> None:
    if isinstance(config, type):
        app.config.from_object(config)
    else:
        app.config.from_object(settings.config_for())
        app.config.update(config or {})
    if app.config["APP_ENV"] == "production":
        if app.config.get("SECRET_KEY") in (None, "", settings.DEVELOPMENT_SECRET_KEY):
            raise RuntimeError("Production needs its own SECRET_KEY: set it in the environment")
        if app.debug:
            raise RuntimeError("Production must not run with debug on")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        settings.INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
        # A file shared by the web app and the scheduler: wait for the other's write, not fail.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # PostgreSQL's JIT compiles any plan it guesses costly, which takes far longer than these
        # short queries then run: no JIT. And its default cost of a random read is a spinning
        # disk's: on SSD it scans whole tables in parallel where reading a consortium's rows by
        # index is quicker (the figures are in docs/performance.md).
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"options": "-c jit=off -c random_page_cost=1.1", **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def register_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address and scheme from theirs."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def register_logging(app: Flask) -> None:
    dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
            "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
            "root": {"level": app.config["LOG_LEVEL"], "handlers": ["stderr"]},
        }
    )
    app.logger.setLevel(logging.getLevelName(app.config["LOG_LEVEL"]))


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db)
    login_manager.init_app(app)
    csrf.init_app(app)
    WTFormsHelpers(app)
    security.init_app(app)
    messages.init_app(app)


# Every hook on the session, in the order they run at each flush (see docs/architecture.md).
SESSION_HOOKS = (
    ("before_flush", core_services.refuse_unstorable_text),
    ("before_flush", audits.models.number_new_flags),
    ("before_flush", summaries.remember_before_flush),
    ("after_flush", audit.capture_changes),
    ("after_flush", summaries.refresh_after_flush),
)


def register_session_hooks() -> None:
    """On the Session class, so that every session (requests, commands, jobs, tests) keeps the
    guards, the audit trail and the derived figures; once, however many apps are built."""
    for name, hook in SESSION_HOOKS:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


def register_templates(app: Flask) -> None:
    # The GOV.UK macros refer to each other as "govuk_frontend_jinja/..." and "govuk_frontend_wtf/...".
    app.jinja_loader = ChoiceLoader(
        [
            app.jinja_loader,
            PrefixLoader({name: PackageLoader(name) for name in ("govuk_frontend_jinja", "govuk_frontend_wtf")}),
        ]
    )
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(GLOBALS, panels=panels.render, navigation=navigation, error_summary=error_summary)
    app.jinja_env.globals["service_name"] = "Manage placement contracts"
    app.jinja_env.globals["govukRebrand"] = False  # the GOV.UK brand is not ours to use


def register_blueprints(app: Flask) -> None:
    app.before_request(refuse_undeclared_routes)
    app.before_request(refuse_unsafe_arguments)
    app.register_blueprint(auth.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(providers.views.bp)
    app.register_blueprint(contracts.views.bp)
    app.register_blueprint(contracts.returns_views.bp)
    app.register_blueprint(contracts.cofunding_views.bp)
    app.register_blueprint(contracts.referrals.views.bp)
    app.register_blueprint(audits.views.bp)
    app.register_blueprint(recharges_views.bp)
    app.register_blueprint(dashboard_views.bp)
    app.register_blueprint(sufficiency_views.bp)
    providers.views.register_panels(app)
    contracts.views.register_panels(app)
    contracts.returns_views.register_panels(app)
    audits.views.register_panels(app)
    panels.add(app, "home_glance", glance.at_a_glance)
    hooks.add(app, "after_checks", snapshots.run_nightly)
    answer_works_with(app, contracts.services.works_with)
    consortium.api.register(app)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(StaleDataError, render_conflict)
    app.register_error_handler(ValueRefused, render_refused)
    app.register_error_handler(Exception, render_unexpected)


def register_commands(app: Flask) -> None:
    cli.import_group.add_command(providers.cli.import_ofsted)
    cli.import_group.add_command(providers.cli.import_postcodes)
    cli.import_group.add_command(contracts.cli.import_contracts)
    cli.import_group.add_command(contracts.cli.import_placements)
    cli.import_group.add_command(contracts.cli.import_outcomes)
    cli.import_group.add_command(contracts.cli.import_returns)
    cli.import_group.add_command(contracts.cli.import_pds)
    cli.import_group.add_command(contracts.cli.import_contributions)
    cli.export_group.add_command(contracts.cli.export_pds)
    cli.export_group.add_command(contracts.cli.export_ocds)
    cli.export_group.add_command(contracts.cli.export_transparency)
    app.cli.add_command(cli.import_group)
    app.cli.add_command(cli.export_group)
    app.cli.add_command(contracts.cli.summaries_group)
    app.cli.add_command(contracts.cli.cofunding_group)
    app.cli.add_command(cli.users_group)
    app.cli.add_command(cli.api_group)
    app.cli.add_command(providers.cli.providers_group)
    app.cli.add_command(demo.demo_group)
    app.cli.add_command(audits.cli.audits_group)
    app.cli.add_command(audits.cli.scheduler_group)
    app.cli.add_command(recharges_cli.recharges_group)
    app.cli.add_command(sufficiency_cli.sufficiency_group)
    app.cli.add_command(backup.backup_group)
