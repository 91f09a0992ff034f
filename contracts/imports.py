"""`flask import contracts` and `flask import placements` (DESIGN §5): all or nothing, the same
file twice changes nothing, every bad line named."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from consortium.core import audit
from consortium.core.extensions import db
from consortium.core.inputs import MAX_WEEKLY_PENCE, parse_id
from consortium.core.models import Authority, Consortium
from consortium.core.sql import new_ids
from consortium.core.tabular import (
    ImportResult,
    RowErrors,
    Table,
    parse_date,
    parse_decimal,
    parse_pence,
    too_long,
)
from contracts import placements as rules
from contracts import returns, summaries
from contracts.cofunding_imports import (
    PLACEMENT_CONTRIBUTION_COLUMNS,
    ContributionRow,
    apply_contributions,
    share_of,
)
from contracts.models import (
    MAX_BEDS,
    UNITS,
    Admission,
    BlockPrice,
    Contract,
    Indicator,
    Lot,
    MonitoringReturn,
    OutcomesFramework,
    Placement,
    PlacementFee,
    ReturnValue,
    ReturnVersion,
)
from contracts.transparency import ROUTES
from providers.models import Home, Provider, ProviderAlias

CONTRACT_COLUMNS = {
    "required": [
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
    ],
    # For the Transparency Code's register; a file without them leaves what is recorded as it is.
    # bed_night_price: a short-breaks block priced per bed-night, given instead of bed_week_price.
    "optional": ["description", "department", "value", "procurement_route", "review_date", "bed_night_price"],
}
MAX_CONTRACT_VALUE_PENCE = 100_000_000_000  # £1bn: above any consortium's contract
PLACEMENT_COLUMNS = {
    "required": [
        "authority_code",
        "child_ref",
        "contract_ref",
        "home_urn",
        "start_date",
        "end_date",
        "weekly_fee",
        "placement_type",
        "distance_miles",
    ],
    "optional": [
        "age_at_start",
        "need_level",
        "ssda903_code",
        "end_reason_code",
        "end_reason",
        *PLACEMENT_CONTRIBUTION_COLUMNS,
    ],
}
GENERAL_LOT = "General"


def _register_values(row, columns: frozenset[str], problems: list[str]) -> dict:
    """The register's fields a contracts file gives (only the columns it has)."""
    values = {}
    if "description" in columns:
        values["description"] = row["description"].strip() or None
    if "department" in columns:
        values["department"] = row["department"].strip() or None
    if "value" in columns:
        values["value_pence"] = None
        if row["value"].strip():
            try:
                values["value_pence"] = parse_pence(row["value"], "value", MAX_CONTRACT_VALUE_PENCE)
                if values["value_pence"] < 0:
                    problems.append("value cannot be negative")
            except ValueError as error:
                problems.append(str(error))
    if "procurement_route" in columns:
        route = row["procurement_route"].strip()
        if route and route not in ROUTES:
            problems.append(f"procurement_route {route!r} is not one of {', '.join(ROUTES)}")
        values["procurement_route"] = route or None
    if "review_date" in columns:
        values["review_date"] = _date(row, "review_date", "review_date", problems, required=False)
    problems += too_long(Contract, {k: v for k, v in values.items() if k in ("description", "department")})
    return values


def _date(row, column: str, label: str, problems: list[str], required: bool = True) -> date | None:
    if not row[column]:
        if required:
            problems.append(f"{label} is empty")
        return None
    try:
        return parse_date(row[column])
    except ValueError as error:
        problems.append(f"{label}: {error}")
        return None


# ---------------------------------------------------------------- contracts


def import_contracts(table: Table) -> ImportResult:
    errors = RowErrors()
    consortia = {c.ref: c for c in db.session.scalars(select(Consortium))}
    authorities = set(db.session.scalars(select(Authority.code)))
    existing = {c.ref: c for c in db.session.scalars(select(Contract).options(selectinload(Contract.homes)))}
    seen: dict[str, int] = {}
    parsed = []
    for row in table.rows:
        problems = []
        ref, kind = row["ref"].strip(), row["kind"].strip().lower()
        if not ref:
            problems.append("ref is empty")
        elif ref in seen:
            problems.append(f"contract {ref} appears again (first on line {seen[ref]})")
        if kind not in ("framework", "block"):
            problems.append(f"kind must be framework or block, not {row['kind']!r}")
        if not row["title"]:
            problems.append("title is empty")
        problems += too_long(Contract, {"ref": ref, "title": row["title"]})
        consortium = consortia.get(row["consortium_ref"].upper())
        if consortium is None:
            problems.append(f"unknown consortium {row['consortium_ref']!r}")
        owner = row["owner_code"].upper() or None
        if owner and owner not in authorities:
            problems.append(f"unknown authority {owner!r} as owner")
        start = _date(row, "start_date", "start_date", problems)
        end = _date(row, "end_date", "end_date", problems)
        max_end = _date(row, "max_end_date", "max_end_date", problems, required=False) or end
        if start and end and end < start:
            problems.append("end_date is before start_date")
        if end and max_end and max_end < end:
            problems.append("max_end_date is before end_date")
        homes = []
        for urn in [u.strip().upper() for u in row["home_urns"].split(";") if u.strip()]:
            home = db.session.scalar(select(Home).where(Home.urn == urn))
            if home is None:
                problems.append(f"unknown home {urn!r}")
            else:
                homes.append(home)
        beds, price, priced_per = None, None, "week"
        if kind == "block":
            beds = parse_id(row["beds"])
            if beds is None or not 0 < beds <= MAX_BEDS:
                problems.append(
                    f"beds must be a whole number above zero and at most {MAX_BEDS:,}, not {row['beds'][:20]!r}"
                )
                beds = None
            price, priced_per = _bed_price(row, problems)
            if not homes and not any("unknown home" in p for p in problems):
                problems.append("a block contract needs at least one home")
            if len({home.provider_id for home in homes}) > 1:
                problems.append("a block contract's homes must all be run by one provider")
        elif kind == "framework" and row["bed_night_price"].strip():
            problems.append("bed_night_price is for a block contract: a framework's prices are its admissions'")
        if ref in existing and kind and existing[ref].kind != kind:
            problems.append(f"{ref} is already a {existing[ref].kind}")
        register = _register_values(row, table.columns, problems)
        if problems:
            errors.add(row.line, "; ".join(problems))
            continue
        seen[ref] = row.line
        block = {"owner_code": owner, "beds": beds, "priced_per": priced_per} if kind == "block" else {}
        parsed.append((ref, kind, row["title"], consortium, start, end, max_end, block, price, homes, register))
    errors.raise_if_any()

    result = ImportResult(details={"homes_linked": 0, "providers_admitted": 0})
    with audit.import_batch(db.session):
        for ref, kind, title, consortium, start, end, max_end, block, price, homes, register in parsed:
            values = {
                "kind": kind,
                "title": title,
                "consortium_id": consortium.id,
                "start_date": start,
                "end_date": end,
                "max_end_date": max_end,
                **register,
            }
            if kind == "block":
                values.update(block, provider_id=homes[0].provider_id)
            contract = existing.get(ref)
            if contract is None:
                contract = Contract(ref=ref, **values)
                db.session.add(contract)
                result.added += 1
            elif any(getattr(contract, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(contract, key, value)
                result.updated += 1
            else:
                result.unchanged += 1
            db.session.flush()
            if kind == "block":
                _block_price(contract, price, start)
                for home in homes:
                    if home not in contract.homes:
                        contract.homes.append(home)
                        result.details["homes_linked"] += 1
            else:
                result.details["providers_admitted"] += _admit(contract, {home.provider_id for home in homes})
    audit.record_import(db.session, "Contract", table, result)
    return result


def _bed_price(row, problems: list[str]) -> tuple[int | None, str]:
    """A block row's price as kept, per bed-week, and what it is per: bed_week_price, or
    bed_night_price (priced per night: kept as the night's price × 7), never both."""
    week, night = row["bed_week_price"].strip(), row["bed_night_price"].strip()
    if week and night:
        problems.append("give bed_week_price or bed_night_price, not both")
        return None, "week"
    column, maximum = ("bed_night_price", MAX_WEEKLY_PENCE // 7) if night else ("bed_week_price", MAX_WEEKLY_PENCE)
    try:
        pence = parse_pence(row[column], column, maximum)
    except ValueError as error:
        problems.append(str(error))
        return None, "week"
    if pence <= 0:
        problems.append(f"{column} must be above zero")
        return None, "week"
    return (pence * 7, "night") if night else (pence, "week")


def _block_price(contract: Contract, pence: int, start: date) -> None:
    price = db.session.scalar(
        select(BlockPrice).where(BlockPrice.contract_id == contract.id, BlockPrice.effective_from == start)
    )
    if price is None:
        db.session.add(BlockPrice(contract_id=contract.id, weekly_pence=pence, effective_from=start))
    elif price.weekly_pence != pence:
        price.weekly_pence = pence


def _admit(contract: Contract, provider_ids: set[int]) -> int:
    """Admit providers not yet admitted to any lot of the framework to its lot "General"."""
    admitted = set(
        db.session.scalars(select(Admission.provider_id).join(Admission.lot).where(Lot.contract_id == contract.id))
    )
    missing = provider_ids - admitted
    if not missing:
        return 0
    lot = db.session.scalar(select(Lot).where(Lot.contract_id == contract.id, Lot.name == GENERAL_LOT))
    if lot is None:
        lot = Lot(contract_id=contract.id, name=GENERAL_LOT)
        db.session.add(lot)
        db.session.flush()
    for provider_id in sorted(missing):
        db.session.add(Admission(lot_id=lot.id, provider_id=provider_id, tier="Other"))
    db.session.flush()
    return len(missing)


# ---------------------------------------------------------------- placements


def _named(row) -> tuple[str, str | None, str | None]:
    """The authority code, contract ref and home URN a row names, as its placement holds them."""
    return row["authority_code"].upper(), row["contract_ref"].strip() or None, row["home_urn"].strip().upper() or None


def _placement_values(row, problems: list[str]) -> rules.PlacementValues | None:
    start = _date(row, "start_date", "start_date", problems)
    end = _date(row, "end_date", "end_date", problems, required=False)
    fee = distance = age = None
    if row["weekly_fee"]:
        try:
            fee = parse_pence(row["weekly_fee"], "weekly_fee")
        except ValueError as error:
            problems.append(str(error))
    if row["distance_miles"]:
        try:
            distance = parse_decimal(row["distance_miles"], "distance_miles").quantize(parse_decimal("0.1"))
            if distance < 0:
                problems.append("distance_miles cannot be negative")
        except ValueError as error:
            problems.append(str(error))
    if row["age_at_start"]:
        if row["age_at_start"].isdecimal() and int(row["age_at_start"]) <= 25:
            age = int(row["age_at_start"])
        else:
            problems.append(f"age_at_start {row['age_at_start']!r} is not an age in years")
    if start is None:
        return None
    code, ref, urn = _named(row)
    return rules.PlacementValues(
        authority_code=code,
        child_ref=row["child_ref"].strip(),
        contract_ref=ref,
        home_urn=urn,
        start_date=start,
        end_date=end,
        weekly_pence=fee,
        placement_type=row["placement_type"].strip().lower().replace(" ", "_"),
        distance_miles=distance,
        age_at_start=age,
        need_level=row["need_level"].strip().lower() or None,
        ssda903_code=row["ssda903_code"].strip().upper() or None,
        end_reason=row["end_reason"].strip() or None,
        end_reason_code=row["end_reason_code"].strip().upper() or None,
    )


def import_placements(table: Table) -> ImportResult:
    """A placement is identified by authority, child reference, contract and start date: a row
    matching one already recorded updates it (an end date now known, say), never adds it again."""
    errors = RowErrors()
    # What the file names, looked up once before its rows are checked one by one.
    codes, refs, urns = set(), set(), set()
    for row in table.rows:
        code, ref, urn = _named(row)
        codes.add(code)
        refs.add(ref)
        urns.add(urn)
    checker = rules.PlacementChecker(codes, refs - {None}, urns - {None})
    seen: dict[tuple, int] = {}
    checked, shares = [], []
    for row in table.rows:
        problems: list[str] = []
        values = _placement_values(row, problems)
        if values is not None:
            more, stored = checker.check(values)
            problems += more
            key = (values.authority_code, values.child_ref, values.contract_ref, values.start_date)
            if key in seen:
                problems.append(f"the same placement appears again (first on line {seen[key]})")
            seen.setdefault(key, row.line)
            if row["cofunder_ref"] and not problems:
                percent, weekly = share_of(
                    row["contribution_percent"],
                    row["contribution_weekly"],
                    problems,
                    PLACEMENT_CONTRIBUTION_COLUMNS[1:],
                )
                shares.append(
                    ContributionRow(row.line, key, row["cofunder_ref"].upper(), percent, weekly, key[3], None)
                )
        if problems:
            errors.add(row.line, "; ".join(problems))
            continue
        checked.append((row.line, stored))
    errors.raise_if_any()

    result = ImportResult()
    # The rules between placements are checked after writing: a savepoint takes it all back.
    savepoint = db.session.begin_nested()
    written: dict[int, tuple[int, dict]] = {}  # placement id -> (line, its columns)
    with audit.import_batch(db.session):
        existing = _existing_placements(
            {(s["columns"]["authority_code"], s["columns"]["child_ref"]) for _, s in checked}
        )
        new_rows, new_fees = [], []
        for line, stored in checked:
            columns = stored["columns"]
            key = (columns["authority_code"], columns["child_ref"], columns["contract_id"], columns["start_date"])
            placement = existing.get(key)
            if placement is None:
                new_rows.append((line, stored))
                continue
            changed = any(getattr(placement, k) != v for k, v in columns.items())
            for k, v in columns.items():
                setattr(placement, k, v)
            changed = rules.save_fee(placement, stored["fee"]) or changed
            result.updated += changed
            result.unchanged += not changed
            written[placement.id] = (line, columns)
        db.session.flush()
        # New placements in bulk: the ORM would hold every row as an object.
        for start in range(0, len(new_rows), 10_000):
            chunk = new_rows[start : start + 10_000]
            ids = new_ids(Placement.__table__, len(chunk))
            if ids is None:
                ids = db.session.scalars(
                    insert(Placement).returning(Placement.id, sort_by_parameter_order=True),
                    [{**stored["columns"], "version": 1} for _, stored in chunk],
                ).all()
            else:
                db.session.execute(
                    insert(Placement),
                    [
                        {**stored["columns"], "id": placement_id, "version": 1}
                        for placement_id, (_, stored) in zip(ids, chunk)
                    ],
                )
            for placement_id, (line, stored) in zip(ids, chunk):
                written[placement_id] = (line, stored["columns"])
                if stored["fee"] is not None:
                    new_fees.append(
                        {
                            "placement_id": placement_id,
                            "weekly_pence": stored["fee"],
                            "effective_from": stored["columns"]["start_date"],
                        }
                    )
        for start in range(0, len(new_fees), 10_000):
            db.session.execute(insert(PlacementFee), new_fees[start : start + 10_000])
        # The bulk inserts bypass the flush that keeps return obligations and the summaries current;
        # nothing before the earliest new start changed.
        since = min((stored["columns"]["start_date"] for _, stored in new_rows), default=None)
        returns.refresh_obligations(
            sorted({stored["columns"]["contract_id"] for _, stored in new_rows} - {None}), since=since
        )
        summaries.refresh_usage({stored["columns"]["authority_code"] for _, stored in new_rows}, since=since)
        summaries.refresh_block_nights({stored["columns"]["contract_id"] for _, stored in new_rows} - {None})
        result.added = len(new_rows)
        rules.problems_across_lines(written, checker, errors)
        if shares and not errors.errors:
            contributions = ImportResult()
            apply_contributions(shares, errors, contributions)
            result.details["contributions added"] = contributions.added
    if errors.errors:
        savepoint.rollback()
        errors.raise_if_any()
    savepoint.commit()
    db.session.expire_all()  # the bulk statements bypassed the identity map
    audit.record_import(db.session, "Placement", table, result)
    return result


def _existing_placements(children: set[tuple[str, str]]) -> dict[tuple, Placement]:
    """Placements already recorded for the children in a file (by authority and reference)."""
    found = {}
    refs = sorted({ref for _, ref in children})
    for start in range(0, len(refs), 5_000):
        query = (
            select(Placement)
            .options(selectinload(Placement.fees))
            .where(Placement.child_ref.in_(refs[start : start + 5_000]))
        )
        for p in db.session.scalars(query):
            if (p.authority_code, p.child_ref) in children:
                found[(p.authority_code, p.child_ref, p.contract_id, p.start_date)] = p
    return found


# ---------------------------------------------------------------- outcomes and returns

OUTCOME_COLUMNS = {
    "required": ["contract_ref", "indicator_code", "name", "unit", "higher_is_better", "target", "amber", "red"]
}
RETURN_COLUMNS = {"required": ["contract_ref", "provider", "period", "indicator_code", "value", "submitted_on"]}
TRUE, FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


def import_outcomes(table: Table) -> ImportResult:
    """Each contract's outcomes framework: its indicators, added or updated by code."""
    errors = RowErrors()
    contracts = {c.ref: c for c in db.session.scalars(select(Contract))}
    seen: dict[tuple, int] = {}
    parsed = []
    for row in table.rows:
        problems = []
        contract = contracts.get(row["contract_ref"].strip())
        if contract is None:
            problems.append(f"unknown contract {row['contract_ref']!r}")
        code = row["indicator_code"].strip().upper()
        if not code or len(code) > 20:
            problems.append("indicator_code must be 1 to 20 characters")
        key = (row["contract_ref"].strip(), code)
        if key in seen:
            problems.append(f"indicator {code} of {key[0]} appears again (first on line {seen[key]})")
        if not row["name"]:
            problems.append("name is empty")
        problems += too_long(Indicator, {"name": row["name"]})
        unit = row["unit"].strip().lower()
        if unit not in UNITS:
            problems.append(f"unit must be one of {', '.join(UNITS)}, not {row['unit']!r}")
        flag = row["higher_is_better"].strip().lower()
        if flag not in TRUE | FALSE:
            problems.append(f"higher_is_better must be true or false, not {row['higher_is_better']!r}")
        numbers = {}
        for column in ("target", "amber", "red"):
            try:
                numbers[column] = parse_decimal(row[column], column) if row[column] or column != "target" else None
            except ValueError as error:
                problems.append(str(error))
        higher = flag in TRUE
        if not problems and (numbers["red"] > numbers["amber"] if higher else numbers["red"] < numbers["amber"]):
            problems.append("the red threshold must be at or beyond the amber one, on the worse side")
        if problems:
            errors.add(row.line, "; ".join(problems))
            continue
        seen[key] = row.line
        parsed.append(
            (contract, {"code": code, "name": row["name"], "unit": unit, "higher_is_better": higher, **numbers})
        )
    errors.raise_if_any()

    result = ImportResult()
    with audit.import_batch(db.session):
        for contract, values in parsed:
            outcomes = db.session.scalar(select(OutcomesFramework).where(OutcomesFramework.contract_id == contract.id))
            if outcomes is None:
                outcomes = OutcomesFramework(name=f"{contract.ref} outcomes", contract_id=contract.id)
                db.session.add(outcomes)
                db.session.flush()
            indicator = next((i for i in outcomes.indicators if i.code == values["code"]), None)
            if indicator is None:
                outcomes.indicators.append(Indicator(position=len(outcomes.indicators), **values))
                result.added += 1
            elif any(getattr(indicator, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(indicator, k, v)
                result.updated += 1
            else:
                result.unchanged += 1
            db.session.flush()
    audit.record_import(db.session, "Indicator", table, result)
    return result


def import_returns(table: Table) -> ImportResult:
    """Historical returns, loaded as submitted and accepted on `submitted_on`. A return already
    accepted with the same values is unchanged; with other values it is an error."""
    errors = RowErrors()
    contracts = {c.ref: c for c in db.session.scalars(select(Contract))}
    frameworks = {
        o.contract_id: o
        for o in db.session.scalars(select(OutcomesFramework).where(OutcomesFramework.contract_id.is_not(None)))
    }
    providers = _provider_names()
    groups: dict[tuple, dict] = {}
    for row in table.rows:
        problems = []
        contract = contracts.get(row["contract_ref"].strip())
        outcomes = frameworks.get(contract.id) if contract else None
        if contract is None:
            problems.append(f"unknown contract {row['contract_ref']!r}")
        elif outcomes is None:
            problems.append(f"{contract.ref} has no outcomes framework")
        provider_id = providers.get(row["provider"].strip().lower())
        if provider_id is None:
            problems.append(f"unknown provider {row['provider']!r}")
        try:
            returns.parse_period(row["period"])
        except ValueError as error:
            problems.append(str(error))
        submitted = _date(row, "submitted_on", "submitted_on", problems)
        indicator = None
        if outcomes is not None:
            code = row["indicator_code"].strip().upper()
            indicator = next((i for i in outcomes.indicators if i.code == code), None)
            if indicator is None:
                problems.append(f"unknown indicator code {row['indicator_code']!r} for {contract.ref}")
        value = None
        if indicator is not None:
            try:
                value = returns.check_value(indicator, row["value"])
                if value is None:
                    problems.append(f"{indicator.code}: the value is empty")
            except ValueError as error:
                problems.append(str(error))
        if problems:
            errors.add(row.line, "; ".join(problems))
            continue
        key = (contract.id, provider_id, row["period"].strip().upper())
        group = groups.setdefault(key, {"line": row.line, "outcomes": outcomes, "values": {}, "submitted": submitted})
        if indicator.id in group["values"]:
            errors.add(
                row.line,
                f"{indicator.code} for {key[2]} appears again (first on line {group['values'][indicator.id][1]})",
            )
            continue
        if submitted != group["submitted"]:
            errors.add(row.line, f"submitted_on differs from line {group['line']} for the same return")
        group["values"][indicator.id] = (value, row.line)
    for (contract_id, provider_id, period), group in groups.items():
        missing = [i.code for i in group["outcomes"].indicators if i.id not in group["values"]]
        if missing:
            errors.add(group["line"], f"the {period} return has no value for {', '.join(missing)}")
    errors.raise_if_any()

    result = ImportResult()
    # Whether a provider owes a return is known only against the register: a savepoint takes
    # back what was written if any return turns out not to be owed.
    savepoint = db.session.begin_nested()
    with audit.import_batch(db.session):
        for (contract_id, provider_id, period), group in groups.items():
            outcomes = group["outcomes"]
            entry = next(
                (e for e in returns.owed(outcomes, group["submitted"], provider_id) if e.period == period), None
            )
            if entry is None:
                errors.add(
                    group["line"],
                    f"{db.session.get(Provider, provider_id).name} owes no return "
                    f"for {outcomes.contract.ref} in {period}",
                )
                continue
            values = {iid: value for iid, (value, _) in group["values"].items()}
            existing = entry.monitoring_return
            if existing is not None:
                same = (
                    existing.status == "accepted"
                    and {v.indicator_id: v.value for v in existing.current.values} == values
                )
                if same:
                    result.unchanged += 1
                else:
                    errors.add(
                        group["line"], f"the {period} return is already recorded ({existing.status}) with other values"
                    )
                continue
            monitoring_return = MonitoringReturn(
                contract_id=contract_id,
                provider_id=provider_id,
                period=period,
                quarter_start=entry.quarter_start,
                due_date=entry.due_date,
                status="accepted",
                submitted_on=group["submitted"],
                late=group["submitted"] > entry.due_date,
            )
            version = ReturnVersion(number=1, submitted_on=group["submitted"])
            version.values = [ReturnValue(indicator_id=iid, value=value) for iid, value in values.items()]
            monitoring_return.versions.append(version)
            db.session.add(monitoring_return)
            result.added += 1
    if errors.errors:
        savepoint.rollback()
        errors.raise_if_any()
    savepoint.commit()
    audit.record_import(db.session, "Monitoring return", table, result)
    return result


def _provider_names() -> dict[str, int]:
    names = {name.lower(): pid for pid, name in db.session.execute(select(Provider.id, Provider.name))}
    for pid, name in db.session.execute(select(ProviderAlias.provider_id, ProviderAlias.name)):
        names.setdefault(name.lower(), pid)
    return names
