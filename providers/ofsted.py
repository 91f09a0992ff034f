"""The Ofsted import: providers, homes and inspections from Ofsted's published MI files.

Works in two steps so a person can see what a file will change before it does: `plan` reads
and checks every row and works out the differences with the register; `apply` writes them in
a few set-based statements. A file with any bad row plans nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.orm import selectinload

from consortium.core import audit
from consortium.core.extensions import db
from consortium.core.inputs import EARLIEST, parse_id
from consortium.core.tabular import ImportResult, RowErrors, Table, parse_date, too_long
from providers import merge
from providers.models import Home, Inspection, Judgement, Provider, ProviderAlias

URN = re.compile(r"^(SC\d{6}|\d{6,7})$")
REDACTED = "REDACTED"

COLUMNS = {
    "required": [
        "urn",
        "provision_type",
        "name",
        "provider",
        "local_authority",
        "places",
        "registration_status",
        "inspection_date",
        "judgement",
    ],
    "optional": ["sector", "postcode", "event_type", "publication_date", "web_link", "registration_date"],
    "aliases": {
        "urn": ["URN"],
        "provision_type": ["Provision type"],
        "name": ["Name", "Setting name"],
        "provider": ["Organisation which owns the provider"],
        "local_authority": ["Local authority"],
        "places": ["Places"],
        "registration_status": ["Registration status"],
        "inspection_date": ["Inspection date"],
        "judgement": ["Overall experiences and progress of children and young people"],
        "sector": ["Sector"],
        "postcode": ["Postcode"],
        "event_type": ["Event type", "Inspection event type"],
        "publication_date": ["Publication date", "Inspection publication date"],
        "web_link": ["Web link"],
        "registration_date": ["Registration date"],
    },
}
# Home attributes an import sets; an optional column the file lacks leaves the attribute alone.
HOME_FIELDS = [
    "name",
    "provision_type",
    "sector",
    "local_authority",
    "postcode",
    "registered_places",
    "registration_status",
    "registration_date",
    "web_link",
]
OPTIONAL_HOME_FIELDS = {"sector", "postcode", "web_link", "registration_date"}
# Column names as Ofsted's file gives them, for messages.
HOME_COLUMNS = {
    key: COLUMNS["aliases"][key][0]
    for key in ("name", "provision_type", "sector", "local_authority", "postcode", "registration_status", "web_link")
}
PROVIDER_COLUMN = {"name": COLUMNS["aliases"]["provider"][0]}
MAX_PLACES = 10_000  # registered places of one setting
# Homes registered long before Ofsted's files began still give their registration date.
EARLIEST_REGISTRATION = date(1900, 1, 1)


@dataclass
class ParsedRow:
    line: int
    urn: str
    provider: str
    home: dict
    inspection_date: date | None
    judgement: Judgement | None
    event_type: str | None
    publication_date: date | None


@dataclass
class OwnerChange:
    """Homes held under one provider whose owner the file names differently: a rename of that
    provider, or a new owner; a lead decides (DESIGN §2, Provider)."""

    provider_id: int
    was: str  # the provider the homes are held under
    now: str  # the owner the file names
    homes: list[str] = field(default_factory=list)  # URNs

    @property
    def key(self) -> str:
        return f"{self.provider_id}:{self.now.lower()}"


@dataclass
class OfstedPlan:
    table: Table
    new_providers: list[str] = field(default_factory=list)
    new_homes: list[dict] = field(default_factory=list)
    changed_homes: list[dict] = field(default_factory=list)
    unchanged_homes: int = 0
    new_inspections: list[dict] = field(default_factory=list)
    changed_inspections: list[dict] = field(default_factory=list)
    unchanged_inspections: int = 0
    worse: int = 0
    owner_changes: list[OwnerChange] = field(default_factory=list)

    def summary(self) -> str:
        def count(n, one, many):
            return f"{n:,} {one if n == 1 else many}"

        return ", ".join(
            [
                count(len(self.new_providers), "new provider", "new providers"),
                count(len(self.new_homes), "new home", "new homes"),
                count(len(self.changed_homes), "home changed", "homes changed"),
                count(len(self.new_inspections), "new inspection", "new inspections"),
                count(self.worse, "judgement worse than before", "judgements worse than before"),
            ]
        )

    @property
    def changes_anything(self) -> bool:
        return bool(
            self.new_providers
            or self.new_homes
            or self.changed_homes
            or self.new_inspections
            or self.changed_inspections
        )


def _text(value: str) -> str | None:
    value = value.strip()
    return None if not value or value.upper() == REDACTED else value


def _parse_rows(table: Table, judgements: dict[str, Judgement], errors: RowErrors) -> list[ParsedRow]:
    parsed = []
    for row in table.rows:
        problems = []
        urn = row["urn"].upper().replace(" ", "")
        if not URN.match(urn):
            problems.append(f"URN {row['urn']!r} is not SC and six digits, nor six or seven digits")
        for column, label in (
            ("provision_type", "Provision type"),
            ("provider", "Organisation which owns the provider"),
            ("local_authority", "Local authority"),
            ("registration_status", "Registration status"),
        ):
            if not row[column]:
                problems.append(f"{label} is empty")
        places = None
        if row["places"]:
            places = parse_id(row["places"])
            if places is None or places > MAX_PLACES:
                problems.append(f"Places {row['places'][:20]!r} is not a whole number from 0 to {MAX_PLACES:,}")
        dates = {}
        for column, label in (
            ("inspection_date", "Inspection date"),
            ("publication_date", "Publication date"),
            ("registration_date", "Registration date"),
        ):
            try:
                earliest = EARLIEST_REGISTRATION if column == "registration_date" else EARLIEST
                dates[column] = parse_date(row[column], earliest) if row[column] else None
            except ValueError as error:
                problems.append(f"{label}: {error}")
        judgement = None
        if row["judgement"]:
            judgement = judgements.get(row["judgement"].strip().lower())
            if judgement is None:
                problems.append(f"unknown judgement {row['judgement']!r}")
        if dates.get("inspection_date") and judgement is None and not row["judgement"]:
            problems.append("there is an inspection date but no judgement")
        if judgement is not None and not row["inspection_date"] and judgement.graded:
            problems.append(f"the judgement {judgement.name!r} has no inspection date")
        if problems:
            errors.add(row.line, "; ".join(problems))
            continue
        home = {
            "name": _text(row["name"]),
            "provision_type": row["provision_type"],
            "sector": _text(row["sector"]),
            "local_authority": row["local_authority"],
            "postcode": (_text(row["postcode"]) or "").upper() or None,
            "registered_places": places,
            "registration_status": row["registration_status"],
            "registration_date": dates["registration_date"],
            "web_link": _text(row["web_link"]),
        }
        problems = too_long(Home, home, HOME_COLUMNS) + too_long(
            Provider, {"name": row["provider"].strip()}, PROVIDER_COLUMN
        )
        problems += too_long(Inspection, {"event_type": _text(row["event_type"])}, {"event_type": "Event type"})
        if problems:
            errors.add(row.line, "; ".join(problems))
            continue
        parsed.append(
            ParsedRow(
                row.line,
                urn,
                row["provider"].strip(),
                home,
                dates["inspection_date"],
                judgement if dates["inspection_date"] else None,
                _text(row["event_type"]),
                dates["publication_date"],
            )
        )
    return parsed


def plan(table: Table) -> OfstedPlan:
    """Check every row and work out what the file would change; writes nothing."""
    errors = RowErrors()
    judgements = {j.name.lower(): j for j in db.session.scalars(select(Judgement))}
    rows = _parse_rows(table, judgements, errors)

    # One inspection per home and date: the same line twice is harmless, a different judgement is not.
    first_seen: dict[tuple[str, date], ParsedRow] = {}
    for row in rows:
        if row.inspection_date is None:
            continue
        key = (row.urn, row.inspection_date)
        earlier = first_seen.setdefault(key, row)
        if earlier is not row and earlier.judgement.id != row.judgement.id:
            errors.add(
                row.line,
                f"the inspection of {row.urn} on {row.inspection_date:%d/%m/%Y} is {row.judgement.name!r} here "
                f"but {earlier.judgement.name!r} on line {earlier.line}",
            )
    errors.raise_if_any()

    result = OfstedPlan(table=table)
    providers = _provider_ids()
    for row in rows:
        if row.provider.lower() not in providers:
            providers[row.provider.lower()] = None
            result.new_providers.append(row.provider)

    # A home's details come from its newest line (history files repeat the home on each line).
    newest: dict[str, ParsedRow] = {}
    for row in rows:
        current = newest.get(row.urn)
        if current is None or (row.inspection_date or date.min) >= (current.inspection_date or date.min):
            newest[row.urn] = row
    existing = {
        home.urn: home
        for home in db.session.scalars(
            select(Home).where(Home.urn.in_(list(newest))).options(selectinload(Home.provider))
        )
    }
    owner_changes: dict[tuple, OwnerChange] = {}
    for urn, row in newest.items():
        values = {
            key: value for key, value in row.home.items() if key not in OPTIONAL_HOME_FIELDS or key in table.columns
        }
        home = existing.get(urn)
        if home is None:
            result.new_homes.append({"urn": urn, "provider": row.provider, **values})
            continue
        if values["name"] is None:
            values.pop("name")  # never overwrite a real name with REDACTED
        if values.get("postcode") is None:
            values.pop("postcode", None)
        changes = {key: value for key, value in values.items() if getattr(home, key) != value}
        provider_id = providers.get(row.provider.lower())
        if provider_id != home.provider_id:
            changes["provider"] = row.provider
            moving = (home.provider_id, row.provider.lower())
            if moving not in owner_changes:
                owner_changes[moving] = OwnerChange(home.provider_id, home.provider.name, row.provider)
            owner_changes[moving].homes.append(urn)
        if changes:
            result.changed_homes.append({"id": home.id, "urn": urn, **changes})
        else:
            result.unchanged_homes += 1

    result.owner_changes = sorted(owner_changes.values(), key=lambda c: (c.was, c.now))
    _plan_inspections(result, rows, existing, errors)
    errors.raise_if_any()
    return result


def _plan_inspections(result: OfstedPlan, rows: list[ParsedRow], existing: dict[str, Home], errors: RowErrors) -> None:
    home_ids = [home.id for home in existing.values()]
    known: dict[tuple[str, date], tuple] = {}
    if home_ids:
        query = (
            select(
                Home.urn,
                Inspection.id,
                Inspection.inspection_date,
                Inspection.judgement_id,
                Inspection.event_type,
                Inspection.publication_date,
                Judgement.rank,
                Judgement.name,
            )
            .join(Inspection.home)
            .join(Inspection.judgement)
            .where(Inspection.home_id.in_(home_ids))
        )
        for urn, inspection_id, day, judgement_id, event_type, published, rank, name in db.session.execute(query):
            known[(urn, day)] = (inspection_id, judgement_id, event_type, published, rank, name)

    graded_by_home: dict[str, list[tuple[date, int, bool]]] = defaultdict(list)
    for (urn, day), (_, _, _, _, rank, _) in known.items():
        if rank is not None:
            graded_by_home[urn].append((day, rank, False))
    planned = set()
    for row in rows:
        if row.inspection_date is None or (row.urn, row.inspection_date) in planned:
            continue
        planned.add((row.urn, row.inspection_date))
        before = known.get((row.urn, row.inspection_date))
        if before is None:
            result.new_inspections.append(
                {
                    "urn": row.urn,
                    "inspection_date": row.inspection_date,
                    "judgement_id": row.judgement.id,
                    "event_type": row.event_type,
                    "publication_date": row.publication_date,
                }
            )
            if row.judgement.graded:
                graded_by_home[row.urn].append((row.inspection_date, row.judgement.rank, True))
        elif before[1] != row.judgement.id:
            errors.add(
                row.line,
                f"{row.urn} already has an inspection on {row.inspection_date:%d/%m/%Y} judged {before[5]!r}; "
                f"this line says {row.judgement.name!r}",
            )
        elif (row.event_type and row.event_type != before[2]) or (
            row.publication_date and row.publication_date != before[3]
        ):
            result.changed_inspections.append(
                {
                    "id": before[0],
                    "event_type": row.event_type or before[2],
                    "publication_date": row.publication_date or before[3],
                }
            )
        else:
            result.unchanged_inspections += 1
    # A new graded judgement worse than the home's graded judgement before it.
    for history in graded_by_home.values():
        history.sort()
        for (_, earlier_rank, _), (_, rank, is_new) in zip(history, history[1:]):
            if is_new and rank > earlier_rank:
                result.worse += 1


def _provider_ids() -> dict[str, int | None]:
    names = {name.lower(): pid for pid, name in db.session.execute(select(Provider.id, Provider.name))}
    for pid, name in db.session.execute(select(ProviderAlias.provider_id, ProviderAlias.name)):
        names.setdefault(name.lower(), pid)
    return names


def apply(plan: OfstedPlan, renames: set[str] = frozenset()) -> ImportResult:
    """Write a plan: new providers, new and changed homes, new inspections; one audit event.
    An owner change is a new owner (its homes move) unless its key is among `renames`: then the
    provider it was held under becomes one with the owner the file names, under that name."""
    if plan.new_providers:
        db.session.execute(insert(Provider), [{"name": name} for name in plan.new_providers])
    providers = _provider_ids()
    if plan.new_homes:
        db.session.execute(
            insert(Home),
            [
                {
                    **{k: v for k, v in home.items() if k != "provider"},
                    "provider_id": providers[home["provider"].lower()],
                }
                for home in plan.new_homes
            ],
        )
    for home in plan.changed_homes:
        values = {k: v for k, v in home.items() if k not in ("id", "urn", "provider")}
        if "provider" in home:
            values["provider_id"] = providers[home["provider"].lower()]
        db.session.execute(update(Home).where(Home.id == home["id"]).values(**values))
    if plan.new_inspections:
        urns = {row["urn"] for row in plan.new_inspections}
        home_ids = dict(db.session.execute(select(Home.urn, Home.id).where(Home.urn.in_(urns))).all())
        db.session.execute(
            insert(Inspection),
            [
                {**{k: v for k, v in row.items() if k != "urn"}, "home_id": home_ids[row["urn"]]}
                for row in plan.new_inspections
            ],
        )
    for row in plan.changed_inspections:
        db.session.execute(
            update(Inspection)
            .where(Inspection.id == row["id"])
            .values(event_type=row["event_type"], publication_date=row["publication_date"])
        )
    db.session.expire_all()  # the bulk statements bypassed the identity map
    renamed = [change for change in plan.owner_changes if change.key in renames]
    for change in renamed:
        merge.merge(
            db.session.get(Provider, providers[change.now.lower()]), db.session.get(Provider, change.provider_id)
        )
    result = ImportResult(
        added=len(plan.new_homes) + len(plan.new_inspections),
        updated=len(plan.changed_homes) + len(plan.changed_inspections),
        unchanged=plan.unchanged_homes + plan.unchanged_inspections,
        details={
            "providers_added": len(plan.new_providers),
            "homes_added": len(plan.new_homes),
            "homes_updated": len(plan.changed_homes),
            "inspections_added": len(plan.new_inspections),
            "judgements_worse": plan.worse,
            "owners_renamed": len(renamed),
            "owners_new": len(plan.owner_changes) - len(renamed),
        },
    )
    audit.record_import(db.session, "Ofsted file", plan.table, result)
    db.session.flush()
    return result


def import_file(table: Table, renames: set[str] = frozenset()) -> ImportResult:
    return apply(plan(table), renames)
