"""`flask import contributions` (DESIGN §5), and the contributions the placements import may carry:
all or nothing, the same file twice changes nothing, every bad line named with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from consortium.core import audit
from consortium.core.extensions import db
from consortium.core.models import Cofunder
from consortium.core.services import RuleBroken
from consortium.core.tabular import ImportResult, RowErrors, Table, parse_date, parse_decimal, parse_pence
from contracts import cofunding
from contracts.models import Contract, Contribution, Placement

CONTRIBUTION_COLUMNS = {
    "required": ["authority_code", "child_ref", "contract_ref", "start_date", "cofunder_ref", "from"],
    "optional": ["percent", "weekly", "until"],
}
# In the placements import: a contribution from the placement's first night.
PLACEMENT_CONTRIBUTION_COLUMNS = ["cofunder_ref", "contribution_percent", "contribution_weekly"]


@dataclass(frozen=True)
class ContributionRow:
    line: int
    placement: tuple  # authority code, child reference, contract ref (None: spot), start date
    cofunder_ref: str
    percent: Decimal | None
    weekly_pence: int | None
    first_night: date
    last_night: date | None


def share_of(percent_text: str, weekly_text: str, problems: list[str], names=("percent", "weekly")):
    """A percentage or an amount a week in pounds, as the file gives one of them."""
    percent = weekly = None
    if bool(percent_text) == bool(weekly_text):
        problems.append(f"give {names[0]} or {names[1]}, one of them")
        return None, None
    try:
        if percent_text:
            percent = parse_decimal(percent_text.rstrip("%"), names[0])
            if not (0 < percent <= 100 and percent == percent.quantize(Decimal("0.01"))):
                problems.append(f"{names[0]} {percent_text} must be more than 0 and at most 100, to 2 decimal places")
        else:
            weekly = parse_pence(weekly_text, names[1])
            if weekly <= 0:
                problems.append(f"{names[1]} must be more than 0")
    except ValueError as error:
        problems.append(str(error))
    return percent, weekly


def _parse(row) -> tuple[ContributionRow | None, list[str]]:
    problems: list[str] = []
    dates = {}
    for column, required in (("start_date", True), ("from", True), ("until", False)):
        if not row[column]:
            if required:
                problems.append(f"{column} is empty")
            dates[column] = None
            continue
        try:
            dates[column] = parse_date(row[column])
        except ValueError as error:
            problems.append(f"{column}: {error}")
    percent, weekly = share_of(row["percent"], row["weekly"], problems)
    if not row["cofunder_ref"]:
        problems.append("cofunder_ref is empty")
    if problems:
        return None, problems
    key = (
        row["authority_code"].upper(),
        row["child_ref"].strip(),
        row["contract_ref"].strip() or None,
        dates["start_date"],
    )
    return ContributionRow(
        row.line, key, row["cofunder_ref"].strip().upper(), percent, weekly, dates["from"], dates["until"]
    ), []


def import_contributions(table: Table) -> ImportResult:
    errors = RowErrors()
    rows = []
    for row in table.rows:
        parsed, problems = _parse(row)
        if problems:
            errors.add(row.line, "; ".join(problems))
        else:
            rows.append(parsed)
    result = ImportResult()  # the rows that read well are tried too: every bad line is named at once
    with audit.import_batch(db.session):
        apply_contributions(rows, errors, result)
    errors.raise_if_any()
    audit.record_import(db.session, "Contribution", table, result)
    return result


def _placements(keys: set[tuple]) -> dict[tuple, Placement]:
    refs = {ref for _, _, ref, _ in keys} - {None}
    contracts = dict(db.session.execute(select(Contract.ref, Contract.id).where(Contract.ref.in_(refs))).all())
    children = sorted({child for _, child, _, _ in keys})
    found = {}
    for start in range(0, len(children), 5_000):
        query = select(Placement).where(Placement.child_ref.in_(children[start : start + 5_000]))
        for p in db.session.scalars(query):
            found[(p.authority_code, p.child_ref, p.contract_id, p.start_date)] = p
    return {
        key: found.get((key[0], key[1], contracts.get(key[2]) if key[2] else None, key[3]))
        for key in keys
        if key[2] is None or key[2] in contracts
    }


def apply_contributions(rows: list[ContributionRow], errors: RowErrors, result: ImportResult) -> None:
    """Add each row's contribution, or compare it with the one recorded from the same night by
    the same co-funder: the same is unchanged, a different last night or share is updated. The
    rules (within the fee on every night, not before the placement) name the line that breaks them."""
    placements = _placements({row.placement for row in rows})
    cofunders = {
        c.ref: c for c in db.session.scalars(select(Cofunder).where(Cofunder.ref.in_({r.cofunder_ref for r in rows})))
    }
    for row in rows:
        placement, cofunder = placements.get(row.placement), cofunders.get(row.cofunder_ref)
        if placement is None:
            code, child, ref, start = row.placement
            errors.add(
                row.line,
                f"no placement of {child} by {code} {'under ' + ref if ref else 'spot purchased'} starting {start}",
            )
            continue
        if cofunder is None:
            errors.add(row.line, f"no co-funder {row.cofunder_ref} (import co-funders first)")
            continue
        try:
            result_kind = _apply(placement, cofunder, row)
        except RuleBroken as broken:
            errors.add(row.line, str(broken)[:1].lower() + str(broken)[1:])
            continue
        setattr(result, result_kind, getattr(result, result_kind) + 1)


def _apply(placement: Placement, cofunder: Cofunder, row: ContributionRow) -> str:
    basis_points = None if row.percent is None else int(row.percent * 100)
    same = db.session.scalar(
        select(Contribution).where(
            Contribution.placement_id == placement.id,
            Contribution.cofunder_id == cofunder.id,
            Contribution.first_night == row.first_night,
        )
    )
    if same is None:
        cofunding.add_contribution(placement, cofunder, row.first_night, row.last_night, row.percent, row.weekly_pence)
        return "added"
    if (same.basis_points, same.weekly_pence, same.last_night) == (basis_points, row.weekly_pence, row.last_night):
        return "unchanged"
    same.basis_points, same.weekly_pence, same.last_night = basis_points, row.weekly_pence, row.last_night
    if row.last_night is not None and row.last_night < row.first_night:
        raise RuleBroken("the last night must be on or after the first")
    if problem := cofunding.over_the_fee(placement, cofunding.contributions_of(placement)):
        raise RuleBroken(problem)
    db.session.flush()
    return "updated"
