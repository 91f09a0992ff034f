"""`flask demo seed`: a believable East Midlands consortium to look around in.

Dates are relative to today so the demo is current whenever it runs; running it again adds
nothing new. Providers and homes are fictional; the authorities and their codes are real.
"""

from __future__ import annotations

import csv
import io
import random
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from audits import jobs
from audits import services as flag_services
from audits.models import Flag
from consortium import national
from consortium.core import audit, services, tokens
from consortium.core.dates import financial_year_start
from consortium.core.extensions import db
from consortium.core.models import Authority, Cofunder, Consortium, User
from consortium.core.sql import quarter_of
from consortium.core.tabular import read_table
from consortium.dashboards.models import Budget
from consortium.recharges import contributions as cofunder_statements
from consortium.recharges import services as recharges
from contracts import cofunding, imports, returns
from contracts import services as contract_services
from contracts.models import Contract, Placement
from contracts.referrals import services as referral_services
from contracts.referrals import vacancies
from providers import geo, ofsted
from providers.models import Home, Provider

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


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def seed_core(today: date) -> dict[str, str]:
    """Authorities, the consortium, the co-funders and the demo accounts; returns e-mail -> description."""
    authorities = read_table(
        _csv(
            ["code", "name", "region", "latitude", "longitude"],
            [[c, n, "East Midlands", la, lo] for c, n, la, lo in EAST_MIDLANDS],
        ),
        "demo authorities",
        **services.AUTHORITY_COLUMNS,
    )
    services.import_authorities(authorities)
    # The framework is in its third year: the members joined at the start of it.
    joined = date(financial_year_start(today).year - 2, 4, 1)
    consortia = read_table(
        _csv(
            ["ref", "name", "lead_code", "member_codes", "joined"],
            [
                [
                    CONSORTIUM_REF,
                    "East Midlands Regional Framework consortium",
                    LEAD_CODE,
                    ";".join(c for c, *_ in EAST_MIDLANDS),
                    joined.isoformat(),
                ]
            ],
        ),
        "demo consortia",
        **services.CONSORTIUM_COLUMNS,
    )
    services.import_consortia(consortia, today=today)

    seed_homes(today)
    services.import_cofunders(
        read_table(_csv(["ref", "name", "kind"], COFUNDERS), "demo co-funders", **services.COFUNDER_COLUMNS)
    )
    provider = db.session.scalar(select(Provider).where(Provider.name == PROVIDER_NAME))
    accounts = [
        ("admin@demo.test", "admin", None, "Alex Admin"),
        (
            "lead@demo.test",
            "lead",
            db.session.scalar(select(Consortium).where(Consortium.ref == CONSORTIUM_REF)),
            "Lee Lead",
        ),
        ("partner@demo.test", "partner", db.session.get(Authority, PARTNER_CODE), "Pat Partner"),
        ("provider@demo.test", "provider", provider, "Priya Provider"),
        (
            "cofunder@demo.test",
            "cofunder",
            db.session.scalar(select(Cofunder).where(Cofunder.ref == ICB_REF)),
            "Chris Cofunder",
        ),
    ]
    for email, role, organisation, name in accounts:
        if db.session.scalar(select(func.count()).where(User.email == email)) == 0:
            services.create_user(email, role, DEMO_PASSWORD, organisation, name)
    return {
        email: f"{role} ({organisation.name if organisation else 'system administration'})"
        for email, role, organisation, _ in accounts
    }


# Fictional homes across the region: (urn, name, provider, local authority, places, judgements
# oldest first as (months ago, judgement), registered months ago).
HOMES = [
    (
        "SC910001",
        "Willow House",
        PROVIDER_NAME,
        "Nottingham",
        4,
        [(40, "Good"), (28, "Good"), (16, "Good"), (1, "Requires improvement to be good")],
    ),
    (
        "SC910002",
        "Birchfield Lodge",
        PROVIDER_NAME,
        "Nottinghamshire",
        3,
        [(38, "Outstanding"), (26, "Outstanding"), (13, "Good")],
    ),
    (
        "SC910003",
        "The Hollies",
        PROVIDER_NAME,
        "Derby",
        5,
        [(30, "Requires improvement to be good"), (18, "Good"), (6, "Good")],
    ),
    ("SC910004", "Cedar Court", PROVIDER_NAME, "Derbyshire", 2, []),
    (
        "SC910005",
        "Larkspur Cottage",
        "Brookside Care Homes Ltd",
        "Leicester",
        4,
        [(44, "Good"), (32, "Good"), (20, "Good"), (8, "Inadequate")],
    ),
    (
        "SC910006",
        "Foxglove House",
        "Brookside Care Homes Ltd",
        "Leicestershire",
        3,
        [(36, "Good"), (24, "Good"), (12, "Outstanding")],
    ),
    (
        "SC910007",
        "Maple View",
        "Brookside Care Homes Ltd",
        "Leicestershire",
        4,
        [(33, "Adequate"), (21, "Requires improvement to be good"), (9, "Good")],
    ),
    (
        "SC910008",
        "Rowan Lodge",
        "Brookside Care Homes Ltd",
        "Rutland",
        2,
        [(27, "Good"), (15, "Good"), (4, "Sustained effectiveness")],
    ),
    (
        "SC910009",
        "Hawthorn House",
        "Meadowbank Young People's Services",
        "Lincolnshire",
        4,
        [(42, "Good"), (30, "Outstanding"), (18, "Outstanding"), (6, "Outstanding")],
    ),
    (
        "SC910010",
        "Kingfisher Lodge",
        "Meadowbank Young People's Services",
        "Lincolnshire",
        3,
        [(35, "Requires improvement to be good"), (23, "Good"), (11, "Good")],
    ),
    (
        "SC910011",
        "Heron Cottage",
        "Meadowbank Young People's Services",
        "North Northamptonshire",
        2,
        [(29, "Good"), (17, "Good"), (5, "Good")],
    ),
    (
        "SC910012",
        "Ashdown House",
        "Meadowbank Young People's Services",
        "West Northamptonshire",
        5,
        [(37, "Good"), (25, "Requires improvement to be good"), (13, "Good")],
    ),
    (
        "SC910013",
        "Elm Tree House",
        "Riverside Therapeutic Care Ltd",
        "Derby",
        3,
        [(41, "Outstanding"), (29, "Good"), (17, "Good"), (5, "Good")],
    ),
    (
        "SC910014",
        "Beacon View",
        "Riverside Therapeutic Care Ltd",
        "Derbyshire",
        4,
        [(34, "Good"), (22, "Good"), (10, "Good")],
    ),
    (
        "SC910015",
        "Meadow Lodge",
        "Riverside Therapeutic Care Ltd",
        "Nottinghamshire",
        2,
        [(26, "Good"), (14, "Requires improvement to be good"), (3, "Improved effectiveness")],
    ),
    (
        "SC910016",
        "Orchard House",
        "Riverside Therapeutic Care Ltd",
        "Nottingham",
        4,
        [(31, "Good"), (19, "Good"), (7, "Good")],
    ),
    (
        "SC910017",
        "Castle View",
        "Castle Gate Homes CIC",
        "Nottingham",
        3,
        [(39, "Good"), (27, "Outstanding"), (15, "Outstanding"), (3, "Good")],
    ),
    (
        "SC910018",
        "Trent House",
        "Castle Gate Homes CIC",
        "Nottinghamshire",
        4,
        [(28, "Good"), (16, "Good"), (4, "Good")],
    ),
    (
        "SC910019",
        "Soar Lodge",
        "Castle Gate Homes CIC",
        "Leicester",
        2,
        [(25, "Requires improvement to be good"), (13, "Requires improvement to be good"), (2, "Good")],
    ),
    (
        "SC910020",
        "Welland Cottage",
        "Castle Gate Homes CIC",
        "Rutland",
        3,
        [(32, "Good"), (20, "Good"), (8, "Declined in effectiveness")],
    ),
    (
        "SC910021",
        "Greenway House",
        "Sherwood Young People's Homes Ltd",
        "Nottinghamshire",
        4,
        [(30, "Good"), (18, "Good"), (6, "Good")],
    ),
    (
        "SC910022",
        "Forest Lodge",
        "Sherwood Young People's Homes Ltd",
        "Nottinghamshire",
        3,
        [(28, "Outstanding"), (16, "Good"), (4, "Good")],
    ),
    ("SC910023", "Peak View", "High Peak Care Partnership", "Derbyshire", 4, [(33, "Good"), (21, "Good"), (9, "Good")]),
    (
        "SC910024",
        "Dovedale House",
        "High Peak Care Partnership",
        "Derbyshire",
        3,
        [(27, "Requires improvement to be good"), (15, "Good"), (3, "Good")],
    ),
    (
        "SC910025",
        "Fosse House",
        "Fosse Way Children's Services Ltd",
        "Leicestershire",
        4,
        [(35, "Good"), (23, "Good"), (11, "Good")],
    ),
    (
        "SC910026",
        "Charnwood Lodge",
        "Fosse Way Children's Services Ltd",
        "Leicester",
        2,
        [(26, "Good"), (14, "Outstanding"), (2, "Outstanding")],
    ),
    (
        "SC910027",
        "Nene Cottage",
        "Nene Valley Homes CIC",
        "North Northamptonshire",
        3,
        [(31, "Good"), (19, "Good"), (7, "Good")],
    ),
    (
        "SC910028",
        "Althorp House",
        "Nene Valley Homes CIC",
        "West Northamptonshire",
        4,
        [(29, "Good"), (17, "Requires improvement to be good"), (5, "Good")],
    ),
    (
        "SC910029",
        "Witham Lodge",
        "Lincoln Green Care Ltd",
        "Lincolnshire",
        3,
        [(34, "Good"), (22, "Good"), (10, "Good")],
    ),
    ("SC910030", "Wolds View", "Lincoln Green Care Ltd", "Lincolnshire", 4, [(25, "Good"), (13, "Good"), (1, "Good")]),
]
# Supported accommodation for young people of 16 and over (URNs of seven digits).
SUPPORTED = [
    ("2910031", "Lace Market Flats", "Castle Gate Homes CIC", "Nottingham", 8),
    ("2910032", "Derwent Steps", "Riverside Therapeutic Care Ltd", "Derby", 6),
]
INTERIM = {"Improved effectiveness", "Sustained effectiveness", "Declined in effectiveness"}


def months_ago(today: date, months: int) -> date:
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(year, month + 1, min(today.day, 28))


# Each area's postcode district, as the outward code alone: where a home is, never its address.
DISTRICTS = {
    "Derby": "DE22",
    "Derbyshire": "DE56",
    "Leicester": "LE4",
    "Leicestershire": "LE67",
    "Lincolnshire": "LN6",
    "North Northamptonshire": "NN15",
    "Nottingham": "NG5",
    "Nottinghamshire": "NG17",
    "Rutland": "LE15",
    "West Northamptonshire": "NN4",
}


def seed_homes(today: date) -> None:
    """The homes' Ofsted histories, loaded through the Ofsted import like a real file."""
    rows = []
    for urn, name, provider, area, places in SUPPORTED:
        rows.append(
            [
                urn,
                "Supported accommodation",
                name,
                provider,
                area,
                places,
                "Active",
                months_ago(today, 20).isoformat(),
                DISTRICTS[area],
                "",
                "",
                "",
            ]
        )
    for urn, name, provider, area, places, history in HOMES:
        registered = months_ago(today, (history[0][0] + 6) if history else 3)
        common = [
            urn,
            "Children's home",
            name,
            provider,
            area,
            places,
            "Active",
            registered.isoformat(),
            DISTRICTS[area],
        ]
        if not history:
            rows.append([*common, "", "", "Not yet inspected"])
        for months, judgement in history:
            kind = "Interim inspection" if judgement in INTERIM else "Full inspection"
            rows.append([*common, kind, months_ago(today, months).strftime("%d/%m/%Y"), judgement])
    header = [
        "URN",
        "Provision type",
        "Setting name",
        "Organisation which owns the provider",
        "Local authority",
        "Places",
        "Registration status",
        "Registration date",
        "Postcode",
        "Inspection event type",
        "Inspection date",
        "Overall experiences and progress of children and young people",
    ]
    ofsted.import_file(read_table(_csv(header, rows), "demo Ofsted file", **ofsted.COLUMNS))


@demo_group.command("seed")
@click.option("--scale", type=click.Choice(["small", "national"]), default="small", show_default=True)
@click.option(
    "--seed",
    "seed_value",
    type=int,
    default=1,
    show_default=True,
    help="For national scale: the same seed gives the same data.",
)
def seed(scale, seed_value):
    """Build the demo consortium (safe to run again), or national-scale data in an empty database."""
    audit.set_actor(None, "flask demo seed")
    today = date.today()
    if scale == "national":
        started = time.perf_counter()
        try:
            counts = national.seed(today, seed_value)
        except national.NotEmpty as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
        click.echo(
            f"National data in {time.perf_counter() - started:.0f} s: "
            + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        )
        click.echo(
            "Accounts: lead01@national.test, partner-<code>@national.test, admin@national.test "
            f"(password: {national.PASSWORD})"
        )
        return
    accounts = seed_core(today)
    first_time = seed_contracts(today)
    jobs.run_checks(today)  # as the scheduler would have at 02:00
    if first_time:
        act_on_flags(today)
    secret = demo_token()
    db.session.commit()
    click.echo(f"Demo ready. Sign in at {current_app.config['SERVICE_URL']}/sign-in with any of these accounts")
    click.echo(f"(password for all: {DEMO_PASSWORD}):")
    for email, description in accounts.items():
        click.echo(f"  {email:<22} {description}")
    click.echo("The partner's API token (read and write, for the README's curl examples):")
    click.echo(f"  {secret}")


DEMO_TOKEN_NAME = "Demo script"


def demo_token() -> str:
    """A fresh API token for the demo's partner; the one an earlier seed printed is revoked."""
    officer = db.session.scalar(select(User).where(User.email == "partner@demo.test"))
    for token in tokens.of_user(officer):
        if token.name == DEMO_TOKEN_NAME:
            tokens.revoke(token)
    return tokens.create(officer, DEMO_TOKEN_NAME, "write")[1]


# ---------------------------------------------------------------- contracts and placements

FRAMEWORK_REF = "EMRF-RES"
BLOCK_REF = "EM-BLOCK-RES"
CRISIS_REF = "EM-CRISIS"
LOTS = ["Residential", "Residential with education", "Solo/crisis", "Supported accommodation 16+"]
# (provider, lot, tier, standard price in pounds a week)
ADMISSIONS = [
    (PROVIDER_NAME, "Residential", "Preferred", 4150),
    ("Brookside Care Homes Ltd", "Residential", "Preferred", 4280),
    ("Meadowbank Young People's Services", "Residential", "Preferred", 4060),
    ("Riverside Therapeutic Care Ltd", "Residential with education", "Preferred", 5200),
    ("Castle Gate Homes CIC", "Residential", "Reserve", 4390),
    ("Sherwood Young People's Homes Ltd", "Residential", "Reserve", 4450),
    ("High Peak Care Partnership", "Residential with education", "Reserve", 5350),
    ("Fosse Way Children's Services Ltd", "Solo/crisis", "Preferred", 7800),
    ("Nene Valley Homes CIC", "Residential", "Other", 4520),
    ("Lincoln Green Care Ltd", "Residential", "Other", 4610),
    ("Castle Gate Homes CIC", "Supported accommodation 16+", "Preferred", 1650),
    ("Riverside Therapeutic Care Ltd", "Supported accommodation 16+", "Reserve", 1720),
]
CHILD_PREFIX = {
    "E06000015": "DER",
    "E10000007": "DBY",
    "E06000016": "LEI",
    "E10000018": "LCS",
    "E10000019": "LIN",
    "E06000061": "NNC",
    "E06000062": "WNC",
    "E06000018": "NOT",
    "E10000024": "NCC",
    "E06000017": "RUT",
}


def seed_contracts(today: date) -> bool:
    """The regional framework in its third year and a 10-bed block in its second, with about two
    hundred placements. Seeded once: later runs leave them as they are."""
    if db.session.scalar(select(Contract.id).where(Contract.ref == BLOCK_REF)) is not None:
        return False
    consortium = db.session.scalar(select(Consortium).where(Consortium.ref == CONSORTIUM_REF))
    year_start = financial_year_start(today)
    framework_start = date(year_start.year - 2, 4, 1)
    block_start = date(year_start.year - 1, 4, 1)
    crisis_end = months_ago(today, -5)
    contracts = read_table(
        _csv(
            [
                "ref",
                "kind",
                "title",
                "consortium_ref",
                "owner_code",
                "start_date",
                "end_date",
                "max_end_date",
                "beds",
                "bed_week_price",
                "home_urns",
                "description",
                "department",
                "value",
                "procurement_route",
            ],
            [
                [
                    FRAMEWORK_REF,
                    "framework",
                    "East Midlands Regional Framework for children's residential care",
                    CONSORTIUM_REF,
                    "",
                    framework_start,
                    date(framework_start.year + 4, 3, 31),
                    date(framework_start.year + 6, 3, 31),
                    "",
                    "",
                    "",
                    "Residential children's homes placements for the ten member authorities, in four lots",
                    "Children's Services: placements commissioning",
                    "48000000",
                    "Light touch regime",
                ],
                [
                    BLOCK_REF,
                    "block",
                    "Nottingham residential block contract",
                    CONSORTIUM_REF,
                    PARTNER_CODE,
                    block_start,
                    date(block_start.year + 10, 3, 31),
                    date(block_start.year + 12, 3, 31),
                    10,
                    "3500.00",
                    "SC910001;SC910002;SC910003",
                    "Ten beds in three residential homes in Nottingham, reserved for the consortium's children",
                    "Children's Services: placements commissioning",
                    "",
                    "Competitive flexible procedure",
                ],
                # An older crisis block at its maximum term: re-procuring it is due.
                [
                    CRISIS_REF,
                    "block",
                    "Solo and crisis beds (2)",
                    CONSORTIUM_REF,
                    "",
                    date(year_start.year - 4, 4, 1),
                    crisis_end,
                    crisis_end,
                    2,
                    "7800.00",
                    "SC910026",
                    "Two solo and crisis beds for children who need a home the same day",
                    "Children's Services: placements commissioning",
                    "",
                    "Direct award",
                ],
            ],
        ),
        "demo contracts",
        **imports.CONTRACT_COLUMNS,
    )
    imports.import_contracts(contracts)
    block = db.session.scalar(select(Contract).where(Contract.ref == BLOCK_REF))
    block.underuse_threshold_percent = 75  # what this consortium agreed for the block
    framework = db.session.scalar(select(Contract).where(Contract.ref == FRAMEWORK_REF))
    lots = {name: contract_services.add_lot(framework, name) for name in LOTS}
    providers = {p.name: p for p in db.session.scalars(select(Provider))}
    for name, lot, tier, pounds in ADMISSIONS:
        admission = contract_services.admit(lots[lot], providers[name], tier)
        for level, factor in (("standard", 100), ("complex", 122), ("high", 150)):
            contract_services.add_price(admission, level, pounds * factor, framework_start)
    contract_services.uplift(framework, Decimal("3.5"), year_start)
    imports.import_placements(
        read_table(_placements_csv(today, block_start, framework_start), "demo placements", **imports.PLACEMENT_COLUMNS)
    )
    seed_returns(today, framework, block)
    crisis = db.session.scalar(select(Contract).where(Contract.ref == CRISIS_REF))
    crisis.compared_lot = "Solo/crisis"  # its beds are set against solo placements, not the residential average
    seed_recharges(today, consortium, crisis)
    seed_cofunding(today, consortium)
    seed_referrals(today, consortium)
    reviewed = db.session.scalar(
        select(Placement)
        .where(Placement.authority_code == "E06000016", Placement.home.has(Home.urn == "SC910025"))
        .where(Placement.end_date.is_(None))
    )
    contract_services.record_review(
        reviewed, months_ago(today, 1), "step_down", "Stepping down to the residential lot once settled."
    )
    return True


def _placements_csv(today: date, block_start: date, framework_start: date) -> bytes:
    """Block placements keeping about 8 of 10 beds full, two empty all last month; framework,
    spot and fostering placements across the ten authorities, mostly within 20 miles."""
    rng = random.Random(2016)
    codes = [code for code, *_ in EAST_MIDLANDS]
    rows, serial = [], 0
    last_month_start = months_ago(today.replace(day=1), 1).replace(day=1)
    refilled = today - timedelta(days=10)

    def child(code):
        nonlocal serial
        serial += 1
        return f"{CHILD_PREFIX[code]}-{serial:04d}"

    def distance():
        return f"{rng.uniform(1, 19.9) if rng.random() < 0.85 else rng.uniform(20, 60):.1f}"

    block_homes = ["SC910001", "SC910002", "SC910003"]
    for slot in range(8):
        start = block_start + timedelta(days=rng.randint(0, 4))
        while start < today:
            end = start + timedelta(days=rng.randint(150, 420))
            if slot >= 6 and start < last_month_start < end:
                end = last_month_start  # two beds stood empty from the start of last month...
            code = rng.choice(codes)
            rows.append(
                [
                    code,
                    child(code),
                    BLOCK_REF,
                    block_homes[slot % 3],
                    start,
                    end if end <= today else "",
                    "",
                    "residential",
                    distance(),
                    rng.randint(11, 16),
                ]
            )
            start = end + timedelta(days=rng.randint(0, 6))
            if slot >= 6 and last_month_start <= start < refilled:
                start = refilled  # ...until ten days ago
    rows.append(
        [
            "E06000016",
            child("E06000016"),
            CRISIS_REF,
            "SC910026",
            months_ago(today, 2),
            "",
            "",
            "residential",
            "8.4",
            15,
        ]
    )
    residential = [
        urn
        for urn, _, provider, *_ in HOMES
        if provider in {name for name, lot, *_ in ADMISSIONS if lot.startswith("Residential")}
        and urn not in block_homes
        and urn != "SC910004"
    ]
    for _ in range(150):
        code = rng.choice(codes)
        start = framework_start + timedelta(days=rng.randint(0, (today - framework_start).days - 1))
        length = rng.randint(40, 700)
        end = start + timedelta(days=length)
        kind = rng.random()
        if kind < 0.62:
            contract, home, fee, kind_name = (
                FRAMEWORK_REF,
                rng.choice(residential),
                rng.choice([4296, 4430, 4202, 5382]),
                "residential",
            )
        elif kind < 0.82:
            contract, home, fee, kind_name = (
                "",
                rng.choice([h[0] for h in HOMES if h[0] != "SC910004"]),
                rng.randint(5200, 7600),
                "residential",
            )
        elif kind < 0.9:
            contract, home, fee, kind_name = (
                FRAMEWORK_REF,
                rng.choice([s[0] for s in SUPPORTED]),
                1700,
                "supported_accommodation",
            )
        else:
            contract, home, fee, kind_name = (
                "",
                "",
                rng.choice([450, 520, 610]),
                rng.choice(["in_house_fostering", "kinship"]),
            )
        age = rng.randint(16, 17) if kind_name == "supported_accommodation" else rng.randint(8, 17)
        rows.append(
            [
                code,
                child(code),
                contract,
                home,
                start,
                end if end < today else "",
                f"{fee}.00",
                kind_name,
                distance(),
                age,
            ]
        )
    # Solo placements bought from the framework's Solo/crisis lot: what the crisis block is set against.
    for months, code, fee in ((7, "E06000018", 8350), (5, "E10000019", 8900), (3, "E10000007", 8600)):
        rows.append(
            [
                code,
                child(code),
                FRAMEWORK_REF,
                "SC910025",
                months_ago(today, months),
                months_ago(today, months - 2),
                f"{fee}.00",
                "residential",
                distance(),
                15,
            ]
        )
    # Two solo placements open now, at high cost: one reviewed last month, one with its review due.
    for months, code, fee in ((7, "E06000018", 8350), (3, "E06000016", 7800)):
        rows.append(
            [code, child(code), FRAMEWORK_REF, "SC910025", months_ago(today, months), "", f"{fee}.00", "residential"]
            + [distance(), 15]
        )
    # A child moved twice this year: the carers, then the child, asked for the placement to end.
    moved = child("E06000018")
    for first, last, home in ((6, 4, "SC910016"), (4, 2, "SC910017"), (2, None, "SC910016")):
        rows.append(
            ["E06000018", moved, "", home, months_ago(today, first), months_ago(today, last) if last else ""]
            + ["5200.00", "residential", "6.2", 14]
        )
    # Why each ended placement ended, drawn apart so the placements above stay as they were.
    reasons = random.Random(903)
    codes_by_weight = ["CARPL"] * 7 + ["E4A"] * 3 + ["E5"] * 2 + ["LAREQ", "E13", "CREQO", "CHILD"] + ["CREQB"] * 2
    for row in rows:
        row.append(reasons.choice(codes_by_weight) if row[5] else "")
    rows[-3][-1], rows[-2][-1] = "CREQB", "CHILD"
    header = [
        "authority_code",
        "child_ref",
        "contract_ref",
        "home_urn",
        "start_date",
        "end_date",
        "weekly_fee",
        "placement_type",
        "distance_miles",
        "age_at_start",
        "end_reason_code",
    ]
    return _csv(header, rows)


# ---------------------------------------------------------------- monitoring returns

# Plausible quarterly values: (low, high) for each starter indicator.
VALUE_RANGES = {
    "EET": (88, 100),
    "HEALTH": (92, 100),
    "MFC": (0, 2),
    "UNPLANNED": (0, 1),
    "VIEWS": (90, 100),
    "L3": (70, 95),
    "NOTIFIABLE": (0, 2),
    "COMPLAINTS": (0, 1),
}


def seed_returns(today: date, framework, block) -> None:
    """The starter outcomes framework on the block and the regional framework, with eight
    quarters of returns: mostly accepted; on the block, missing-from-care red two quarters
    running and its newest return past its due date missing; on the framework, one return sent back for
    correction and the newest ones awaiting review."""
    rng = random.Random(2017)
    lead = db.session.scalar(select(User).where(User.email == "lead@demo.test"))
    template = returns.starter_template()
    last_ended = quarter_of(quarter_of(today)[0] - timedelta(days=1))[0]
    eight_back = last_ended
    for _ in range(7):
        eight_back = quarter_of(eight_back - timedelta(days=1))[0]
    block_outcomes = returns.attach(block, template)
    framework_outcomes = returns.attach(framework, template, applies_from=eight_back)
    newest = returns.period_label(last_ended)
    ended = [e for e in returns.owed(block_outcomes, today) if e.quarter_end < today]
    # The block's newest return past its due date is missing (in the month after a quarter ends,
    # that is the one before the newest, which is then merely due); red the two before it.
    late = max(n for n, e in enumerate(ended) if e.due_date < today)
    missing = {ended[late].period, newest}
    red = {e.period for e in ended[max(0, late - 2) : late]}
    for outcomes in (block_outcomes, framework_outcomes):
        for entry in returns.owed(outcomes, today):
            if entry.quarter_end >= today or (outcomes is block_outcomes and entry.period in missing):
                continue  # the current quarter; and the block's newest returns
            values = {code: str(rng.randint(low, high)) for code, (low, high) in VALUE_RANGES.items()}
            if outcomes is block_outcomes and entry.period in red:
                values["MFC"] = str(6 + rng.randint(0, 2))  # red two quarters running
            submitted_on = entry.due_date - timedelta(days=rng.randint(1, 20))
            monitoring_return = returns.save(
                outcomes, entry.provider, entry.period, values, {}, None, submitted_on, submit=True
            )
            if entry.period == newest:
                if entry.provider.name == "Brookside Care Homes Ltd":
                    returns.review(
                        monitoring_return,
                        "return",
                        "Health assessments look high for the home's new admissions: please check.",
                        lead,
                        None,
                    )
                continue  # the newest returns await the lead's review
            returns.review(monitoring_return, "accept", "", lead, None)


# ---------------------------------------------------------------- recharges


def seed_recharges(today: date, consortium: Consortium, crisis_block: Contract) -> None:
    """Last year's contract-management cost shared by placements (issued, one paid); this
    year's on a 50% base plus placements (drafts); the crisis block's cost for last quarter
    shared by bed-nights."""
    this_year = financial_year_start(today)
    last_year = date(this_year.year - 1, 4, 1)
    issued_on = min(today, this_year + timedelta(days=24))
    previous = recharges.create_pool(
        consortium,
        f"Contract management {last_year.year} to {this_year.year}",
        last_year,
        this_year - timedelta(days=1),
        18_600_000,
        "placements",
        notes="The lead authority's commissioning team: 3.5 posts and systems.",
    )
    recharges.draft_statements(previous)
    statements = recharges.issue(previous, issued_on)
    paid = next(s for s in statements if s.authority_code == PARTNER_CODE)
    recharges.mark_paid(paid, min(today, issued_on + timedelta(days=21)))
    current = recharges.create_pool(
        consortium,
        f"Contract management {this_year.year} to {this_year.year + 1}",
        this_year,
        date(this_year.year + 1, 3, 31),
        19_200_000,
        "placements",
        base_percent=50,
        notes="Half shared equally, half by placements started, as the members agreed.",
    )
    recharges.draft_statements(current)
    quarter_start, quarter_end = quarter_of(quarter_of(today)[0] - timedelta(days=1))
    block_pool = recharges.create_block_pool(crisis_block, quarter_start, quarter_end)
    recharges.draft_statements(block_pool)


# ---------------------------------------------------------------- co-funding

# Fictional bodies' refs, with real integrated care boards' names (public bodies).
ICB_REF = "NHS-NOTTS-ICB"
COFUNDERS = [
    ["NHS-NN-ICB", "NHS Northamptonshire Integrated Care Board", "health"],
    [ICB_REF, "NHS Nottingham and Nottinghamshire Integrated Care Board", "health"],
    ["NOTTM-SEND", "Nottingham City Council SEND and Inclusion", "education"],
]
SHORT_BREAKS_REF = "EM-SHORT-BREAKS"


def seed_cofunding(today: date, consortium: Consortium) -> None:
    """A 4-bed short-breaks block priced per bed-night, its cost shared 50/25/25 by the lead and
    two ICBs with this quarter's statements issued; Nottingham placements part-paid by its ICB
    and its SEND budget, last quarter's contributions statements issued; and Nottingham's budget
    with the contributions it expects."""
    year_start = financial_year_start(today)
    start = date(year_start.year - 1, 4, 1)
    row = [SHORT_BREAKS_REF, "block", "Short breaks for disabled children (4 beds)", CONSORTIUM_REF, LEAD_CODE]
    row += [start, date(start.year + 4, 3, 31), date(start.year + 6, 3, 31), 4, "", "SC910028", "310.00"]
    columns = [*imports.CONTRACT_COLUMNS["required"], "bed_night_price"]
    imports.import_contracts(read_table(_csv(columns, [row]), "demo short breaks", **imports.CONTRACT_COLUMNS))
    block = db.session.scalar(select(Contract).where(Contract.ref == SHORT_BREAKS_REF))
    cofunders = {c.ref: c for c in db.session.scalars(select(Cofunder))}
    cofunding.set_funding_shares(
        block,
        start,
        {LEAD_CODE: Decimal(50)},
        {cofunders["NHS-NN-ICB"].id: Decimal(25), cofunders[ICB_REF].id: Decimal(25)},
    )
    block.underuse_threshold_percent = 50  # what the partners agreed for short breaks
    # Ten children, each with a stay of two to four nights every ten days or two weeks.
    rng, stays, beds_taken = random.Random(4), [], {}
    for n in range(10):
        code = LEAD_CODE if n < 6 else "E06000061"
        night = start + timedelta(days=rng.randint(0, 13))
        while night < today - timedelta(days=3):
            leave = night + timedelta(days=rng.choice((2, 3, 4)))
            nights = [night + timedelta(days=d) for d in range((leave - night).days)]
            if all(beds_taken.get(each, 0) < 4 for each in nights):  # a full house: that stay is not booked
                for each in nights:
                    beds_taken[each] = beds_taken.get(each, 0) + 1
                stays.append([code, f"{CHILD_PREFIX[code]}-SB{n + 1:02d}", SHORT_BREAKS_REF, "SC910028", night])
                stays[-1] += [leave, "", "short_breaks", "6.5", 8 + n]
            night += timedelta(days=rng.choice((10, 14)))
    columns = [*imports.PLACEMENT_COLUMNS["required"], "age_at_start"]
    imports.import_placements(read_table(_csv(columns, stays), "demo short breaks stays", **imports.PLACEMENT_COLUMNS))
    quarter_start, quarter_end = quarter_of(today)
    pool = recharges.create_block_pool(block, quarter_start, quarter_end)
    recharges.draft_statements(pool)
    recharges.issue(pool, today)

    joint = db.session.scalars(
        select(Placement)
        .join(Contract, Contract.id == Placement.contract_id)
        .where(Placement.authority_code == PARTNER_CODE, Contract.kind == "framework", Placement.end_date.is_(None))
        .order_by(Placement.start_date, Placement.id)
        .limit(3)
    ).all()
    for n, placement in enumerate(joint):
        cofunding.add_contribution(
            placement, cofunders[ICB_REF], placement.start_date, percent=Decimal(25 if n else 40)
        )
    if joint:
        cofunding.add_contribution(joint[0], cofunders["NOTTM-SEND"], joint[0].start_date, weekly_pence=45_000)
    last_quarter = quarter_of(quarter_start - timedelta(days=1))[0]
    for cofunder in (cofunders[ICB_REF], cofunders["NOTTM-SEND"]):
        cofunder_statements.issue_contributions(consortium, cofunder, last_quarter, quarter_start)
    db.session.add(
        Budget(
            authority_code=PARTNER_CODE,
            financial_year=year_start.year,
            placement_type="residential",
            weeks=Decimal(380),
            unit_cost_pence=470_000,
            contributions_pence=22_000_000,
        )
    )
    db.session.flush()


# ---------------------------------------------------------------- referrals and vacancies


def _refer(consortium, code: str, child: str, opened: datetime, needed_in_days: int, **answers):
    referral = referral_services.new_draft(
        None,
        code,
        consortium,
        child_ref=child,
        age_in_years=answers.pop("age", 14),
        needed_by=opened.date() + timedelta(days=needed_in_days),
        residential_suitability="Preferred",
        foster_suitability="Unsuitable",
        **answers,
    )
    referral_services.open_referral(referral, opened)
    return referral


def _answer(referral, provider_name: str, at: datetime, urn=None, core: int | None = None, stage=None, reason=None):
    """A provider's answer: an offer of a home (at a core fee in pounds), or a decline."""
    invitation = next(
        i
        for i in referral.invitations
        if i.provider.name == provider_name and (stage is None or i.stage == stage) and i.status == "invited"
    )
    if urn is None:
        return referral_services.decline(invitation, "No vacancy", None, at)
    values = referral_services.OfferValues(
        home_urn=urn,
        start_date=referral.needed_by,
        need_level=referral.need_level,
        core_pence=(core or 0) * 100,
        reason=reason,
    )
    return referral_services.make_offer(invitation, None, values, at)


def seed_referrals(today: date, consortium: Consortium) -> None:
    """A referral in each state, published vacancies, and a spot purchase made today while a
    block bed stood empty (its flag opens when the checks run)."""
    centroids = Path(__file__).parent.parent / "docs" / "formats" / "postcodes.csv"
    geo.import_postcodes(read_table(centroids.read_bytes(), "postcodes.csv", **geo.POSTCODE_COLUMNS))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    # Placed through the block last month: the block's provider offered, the officer accepted.
    placed_at = datetime.combine(today.replace(day=1) - timedelta(days=2), datetime.min.time(), timezone.utc)
    placed = _refer(consortium, "E10000024", "NCC-R0101", placed_at, 1, age=13)
    block_offer = _answer(placed, PROVIDER_NAME, placed_at + timedelta(hours=3), "SC910002", stage="Block")
    referral_services.accept(block_offer, at=placed_at + timedelta(hours=5))
    # Unmet: needed the same day, nobody could take the child, closed without a placement.
    unmet = _refer(consortium, "E06000015", "DER-R0102", now - timedelta(days=20), 0, age=16, need_level="high")
    for invitation in list(unmet.invitations):
        referral_services.decline(invitation, "Cannot meet needs", None, now - timedelta(days=20, hours=-2))
    referral_services.close_unmet(
        unmet, "No suitable offer", "Solo placement needed the same day", now - timedelta(days=19)
    )
    # Escalated to the Reserve tier: nobody in the Preferred tier answered within 72 hours.
    _refer(consortium, "E10000018", "LCS-R0103", now - timedelta(hours=80), 9, risk_missing=True)
    referral_services.tick(now - timedelta(hours=80) + timedelta(hours=72, minutes=5))
    # In the Preferred tier's window with two offers; the block's provider declined.
    offered = _refer(consortium, "E06000018", "NOT-R0104", now - timedelta(hours=20), 3, age=15)
    _answer(offered, PROVIDER_NAME, now - timedelta(hours=18), stage="Block")
    _answer(offered, "Brookside Care Homes Ltd", now - timedelta(hours=12), "SC910007", 4200)
    _answer(
        offered,
        "Meadowbank Young People's Services",
        now - timedelta(hours=6),
        "SC910010",
        4480,
        reason="Two staff at night",
    )
    # Waiting on the block's provider: opened this morning.
    _refer(consortium, "E06000018", "NOT-R0105", now - timedelta(hours=2), 10, risk_self_harm=True)
    providers = {p.name: p for p in db.session.scalars(select(Provider))}
    homes = {h.urn: h for p in providers.values() for h in p.homes}
    for name, urn, beds, kinds, ages, confirmed in (
        ("Castle Gate Homes CIC", "2910031", 2, ["supported"], (16, 17), 3),
        ("Sherwood Young People's Homes Ltd", "SC910022", 1, ["residential"], (11, 17), 1),
        ("Nene Valley Homes CIC", "SC910028", 1, ["residential"], (8, 15), 12),
    ):
        vacancies.publish(
            providers[name].id, homes[urn], beds, today, None, kinds, *ages, today - timedelta(days=confirmed)
        )
    vacancies.remind_and_lapse(today)
    spot = read_table(
        _csv(
            list(imports.PLACEMENT_COLUMNS["required"]) + ["age_at_start"],
            [["E06000015", "DER-R0106", "", "SC910016", today, "", "5450.00", "residential", "14.2", 14]],
        ),
        "spot purchase",
        **imports.PLACEMENT_COLUMNS,
    )
    imports.import_placements(spot)


def act_on_flags(today: date) -> None:
    """The lead has already acknowledged one flag and resolved another."""
    lead = db.session.scalar(select(User).where(User.email == "lead@demo.test"))
    drop = db.session.scalar(select(Flag).where(Flag.kind == "quality_drop", Flag.subject == "SC910001"))
    flag_services.acknowledge(
        drop, lead, "Called Oakleaf: their improvement plan is due in two weeks; visiting Willow House next week."
    )
    settled = db.session.scalar(select(Flag).where(Flag.kind == "quality_drop", Flag.subject == "SC910002"))
    flag_services.resolve(
        settled, lead, "Reviewed at the quarterly contract meeting: the home is still Good; no action needed."
    )
