"""The national Placements Data Standard (v2) template: placements out as its CSV, and in again.

The columns are those of the template spreadsheet of 24 June 2026 in SocialCareData/standard
(`src/assets/spreadsheet/National-Placement-Standard-Excel-20260624.xlsx`, sheet *Data
Collection*), in its order; docs/formats/pds.md lists them with their source. A field the
service does not hold is left empty. The needs and risks belong to a referral, which the
service does not hold yet, so they are empty too.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from consortium.core.extensions import db
from consortium.core.tabular import ImportFailed, ImportResult, Row, RowErrors, Table, parse_date
from contracts import imports
from contracts.models import BlockPrice, Placement

COLUMNS = [
    "child_ID",
    "when_placement_is_needed_by",
    "number_of_siblings_to_place_with",
    "is_preferred_location_local",
    "out_of_LA_reason",
    "communication_language_learning_needs",
    "specific_communication_and_language_requirements",
    "adaptation_to_the_home",
    "cultural_needs",
    "who_can_the_child_be_cared_for_alongside",
    "can_child_live_with_pets",
    "additional_support",
    "additional_support_other",
    "dol",
    "foster_care_suitability",
    "residential_care_suitability",
    "supported_accommodation",
    "risk_to_child_self_harm",
    "risk_to_child_criminal_exploitation",
    "risk_to_child_drug_and_alcohol_use",
    "risk_to_child_eating_disorder",
    "risk_to_child_going_missing",
    "risk_to_others_physical_harm",
    "risk_to_others_sexual_harm",
    "risk_to_others_fire_setting",
    "risk_to_others_harm_to_animals",
    "risk_to_others_criminal_exploitation",
    "cost_core_weekly",
    "cost_additional_support_weekly",
    "cost_education_weekly",
    "cost_other_weekly",
    "cost_total_weekly",
    "placement_location",
    "preferrability_of_placement_location",
    "education_continuity",
    "provider_URN",
    "how_many_siblings_were_placed_together",
    "placement_type",
    "name_of_officer_referral",
    "Date_entry_referral",
    "name_of_officer_placement",
    "date_entry_placement",
    "name_of_officer_placement_cost",
    "date_entry_placement_cost",
]
COST_PARTS = [
    "cost_core_weekly",
    "cost_additional_support_weekly",
    "cost_education_weekly",
    "cost_other_weekly",
    "cost_total_weekly",
]
# The standard's three placement types, and the service's types each one stands for.
TYPE_OUT = {
    "residential": "Residential",
    "residential_education": "Residential",
    "supported_accommodation": "Supported Accommodation",
    "in_house_fostering": "Foster",
    "ifa_fostering": "Foster",
    "kinship": "Foster",
    "short_breaks": "Residential",  # a short break is a stay in a residential setting
}
# The standard's location: the outward code of a postcode (its validation rules).
OUTWARD_CODE = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")
# A total weekly cost outside this range is likely a typo: a warning, not a refusal.
LIKELY_TOTAL = (Decimal(100), Decimal(100_000))


# ---------------------------------------------------------------- out


def placements_of(query, first: date, last: date):
    """The placements of `query` (a scoped or narrowed select of Placement) open at any time in
    [first, last], in the order they were recorded."""
    return db.session.scalars(
        query.where(Placement.start_date <= last, or_(Placement.end_date.is_(None), Placement.end_date > first))
        .options(selectinload(Placement.home), selectinload(Placement.fees), selectinload(Placement.contract))
        .order_by(Placement.id)
    ).all()


def rows(placements, last: date) -> list[list[str]]:
    """Each placement as a line of the template: its cost as on the period's last day it was open."""
    prices = _block_prices({p.contract_id for p in placements if p.contract and p.contract.is_block})
    return [_row(p, prices, min(last, p.end_date or last)) for p in placements]


def csv_text(lines: list[list[str]]) -> str:
    """The template's CSV: line 1 the 44 column names, then one line per placement."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(lines)
    return out.getvalue()


def _block_prices(contract_ids: set[int]) -> dict[int, list[BlockPrice]]:
    found: dict[int, list[BlockPrice]] = {}
    if contract_ids:
        for price in db.session.scalars(
            select(BlockPrice).where(BlockPrice.contract_id.in_(contract_ids)).order_by(BlockPrice.effective_from)
        ):
            found.setdefault(price.contract_id, []).append(price)
    return found


def _weekly_pence(p: Placement, prices: dict[int, list[BlockPrice]], on: date) -> int | None:
    if p.contract is not None and p.contract.is_block:
        # A block placement costs the block's price per bed-week: what the authority pays for the bed.
        current = [x for x in prices.get(p.contract_id, []) if x.effective_from <= on]
        return current[-1].weekly_pence if current else None
    current = [fee for fee in p.fees if fee.effective_from <= on]
    return current[-1].weekly_pence if current else None


def _row(p: Placement, prices, on: date) -> list[str]:
    values = dict.fromkeys(COLUMNS, "")
    pence = _weekly_pence(p, prices, on)
    outward = (p.home.postcode or "").upper().split(" ")[0] if p.home else ""
    values.update(
        child_ID=p.child_ref,
        cost_total_weekly=f"{pence / 100:.2f}" if pence is not None else "",
        placement_location=outward if OUTWARD_CODE.match(outward) else "",
        provider_URN=p.home.urn if p.home else "",
        placement_type=TYPE_OUT.get(p.placement_type, ""),
        date_entry_placement=p.start_date.isoformat(),
    )
    return [values[column] for column in COLUMNS]


# ---------------------------------------------------------------- in

TYPE_IN = {"residential": "residential", "supported accommodation": "supported_accommodation", "foster": "foster"}


def import_pds(table: Table, authority_code: str) -> ImportResult:
    """The template's lines as placements of one authority (DESIGN §4d): `child_ID` the child's
    reference, `date_entry_placement` the start, `provider_URN` the home, `placement_type` and
    `cost_total_weekly` the type and the fee. Checked first against the standard's validation
    rules, then against every rule of the placements import, all or nothing. Totals outside
    £100 to £100,000 are kept, and listed in `details["warnings"]`."""
    errors, warnings, seen, given = RowErrors(), [], {}, []
    for row in table.rows:
        problems = _pds_problems(row, warnings)
        child = row["child_ID"].strip()
        if child in seen:
            problems.append(f"child_ID {child} appears again (first on line {seen[child]})")
        seen.setdefault(child, row.line)
        if problems:
            errors.add(row.line, "; ".join(problems))
        else:
            given.append(Row(row.line, _placement_row(row, authority_code.upper())))
    # The placements' own rules for the lines the standard's rules let through, so that the file's
    # every problem is said at once; nothing stays written if there is any.
    savepoint = db.session.begin_nested()
    try:
        columns = frozenset(imports.PLACEMENT_COLUMNS["required"])
        result = imports.import_placements(Table(table.name, table.sha256, given, columns))
    except ImportFailed as failed:
        errors.errors += failed.errors
    if errors.errors:
        savepoint.rollback()
        errors.raise_if_any()
    savepoint.commit()
    result.details["warnings"] = warnings
    return result


def _pds_problems(row, warnings: list[str]) -> list[str]:
    problems = []
    if not row["child_ID"].strip():
        problems.append("child_ID is empty")
    kind = row["placement_type"].strip().lower()
    if kind not in TYPE_IN:
        problems.append(
            f"placement_type {row['placement_type']!r} is not one of Residential, Foster, Supported Accommodation"
        )
    elif kind != "foster" and not row["provider_URN"].strip():
        problems.append(f"provider_URN is empty: a {row['placement_type'].strip()} placement is in a registered home")
    if not row["date_entry_placement"].strip():
        problems.append("date_entry_placement is empty")
    else:
        try:
            parse_date(row["date_entry_placement"])
        except ValueError as error:
            problems.append(f"date_entry_placement: {error}")
    for column in COST_PARTS:
        if row[column].strip():
            try:
                amount = Decimal(row[column].strip().lstrip("£").replace(",", ""))
            except InvalidOperation:
                amount = None
            if amount is None or not amount.is_finite() or amount < 0:
                problems.append(f"{column} must be an amount in pounds of 0 or more, not {row[column]!r}")
            elif column == "cost_total_weekly" and not LIKELY_TOTAL[0] <= amount <= LIKELY_TOTAL[1]:
                warnings.append(f"line {row.line}: cost_total_weekly £{amount:,.2f} is outside £100 to £100,000")
    location = row["placement_location"].strip()
    if location and not OUTWARD_CODE.match(location):
        problems.append(f"placement_location {location!r} is not the first part of a postcode, like TA3 or BS10")
    if "other" in [part.strip().lower() for part in re.split(r"[;,]", row["additional_support"])]:
        if not row["additional_support_other"].strip():
            problems.append("additional_support is Other: say what in additional_support_other")
    return problems


def _placement_row(row, authority_code: str) -> dict[str, str]:
    kind = TYPE_IN[row["placement_type"].strip().lower()]
    urn = row["provider_URN"].strip().upper()
    if kind == "foster":
        kind = "ifa_fostering" if urn else "in_house_fostering"
    total = row["cost_total_weekly"].strip().lstrip("£").replace(",", "")
    return {
        "authority_code": authority_code,
        "child_ref": row["child_ID"].strip(),
        "contract_ref": "",
        "home_urn": urn,
        "start_date": row["date_entry_placement"].strip(),
        "end_date": "",
        "weekly_fee": total,
        "placement_type": kind,
        "distance_miles": "",
    }
