"""The nightly job's forecasts (DESIGN §4b): every consortium and member authority, each
placement type it has placed, worked out once a night after the checks and kept as of that day,
so that the sufficiency page reads them instead of working five years of placements out again."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, func, insert, or_, select

from audits import jobs
from consortium.core.extensions import db
from consortium.core.models import Authority, Consortium, Membership
from consortium.sufficiency import demand as dm
from consortium.sufficiency import forecast as fc
from consortium.sufficiency.models import SufficiencySnapshot
from contracts.models import Placement

STABILITY = ""  # the placement type of a scope's stability row


def key(scope: fc.Scope) -> str:
    return f"authority:{scope.authority_code}" if scope.authority_code else f"consortium:{scope.consortium_id}"


def _forecast_json(made: fc.Forecast, tested: fc.BackTest) -> str:
    return json.dumps(
        {
            "points": [[p.month_end.isoformat(), str(p.forecast), p.block_beds] for p in made.points],
            "open_now": made.open_now,
            "starts_last_year": made.starts_last_year,
            "median_days": made.median_days,
            "history": made.history,
            "back_test": {
                "made_on": tested.made_on.isoformat(),
                "rows": [[d.isoformat(), str(f), n] for d, f, n in tested.rows],
            },
        }
    )


def _forecast_from(scope: fc.Scope, placement_type: str, as_of: date, text: str) -> tuple[fc.Forecast, fc.BackTest]:
    data = json.loads(text)
    made = fc.Forecast(
        scope=scope,
        placement_type=placement_type,
        as_of=as_of,
        points=[fc.Point(date.fromisoformat(d), Decimal(f), b) for d, f, b in data["points"]],
        open_now=data["open_now"],
        starts_last_year=data["starts_last_year"],
        median_days=data["median_days"],
        history=data["history"],
    )
    tested = data["back_test"]
    rows = [(date.fromisoformat(d), Decimal(f), n) for d, f, n in tested["rows"]]
    return made, fc.BackTest(date.fromisoformat(tested["made_on"]), rows)


def _stability_json(years: list[dm.StabilityYear]) -> str:
    return json.dumps([[y.year, y.children, y.three_or_more, y.unplanned, y.ended, y.placements] for y in years])


def read(scope: fc.Scope, placement_type: str, today: date):
    """The newest kept forecast and back-test of the scope and type, and its stability, made on
    or before today; each None when none is kept."""
    rows = {
        row.placement_type: row
        for row in db.session.scalars(
            select(SufficiencySnapshot).where(
                SufficiencySnapshot.scope_key == key(scope),
                SufficiencySnapshot.placement_type.in_([placement_type, STABILITY]),
                SufficiencySnapshot.as_of
                == select(func.max(SufficiencySnapshot.as_of))
                .where(SufficiencySnapshot.scope_key == key(scope), SufficiencySnapshot.as_of <= today)
                .scalar_subquery(),
            )
        )
    }
    forecast = rows.get(placement_type)
    stable = rows.get(STABILITY)
    return (
        _forecast_from(scope, placement_type, forecast.as_of, forecast.payload) if forecast else (None, None),
        [dm.StabilityYear(*values) for values in json.loads(stable.payload)] if stable else None,
    )


def scopes(on: date) -> list[fc.Scope]:
    """Every consortium, and every authority that is a member of one."""
    found = [fc.consortium_scope(c, on) for c in db.session.scalars(select(Consortium).order_by(Consortium.id))]
    members = select(Membership.authority_code).where(
        Membership.joined <= on, or_(Membership.left.is_(None), Membership.left >= on)
    )
    authorities = db.session.scalars(select(Authority).where(Authority.code.in_(members)).order_by(Authority.code))
    return found + [fc.authority_scope(a) for a in authorities]


def refresh(as_of: date) -> int:
    """Work out and keep every scope's forecasts (the types it has placed in the last five
    years) and stability as of the day; returns how many were kept."""
    year = as_of.year if as_of.month >= 4 else as_of.year - 1
    rows = []
    for scope in scopes(as_of):
        placed = db.session.scalars(
            select(Placement.placement_type)
            .where(
                Placement.authority_code.in_(scope.authority_codes),
                Placement.placement_type.in_(fc.KIND_OF_TYPE),
                Placement.start_date > fc.years_before(as_of, fc.HISTORY_YEARS),
            )
            .distinct()
        ).all()
        for placement_type in sorted(placed):
            made = fc.forecast(scope, placement_type, as_of)
            payload = _forecast_json(made, fc.back_test(scope, placement_type, as_of))
            rows.append({"scope_key": key(scope), "placement_type": placement_type, "as_of": as_of, "payload": payload})
        stable = _stability_json(dm.stability(scope, year))
        rows.append({"scope_key": key(scope), "placement_type": STABILITY, "as_of": as_of, "payload": stable})
    db.session.execute(delete(SufficiencySnapshot).where(SufficiencySnapshot.as_of == as_of))
    if rows:
        db.session.execute(insert(SufficiencySnapshot), rows)
    return len(rows)


def run_nightly(as_of: date, lease_seconds: int = jobs.LEASE_SECONDS) -> None:
    """After the checks: the forecasts as of the day, once, however many schedulers run."""
    jobs.run_job("sufficiency", as_of.isoformat(), lambda: _kept(as_of), lease_seconds)


def _kept(as_of: date) -> jobs.Outcome:
    jobs.log.info("sufficiency forecasts as of %s: %s kept", as_of, refresh(as_of))
    return jobs.Outcome()
