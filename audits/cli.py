"""`flask audits run`: run the checks once and print every open flag as CSV."""

import csv
import sys
from datetime import date

import click
from flask.cli import AppGroup

from audits import checks
from audits.models import open_flags
from consortium import audit
from consortium.extensions import db
from consortium.tabular import parse_date

audits_group = AppGroup("audits", help="Checks that find what needs a person, and the flags they raise.")


def _date(_ctx, _param, value):
    try:
        return parse_date(value) if value else None
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@audits_group.command("run")
@click.option("--as-of", callback=_date, help="The date to check as of (YYYY-MM-DD); default today.")
@click.option("--check", "kind", help="Run one check only, e.g. quality_drop.")
def run(as_of, kind):
    """Run the checks; print open flags as kind,subject,severity,opened_on,detail."""
    audit.set_actor(None, "flask audits run")
    try:
        kinds = checks.run(as_of or date.today(), [kind] if kind else None)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--check") from None
    db.session.commit()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["kind", "subject", "severity", "opened_on", "detail"])
    for flag in db.session.scalars(open_flags(kinds)):
        writer.writerow([flag.kind, flag.subject, flag.severity, flag.opened_on.isoformat(), flag.detail])
