"""`flask sufficiency forecast`: the placements a scope will have open at each of the next 24
month-ends, beside the block beds contracted, as CSV (DESIGN §4b and §5); writes nothing."""

import csv
import sys
from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import select

from consortium.core.cli import date_option
from consortium.core.extensions import db
from consortium.core.models import Authority, Consortium
from consortium.sufficiency import forecast as fc
from contracts.models import PLACEMENT_TYPES

sufficiency_group = AppGroup("sufficiency", help="The sufficiency duty: demand, the forecast and the block beds.")


@sufficiency_group.command("forecast")
@click.option("--authority", "code", help="An authority's ONS code, e.g. E06000018.")
@click.option("--consortium", "ref", help="A consortium's ref, e.g. EMRF: its member authorities.")
@click.option("--type", "placement_type", required=True, type=click.Choice(list(PLACEMENT_TYPES)))
@click.option("--as-of", callback=date_option, help="The day to forecast from (YYYY-MM-DD); default today.")
def forecast(code, ref, placement_type, as_of):
    """Print month_end,forecast,block_beds for the 24 month-ends after the day."""
    if bool(code) == bool(ref):
        raise click.UsageError("Give either --authority or --consortium")
    as_of = as_of or date.today()
    if code:
        authority = db.session.get(Authority, code.strip().upper())
        if authority is None:
            raise click.BadParameter(f"there is no authority {code!r}", param_hint="--authority")
        scope = fc.authority_scope(authority)
    else:
        consortium = db.session.scalar(select(Consortium).where(Consortium.ref == ref.strip().upper()))
        if consortium is None:
            raise click.BadParameter(f"there is no consortium {ref!r}", param_hint="--consortium")
        scope = fc.consortium_scope(consortium, as_of)
    made = fc.forecast(scope, placement_type, as_of)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["month_end", "forecast", "block_beds"])
    for point in made.points:
        writer.writerow([point.month_end.isoformat(), f"{point.forecast}", point.block_beds])
