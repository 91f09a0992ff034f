"""`flask import ofsted FILE`."""

import click
from flask.cli import with_appcontext

from consortium.cli import FILE, run_import
from providers import ofsted


@click.command("ofsted")
@FILE
@with_appcontext
def import_ofsted(path):
    """Ofsted's children's social care MI (CSV or XLSX), as published."""
    run_import("ofsted", path, ofsted.COLUMNS, ofsted.import_file)
