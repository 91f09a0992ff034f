"""`flask demo seed`: a believable East Midlands consortium to look around in.

Dates are relative to today so the demo is current whenever it runs; running it again adds
nothing new. Providers and homes are fictional; the authorities and their codes are real.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from consortium import audit, services
from consortium.extensions import db
from consortium.models import Authority, Consortium, User
from consortium.tabular import read_table
from providers.models import Provider

demo_group = AppGroup("demo", help="Demonstration data.")

DEMO_PASSWORD = "demo-password"
CONSORTIUM_REF = "EMRF"
PROVIDER_NAME = "Oakleaf Children's Services Ltd"

# The ten authorities of the East Midlands consortium, with their ONS codes and a central point.
EAST_MIDLANDS = [
    ("E06000015", "Derby", 52.922500, -1.474600),
    ("E10000007", "Derbyshire", 53.138000, -1.555700),
    ("E06000016", "Leicester", 52.636900, -1.139800),
    ("E10000018", "Leicestershire", 52.648600, -1.202900),
    ("E10000019", "Lincolnshire", 53.230700, -0.540600),
    ("E06000061", "North Northamptonshire", 52.399000, -0.726000),
    ("E06000062", "West Northamptonshire", 52.240500, -0.902700),
    ("E06000018", "Nottingham", 52.954800, -1.158100),
    ("E10000024", "Nottinghamshire", 52.930000, -1.127000),
    ("E06000017", "Rutland", 52.670000, -0.728000),
]
LEAD_CODE = "E06000062"  # West Northamptonshire
PARTNER_CODE = "E06000018"  # Nottingham


def financial_year_start(today: date) -> date:
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def seed_core(today: date) -> dict[str, str]:
    """Authorities, the consortium and the four demo accounts; returns e-mail -> description."""
    authorities = read_table(
        _csv(["code", "name", "region", "latitude", "longitude"], [[c, n, "East Midlands", la, lo] for c, n, la, lo in EAST_MIDLANDS]),
        "demo authorities",
        **services.AUTHORITY_COLUMNS,
    )
    services.import_authorities(authorities)
    # The framework is in its third year: the members joined at the start of it.
    joined = date(financial_year_start(today).year - 2, 4, 1)
    consortia = read_table(
        _csv(
            ["ref", "name", "lead_code", "member_codes", "joined"],
            [[CONSORTIUM_REF, "East Midlands Regional Framework consortium", LEAD_CODE, ";".join(c for c, *_ in EAST_MIDLANDS), joined.isoformat()]],
        ),
        "demo consortia",
        **services.CONSORTIUM_COLUMNS,
    )
    services.import_consortia(consortia, today=today)

    provider = db.session.scalar(select(Provider).where(Provider.name == PROVIDER_NAME))
    if provider is None:
        provider = Provider(name=PROVIDER_NAME)
        db.session.add(provider)
        db.session.flush()
    accounts = [
        ("admin@demo.test", "admin", None, "Alex Admin"),
        ("lead@demo.test", "lead", db.session.scalar(select(Consortium).where(Consortium.ref == CONSORTIUM_REF)), "Lee Lead"),
        ("partner@demo.test", "partner", db.session.get(Authority, PARTNER_CODE), "Pat Partner"),
        ("provider@demo.test", "provider", provider, "Priya Provider"),
    ]
    for email, role, organisation, name in accounts:
        if db.session.scalar(select(func.count()).where(User.email == email)) == 0:
            services.create_user(email, role, DEMO_PASSWORD, organisation, name)
    return {email: f"{role} ({organisation.name if organisation else 'system administration'})" for email, role, organisation, _ in accounts}


@demo_group.command("seed")
@click.option("--scale", type=click.Choice(["small"]), default="small", show_default=True)
def seed(scale):
    """Build the demo consortium (safe to run again)."""
    audit.set_actor(None, "flask demo seed")
    accounts = seed_core(date.today())
    db.session.commit()
    click.echo("Demo ready. Sign in at http://127.0.0.1:5000/sign-in with any of these accounts")
    click.echo(f"(password for all: {DEMO_PASSWORD}):")
    for email, description in accounts.items():
        click.echo(f"  {email:<22} {description}")
