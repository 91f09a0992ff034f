"""Command-line commands of the core: `flask import authorities|consortia`, `flask users create`,
`flask api token create`.

Domain packages add their own importers to the same `import` group with `run_import`.
"""

import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from consortium.core import audit, services, tokens
from consortium.core.extensions import db
from consortium.core.models import ROLES, User
from consortium.core.tabular import ImportFailed, ImportResult, Table, parse_date, read_file

import_group = AppGroup("import", help="Load CSV or XLSX files: all rows or none, the same file twice changes nothing.")
users_group = AppGroup("users", help="Manage user accounts.")
export_group = AppGroup("export", help="Data in the formats others read, printed to standard output.")


def date_option(_ctx, param, value):
    """A click callback: a command's date option (YYYY-MM-DD or as the imports read dates), None if not given."""
    try:
        return parse_date(value) if value else None
    except ValueError as error:
        raise click.BadParameter(str(error), param=param) from None


def run_import(what: str, path: str, columns: dict, importer: Callable[[Table], ImportResult]) -> None:
    """Read, import and commit one file; on any bad row print every reason and exit 1."""
    audit.set_actor(None, f"flask import {what} {Path(path).name}")
    try:
        table = read_file(path, **columns)
        result = importer(table)
    except ImportFailed as failed:
        db.session.rollback()
        click.echo(f"{Path(path).name}: nothing imported, {len(failed.errors)} problem(s):", err=True)
        for line in failed.lines():
            click.echo(f"  {line}", err=True)
        sys.exit(1)
    db.session.commit()
    extra = "".join(f", {value} {key.replace('_', ' ')}" for key, value in result.details.items())
    click.echo(f"{table.name}: {result.summary()}{extra}")


FILE = click.argument("path", type=click.Path(exists=True, dir_okay=False))


@import_group.command("authorities")
@FILE
def import_authorities(path):
    """Authorities: code,name,region,latitude,longitude."""
    run_import("authorities", path, services.AUTHORITY_COLUMNS, services.import_authorities)


@import_group.command("consortia")
@FILE
def import_consortia(path):
    """Consortia: ref,name,lead_code,member_codes (separated by ;), joined (optional)."""
    run_import("consortia", path, services.CONSORTIUM_COLUMNS, services.import_consortia)


@import_group.command("cofunders")
@FILE
def import_cofunders(path):
    """Co-funders: ref,name,kind (kind health, education or other)."""
    run_import("cofunders", path, services.COFUNDER_COLUMNS, services.import_cofunders)


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option(
    "--org",
    default="",
    help="A consortium ref (lead), an authority code (partner), a provider name (provider) or a co-funder ref.",
)
@click.option("--name", default="", help="The person's full name.")
def create_user(email, role, org, name):
    """Create an account; the password is read from standard input."""
    audit.set_actor(None, "flask users create")
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = services.create_user(email, role, password, services.organisation_for(role, org), name)
    except services.RuleBroken as broken:
        db.session.rollback()
        click.echo(f"Error: {broken}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Created {user.role} account {user.email} ({user.organisation_name})")


api_group = AppGroup("api", help="The JSON API.")
token_group = AppGroup("token", help="API tokens.")
api_group.add_command(token_group)


@token_group.command("create")
@click.option("--email", required=True, help="The account the token acts as.")
@click.option("--name", required=True, help="What the token is for, like the system that will use it.")
@click.option("--scope", required=True, type=click.Choice(["read", "write"]), help="write can read too.")
@click.option("--days", default=tokens.DEFAULT_DAYS, show_default=True, type=int, help="How long it lasts.")
def create_token(email, name, scope, days):
    """Make an API token for a script; it is printed once, as the last word of the last line."""
    audit.set_actor(None, "flask api token create")
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    try:
        if user is None:
            raise services.RuleBroken(f"There is no account for {email}")
        token, secret = tokens.create(user, name, scope, days)
    except services.RuleBroken as broken:
        db.session.rollback()
        click.echo(f"Error: {broken}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"Token “{token.name}” for {user.email} ({token.scope_name.lower()}), until {token.expires_at:%d %B %Y}."
    )
    click.echo(f"Keep it safe: it is not shown again. Token: {secret}")
