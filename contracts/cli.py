"""`flask import contracts FILE` and `flask import placements FILE`."""

import click
from flask.cli import with_appcontext

from consortium.cli import FILE, run_import
from contracts import imports


@click.command("contracts")
@FILE
@with_appcontext
def import_contracts(path):
    """Frameworks and block contracts: ref,kind,title,consortium_ref,owner_code,start_date,end_date,max_end_date,beds,bed_week_price,home_urns."""
    run_import("contracts", path, imports.CONTRACT_COLUMNS, imports.import_contracts)


@click.command("placements")
@FILE
@with_appcontext
def import_placements(path):
    """Placements: authority_code,child_ref,contract_ref,home_urn,start_date,end_date,weekly_fee,placement_type,distance_miles[,age_at_start]."""
    run_import("placements", path, imports.PLACEMENT_COLUMNS, imports.import_placements)
