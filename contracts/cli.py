"""`flask import contracts|placements|outcomes|returns FILE`, and `flask summaries refresh`."""

import click
from flask.cli import AppGroup, with_appcontext

from consortium.core.cli import FILE, run_import
from consortium.core.extensions import db
from contracts import imports, summaries

summaries_group = AppGroup("summaries", help="Figures kept as rows: usage, block nights, return obligations.")


@click.command("contracts")
@FILE
@with_appcontext
def import_contracts(path):
    """Frameworks and block contracts:
    ref,kind,title,consortium_ref,owner_code,start_date,end_date,max_end_date,beds,bed_week_price,home_urns."""
    run_import("contracts", path, imports.CONTRACT_COLUMNS, imports.import_contracts)


@click.command("placements")
@FILE
@with_appcontext
def import_placements(path):
    """Placements:
    authority_code,child_ref,contract_ref,home_urn,start_date,end_date,weekly_fee,placement_type,distance_miles[,age_at_start]."""
    run_import("placements", path, imports.PLACEMENT_COLUMNS, imports.import_placements)


@click.command("outcomes")
@FILE
@with_appcontext
def import_outcomes(path):
    """A contract's outcomes framework: contract_ref,indicator_code,name,unit,higher_is_better,target,amber,red."""
    run_import("outcomes", path, imports.OUTCOME_COLUMNS, imports.import_outcomes)


@click.command("returns")
@FILE
@with_appcontext
def import_returns(path):
    """Historical returns, accepted on submitted_on: contract_ref,provider,period,indicator_code,value,submitted_on."""
    run_import("returns", path, imports.RETURN_COLUMNS, imports.import_returns)


@summaries_group.command("refresh")
def refresh_summaries():
    """Work out again from nothing every figure kept as rows, from the placements, fees, beds out
    of use, prices and contracts: after data was changed by SQL outside the service."""
    summaries.refresh_all()
    db.session.commit()
    click.echo("Usage, block nights and return obligations worked out again.")
