"""`flask import contracts|placements|outcomes|returns|pds|contributions FILE`, `flask export
pds|ocds|transparency`, `flask cofunding due` and `flask summaries refresh`."""

import csv
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from consortium.core import audit
from consortium.core.cli import FILE, date_option, run_import
from consortium.core.extensions import db
from consortium.core.models import Authority, Cofunder, Consortium
from consortium.core.tabular import ImportFailed, read_file
from contracts import cofunding, cofunding_imports, imports, ocds, pds, summaries, transparency
from contracts.models import Contract, Placement

summaries_group = AppGroup("summaries", help="Figures kept as rows: usage, block nights, return obligations.")


@click.command("contracts")
@FILE
@with_appcontext
def import_contracts(path):
    """Frameworks and block contracts:
    ref,kind,title,consortium_ref,owner_code,start_date,end_date,max_end_date,beds,bed_week_price,home_urns;
    optional bed_night_price instead of bed_week_price for a short-breaks block priced per bed-night."""
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


@click.command("pds")
@FILE
@click.option("--authority", "code", required=True, help="The authority whose placements the file holds.")
@with_appcontext
def import_pds(path, code):
    """The Placements Data Standard template's CSV into an authority's placements (DESIGN §4d)."""
    audit.set_actor(None, f"flask import pds {Path(path).name}")
    if db.session.get(Authority, code.upper()) is None:
        raise click.ClickException(f"There is no authority {code}")
    try:
        result = pds.import_pds(read_file(path, required=pds.COLUMNS), code)
    except ImportFailed as failed:
        db.session.rollback()
        click.echo(f"{Path(path).name}: nothing imported, {len(failed.errors)} problem(s):", err=True)
        for line in failed.lines():
            click.echo(f"  {line}", err=True)
        sys.exit(1)
    db.session.commit()
    for warning in result.details.pop("warnings"):
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"{Path(path).name}: {result.summary()}")


@click.command("pds")
@click.option("--authority", "code", help="An authority's own placements.")
@click.option("--consortium", "ref", help="The placements under a consortium's contracts.")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]))
@with_appcontext
def export_pds(code, ref, first, last):
    """Print the placements open in a period as the Placements Data Standard template's CSV."""
    if bool(code) == bool(ref):
        raise click.UsageError("Give one of --authority CODE or --consortium REF")
    if code:
        if db.session.get(Authority, code.upper()) is None:
            raise click.ClickException(f"There is no authority {code}")
        query = select(Placement).where(Placement.authority_code == code.upper())
    else:
        consortium = db.session.scalar(select(Consortium).where(Consortium.ref == ref))
        if consortium is None:
            raise click.ClickException(f"There is no consortium {ref}")
        contracts = select(Contract.id).where(Contract.consortium_id == consortium.id)
        query = select(Placement).where(Placement.contract_id.in_(contracts))
    first, last = first.date(), last.date()
    if last < first:
        raise click.UsageError("--to must be on or after --from")
    click.echo(pds.csv_text(pds.rows(pds.placements_of(query, first, last), last)), nl=False)


@click.command("ocds")
@click.option("--consortium", "ref", required=True)
@with_appcontext
def export_ocds(ref):
    """Print the consortium's frameworks and block contracts as an OCDS 1.1 release package (JSON)."""
    consortium = db.session.scalar(select(Consortium).where(Consortium.ref == ref))
    if consortium is None:
        raise click.ClickException(f"There is no consortium {ref}")
    click.echo(json.dumps(ocds.package(consortium, date.today()), indent=2, ensure_ascii=False))


@click.command("transparency")
@click.option("--consortium", "ref", required=True)
@click.option("--authority", "code", help="Only the contracts this member owns.")
@with_appcontext
def export_transparency(ref, code):
    """Print the Transparency Code contracts register (CSV) of the consortium's contracts over £5,000."""
    consortium = db.session.scalar(select(Consortium).where(Consortium.ref == ref))
    if consortium is None:
        raise click.ClickException(f"There is no consortium {ref}")
    contracts = transparency.contracts_of(consortium.id, code.upper() if code else None)
    click.echo(transparency.csv_text(transparency.rows(contracts)), nl=False)


@click.command("contributions")
@FILE
@with_appcontext
def import_contributions(path):
    """Co-funders' shares of placements: authority_code,child_ref,contract_ref,start_date (the
    placement), cofunder_ref, percent or weekly (pounds), from, until (optional)."""
    run_import("contributions", path, cofunding_imports.CONTRIBUTION_COLUMNS, cofunding_imports.import_contributions)


cofunding_group = AppGroup("cofunding", help="What co-funders owe towards placements.")


@cofunding_group.command("due")
@click.option("--cofunder", "ref", required=True, help="The co-funder's ref, e.g. NHS-DEVON-ICB.")
@click.option("--from", "first", required=True, callback=date_option, help="First night of the period.")
@click.option("--to", "last", required=True, callback=date_option, help="Last night of the period.")
def cofunding_due(ref, first, last):
    """Print cofunder_ref,authority_code,child_ref,nights,amount per placement and a total line:
    each quarter's exact sum rounded once, added up over the quarters; writes nothing."""
    cofunder = db.session.scalar(select(Cofunder).where(Cofunder.ref == ref.strip().upper()))
    if cofunder is None:
        raise click.BadParameter(f"there is no co-funder {ref!r}", param_hint="--cofunder")
    if last < first:
        raise click.BadParameter("the last night must be on or after the first", param_hint="--to")
    lines, total = cofunding.due_for(cofunder, first, last)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["cofunder_ref", "authority_code", "child_ref", "nights", "amount"])
    for line in lines:
        writer.writerow([cofunder.ref, line.authority_code, line.child_ref, line.nights, pounds(line.amount_pence)])
    writer.writerow(["total", "", "", "", pounds(total)])


def pounds(pence: int) -> str:
    return f"{Decimal(pence) / 100:.2f}"
