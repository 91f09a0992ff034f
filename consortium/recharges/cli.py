"""`flask recharges preview`: what each member would pay, as CSV; writes nothing."""

import csv
import sys
from decimal import Decimal

import click
from flask.cli import AppGroup
from sqlalchemy import select

from consortium.core.cli import date_option
from consortium.core.extensions import db
from consortium.core.inputs import MAX_AMOUNT_PENCE
from consortium.core.models import Consortium
from consortium.core.services import RuleBroken
from consortium.core.tabular import parse_pence
from consortium.recharges import services
from consortium.recharges.apportion import BASES

recharges_group = AppGroup("recharges", help="Sharing the consortium's costs among its members.")


def _pence(_ctx, param, value):
    try:
        return parse_pence(value, "amount", MAX_AMOUNT_PENCE)
    except ValueError as error:
        raise click.BadParameter(str(error), param=param) from None


@recharges_group.command("preview")
@click.option("--consortium", "ref", required=True, help="The consortium's ref, e.g. EMRF.")
@click.option("--from", "first", required=True, callback=date_option, help="First day of the period.")
@click.option("--to", "last", required=True, callback=date_option, help="Last day of the period.")
@click.option("--amount", required=True, callback=_pence, help="The amount to share, in pounds.")
@click.option("--basis", required=True, type=click.Choice([b for b in BASES if b != "fixed"]))
@click.option("--base-percent", type=click.FloatRange(0, 100), default=0.0, help="The part shared equally, in percent.")
def preview(ref, first, last, amount, basis, base_percent):
    """Print authority_code,usage,share_percent,amount for each member and a total line."""
    consortium = db.session.scalar(select(Consortium).where(Consortium.ref == ref.upper()))
    if consortium is None:
        raise click.BadParameter(f"there is no consortium {ref!r}", param_hint="--consortium")
    try:
        result = services.preview(consortium, first, last, amount, basis, Decimal(str(base_percent)))
    except RuleBroken as broken:
        click.echo(f"Error: {broken}", err=True)
        sys.exit(1)
    for note in result.notes:
        click.echo(note, err=True)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["authority_code", "usage", "share_percent", "amount"])
    for share in result.shares:
        writer.writerow([share.code, share.usage, f"{result.percent(share):.2f}", f"{Decimal(share.amount) / 100:.2f}"])
    writer.writerow(["total", result.total_usage, "100.00", f"{Decimal(amount) / 100:.2f}"])
