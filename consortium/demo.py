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

from audits import checks
from consortium import audit, services
from consortium.extensions import db
from consortium.models import Authority, Consortium, User
from consortium.tabular import read_table
from providers import ofsted
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

    seed_homes(today)
    provider = db.session.scalar(select(Provider).where(Provider.name == PROVIDER_NAME))
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


# Fictional homes across the region: (urn, name, provider, local authority, places, judgements
# oldest first as (months ago, judgement), registered months ago).
HOMES = [
    ("SC910001", "Willow House", PROVIDER_NAME, "Nottingham", 4, [(40, "Good"), (28, "Good"), (16, "Good"), (1, "Requires improvement to be good")]),
    ("SC910002", "Birchfield Lodge", PROVIDER_NAME, "Nottinghamshire", 3, [(38, "Outstanding"), (26, "Outstanding"), (13, "Good")]),
    ("SC910003", "The Hollies", PROVIDER_NAME, "Derby", 5, [(30, "Requires improvement to be good"), (18, "Good"), (6, "Good")]),
    ("SC910004", "Cedar Court", PROVIDER_NAME, "Derbyshire", 2, []),
    ("SC910005", "Larkspur Cottage", "Brookside Care Homes Ltd", "Leicester", 4, [(44, "Good"), (32, "Good"), (20, "Good"), (8, "Inadequate")]),
    ("SC910006", "Foxglove House", "Brookside Care Homes Ltd", "Leicestershire", 3, [(36, "Good"), (24, "Good"), (12, "Outstanding")]),
    ("SC910007", "Maple View", "Brookside Care Homes Ltd", "Leicestershire", 4, [(33, "Adequate"), (21, "Requires improvement to be good"), (9, "Good")]),
    ("SC910008", "Rowan Lodge", "Brookside Care Homes Ltd", "Rutland", 2, [(27, "Good"), (15, "Good"), (4, "Sustained effectiveness")]),
    ("SC910009", "Hawthorn House", "Meadowbank Young People's Services", "Lincolnshire", 4, [(42, "Good"), (30, "Outstanding"), (18, "Outstanding"), (6, "Outstanding")]),
    ("SC910010", "Kingfisher Lodge", "Meadowbank Young People's Services", "Lincolnshire", 3, [(35, "Requires improvement to be good"), (23, "Good"), (11, "Good")]),
    ("SC910011", "Heron Cottage", "Meadowbank Young People's Services", "North Northamptonshire", 2, [(29, "Good"), (17, "Good"), (5, "Good")]),
    ("SC910012", "Ashdown House", "Meadowbank Young People's Services", "West Northamptonshire", 5, [(37, "Good"), (25, "Requires improvement to be good"), (13, "Good")]),
    ("SC910013", "Elm Tree House", "Riverside Therapeutic Care Ltd", "Derby", 3, [(41, "Outstanding"), (29, "Good"), (17, "Good"), (5, "Good")]),
    ("SC910014", "Beacon View", "Riverside Therapeutic Care Ltd", "Derbyshire", 4, [(34, "Good"), (22, "Good"), (10, "Good")]),
    ("SC910015", "Meadow Lodge", "Riverside Therapeutic Care Ltd", "Nottinghamshire", 2, [(26, "Good"), (14, "Requires improvement to be good"), (3, "Improved effectiveness")]),
    ("SC910016", "Orchard House", "Riverside Therapeutic Care Ltd", "Nottingham", 4, [(31, "Good"), (19, "Good"), (7, "Good")]),
    ("SC910017", "Castle View", "Castle Gate Homes CIC", "Nottingham", 3, [(39, "Good"), (27, "Outstanding"), (15, "Outstanding"), (3, "Good")]),
    ("SC910018", "Trent House", "Castle Gate Homes CIC", "Nottinghamshire", 4, [(28, "Good"), (16, "Good"), (4, "Good")]),
    ("SC910019", "Soar Lodge", "Castle Gate Homes CIC", "Leicester", 2, [(25, "Requires improvement to be good"), (13, "Requires improvement to be good"), (2, "Good")]),
    ("SC910020", "Welland Cottage", "Castle Gate Homes CIC", "Rutland", 3, [(32, "Good"), (20, "Good"), (8, "Declined in effectiveness")]),
]
INTERIM = {"Improved effectiveness", "Sustained effectiveness", "Declined in effectiveness"}


def months_ago(today: date, months: int) -> date:
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(year, month + 1, min(today.day, 28))


def seed_homes(today: date) -> None:
    """The homes' Ofsted histories, loaded through the Ofsted import like a real file."""
    rows = []
    for urn, name, provider, area, places, history in HOMES:
        registered = months_ago(today, (history[0][0] + 6) if history else 3)
        common = [urn, "Children's home", name, provider, area, places, "Active", registered.isoformat()]
        if not history:
            rows.append([*common, "", "", "Not yet inspected"])
        for months, judgement in history:
            kind = "Interim inspection" if judgement in INTERIM else "Full inspection"
            rows.append([*common, kind, months_ago(today, months).strftime("%d/%m/%Y"), judgement])
    header = ["URN", "Provision type", "Setting name", "Organisation which owns the provider", "Local authority", "Places",
              "Registration status", "Registration date", "Inspection event type", "Inspection date",
              "Overall experiences and progress of children and young people"]
    ofsted.import_file(read_table(_csv(header, rows), "demo Ofsted file", **ofsted.COLUMNS))


@demo_group.command("seed")
@click.option("--scale", type=click.Choice(["small"]), default="small", show_default=True)
def seed(scale):
    """Build the demo consortium (safe to run again)."""
    audit.set_actor(None, "flask demo seed")
    today = date.today()
    accounts = seed_core(today)
    checks.run(today)
    db.session.commit()
    click.echo("Demo ready. Sign in at http://127.0.0.1:5000/sign-in with any of these accounts")
    click.echo(f"(password for all: {DEMO_PASSWORD}):")
    for email, description in accounts.items():
        click.echo(f"  {email:<22} {description}")
