"""`flask audits run`: run the checks and print every open flag as CSV; `flask scheduler`."""

import csv
import sys
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import selectinload

from audits import checks, jobs, scheduler
from audits.models import Flag, open_flags
from consortium.core import audit
from consortium.core.cli import date_option
from consortium.core.extensions import db

audits_group = AppGroup("audits", help="Checks that find what needs a person, and the flags they raise.")
scheduler_group = AppGroup("scheduler", help="The process that runs the daily jobs.")


@audits_group.command("run")
@click.option("--as-of", callback=date_option, help="The date to check as of (YYYY-MM-DD); default today.")
@click.option("--check", "kind", help="Run one check only, e.g. quality_drop.")
def run(as_of, kind):
    """Run the checks; print open flags as kind,subject,severity,opened_on,detail.

    All the checks for a date run once, however often this is called (as the scheduler's daily
    job); one check on its own (--check) always runs."""
    as_of = as_of or date.today()
    audit.set_actor(None, "flask audits run")
    if kind:
        try:
            kinds = checks.run(as_of, [kind])
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--check") from None
        db.session.commit()
    else:
        kinds = None
        run_ = jobs.run_checks(as_of)
        if run_ is None:
            click.echo(f"The checks for {as_of} have already run; showing the open flags.", err=True)
        elif run_.status == "failed":
            click.echo(f"Some checks failed: {run_.error}", err=True)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["kind", "subject", "severity", "opened_on", "detail"])
    for flag in db.session.scalars(open_flags(kinds).options(selectinload(Flag.uses))):
        # No viewer here: a quality drop names every contract and admission that uses the home.
        used = f"; used by {', '.join(str(use) for use in flag.uses)}" if flag.uses else ""
        writer.writerow([flag.kind, flag.subject, flag.severity, flag.opened_on.isoformat(), flag.detail + used])


@scheduler_group.command("run")
def run_scheduler():
    """Run the daily jobs at their times (Europe/London) until stopped. Start one or several:
    each job still runs once a day."""
    scheduler.serve(current_app._get_current_object())


@scheduler_group.command("once")
@click.argument("job", type=click.Choice(list(scheduler.JOBS)))
@click.option("--as-of", callback=date_option, help="The day to run it for; default today.")
@click.option("--lease-seconds", type=click.IntRange(1, 3600), default=jobs.LEASE_SECONDS, show_default=True)
def run_once(job, as_of, lease_seconds):
    """Run one job now, through the same once-per-day guard as the scheduler."""
    audit.set_actor(None, f"scheduler {job}")
    run_ = scheduler.JOBS[job](as_of or date.today(), lease_seconds)
    if run_ is None:
        click.echo(f"{job} for {as_of or date.today()} is already done or in hand elsewhere")
    else:
        click.echo(
            f"{job} for {run_.period}: {run_.status}, {run_.flags_opened} opened, {run_.flags_resolved} resolved"
            + (f" ({run_.error})" if run_.error else "")
        )
        if run_.status == "failed":
            sys.exit(1)
