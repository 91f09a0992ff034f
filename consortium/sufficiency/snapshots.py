"""The nightly job's forecasts (DESIGN §4b): every consortium and member authority, each
placement type it has placed, worked out once a night after the checks and kept as of that day,
so that the sufficiency page reads them instead of working five years of placements out again."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
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


def _scope_json(years: list[dm.StabilityYear], demand: dm.Demand) -> str:
    """A scope's stability by year, and its demand over the page's default period."""
    stability = [[y.year, y.children, y.three_or_more, y.unplanned, y.ended, y.placements] for y in years]
    return json.dumps({"stability": stability, "demand": asdict(demand)}, default=list)


@dataclass
class Kept:
    """What the nightly job kept for a scope and type: each None when nothing is kept."""

    forecast: fc.Forecast | None = None
    back_test: fc.BackTest | None = None
    stability: list[dm.StabilityYear] | None = None
    demand: dm.Demand | None = None  # over the default period as of `as_of`
    as_of: date | None = None


def read(scope: fc.Scope, placement_type: str, today: date) -> Kept:
    """The newest kept forecast and back-test of the scope and type, its stability and its
    demand, made on or before today."""
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
    kept = Kept()
    if placement_type in rows:
        row = rows[placement_type]
        kept.forecast, kept.back_test = _forecast_from(scope, placement_type, row.as_of, row.payload)
    if STABILITY in rows:
        data = json.loads(rows[STABILITY].payload)
        kept.stability = [dm.StabilityYear(*values) for values in data["stability"]]
        rows_of = {name: [tuple(r) for r in v] if isinstance(v, list) else v for name, v in data["demand"].items()}
        kept.demand, kept.as_of = dm.Demand(**rows_of), rows[STABILITY].as_of
    return kept


def default_period(today: date) -> tuple[date, date]:
    """The sufficiency page's period unless another is asked for: the 12 months up to yesterday."""
    last = today - timedelta(days=1)
    return last - timedelta(days=364), last


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
        first, last = default_period(as_of)
        kept = _scope_json(dm.stability(scope, year), dm.demand(scope, first, last))
        rows.append({"scope_key": key(scope), "placement_type": STABILITY, "as_of": as_of, "payload": kept})
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
