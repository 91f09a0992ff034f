"""`flask import ofsted FILE`, `flask import postcodes FILE` and `flask providers merge`."""

import sys

import click
from flask.cli import AppGroup, with_appcontext

from consortium.core import audit
from consortium.core.cli import FILE, run_import
from consortium.core.extensions import db
from consortium.core.services import RuleBroken
from providers import geo, merge, ofsted

providers_group = AppGroup("providers", help="Providers: renames found after an import.")


@click.command("ofsted")
@FILE
@with_appcontext
def import_ofsted(path):
    """Ofsted's children's social care MI (CSV or XLSX), as published. A home whose owner's name
    changed moves to that owner (a new owner); each such change is listed, with the command that
    makes it a rename instead."""
    changes = []

    def importer(table):
        plan = ofsted.plan(table)
        changes.extend(plan.owner_changes)
        return ofsted.apply(plan)

    run_import("ofsted", path, ofsted.COLUMNS, importer)
    for change in changes:
        click.echo(
            f"owner changed: {', '.join(change.homes)} from {change.was} to {change.now}, applied as a new owner; "
            f"if it is a rename: flask providers merge --keep {_quoted(change.now)} --alias {_quoted(change.was)}"
        )


@click.command("postcodes")
@FILE
@with_appcontext
def import_postcodes(path):
    """Postcode district centroids: postcode_district,latitude,longitude (ONS's, downloaded by
    the council). A home's distance is then from its postcode district, not its authority."""
    run_import("postcodes", path, geo.POSTCODE_COLUMNS, geo.import_postcodes)


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@providers_group.command("merge")
@click.option("--keep", required=True, help="The provider that stays (its name, or a former name).")
@click.option("--alias", "alias", required=True, help="The provider that becomes one of its former names.")
def merge_providers(keep, alias):
    """A rename decided after an import: the second provider's homes, admissions, contracts,
    returns and accounts move to the first, and its name becomes one of the first's former names."""
    audit.set_actor(None, "flask providers merge")
    try:
        kept, other = merge.by_name(keep), merge.by_name(alias)
        name = other.name
        moved = merge.merge(kept, other)
    except RuleBroken as broken:
        db.session.rollback()
        click.echo(str(broken), err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"{name} merged into {kept.name}: "
        + ", ".join(f"{count} {table.replace('_', ' ')}" for table, count in moved.items())
    )
