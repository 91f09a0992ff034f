"""Each role's home page at a glance: its headline figures and its tasks, added to the core's
home page through the `home_glance` panel (the core imports no domain)."""

from __future__ import annotations

from datetime import date

from flask import render_template
from sqlalchemy import exists, func

from audits.models import Flag
from consortium.core.access import scoped
from consortium.core.dates import financial_year
from consortium.core.extensions import db
from consortium.dashboards import services
from consortium.recharges.apportion import USAGE_BASES
from consortium.recharges.models import CostPool, Statement
from contracts import in_use, returns
from contracts.models import Contract, OutcomesFramework
from contracts.summaries import WITHIN_MILES

SEVERITIES = ("high", "medium", "low")


def at_a_glance(user) -> str:
    today = date.today()
    flags = dict(
        db.session.execute(
            scoped(Flag, user).select(Flag.severity, func.count()).where(Flag.open_for(user)).group_by(Flag.severity)
        ).all()
    )
    context = {"today": today, "flags": [(s, flags.get(s, 0)) for s in SEVERITIES], "open_flags": sum(flags.values())}
    if user.role == "lead":
        context.update(_lead(user, today))
    elif user.role == "partner":
        context.update(_partner(user, today))
    elif user.role == "provider":
        context.update(_provider(user, today))
    else:
        return ""
    return render_template("dashboards/_glance.html", **context)


def _placements(user, today: date) -> dict:
    used = services.usage_by(today, today, user=user).get(())
    return {
        "placed": used.open if used else 0,
        "within": used.within if used else 0,
        "known": used.known if used else 0,
        "within_miles": WITHIN_MILES,
    }


def _lead(user, today: date) -> dict:
    first = financial_year(today)[0]
    last = services.yesterday()
    blocks = services.block_occupancies(user.consortium, first, last) if last >= first else []
    capacity = sum(used.capacity for _, used in blocks)
    occupied = sum(used.occupied for _, used in blocks)
    _, good, total = services.judgements_in_use(today)
    issued = exists().where(Statement.pool_id == CostPool.id, Statement.status != "draft")
    ready = db.session.scalar(
        scoped(CostPool, user)
        .select(func.count())
        .where(~issued, CostPool.basis.not_in(USAGE_BASES) | (CostPool.last_day < today))
    )
    waiting = db.session.scalar(scoped(Flag, user).select(func.count()).where(Flag.status_seen_by(user) == "open"))
    return {
        **_placements(user, today),
        "utilisation": round(100 * occupied / capacity, 1) if capacity else None,
        "void_pence": sum(used.void_cost_pence for _, used in blocks),
        "year_from": first,
        "good": good,
        "judged_total": total,
        "ready_pools": ready,
        "to_review": services.returns_by_status(today).get("submitted", 0),
        "flags_waiting": waiting,
    }


def _partner(user, today: date) -> dict:
    year = financial_year(today)[0]
    until = services.yesterday()
    spend = sum(u.spend_pence for u in services.usage_by(year, until, user=user).values()) if until >= year else 0
    homes = in_use.homes_in_use(user, today)
    unpaid = services.recharges_summary()["unpaid"]
    return {
        **_placements(user, today),
        "spend_pence": spend,
        "spent_to": until,
        "year_from": year,
        "unpaid": unpaid,
        "in_concerns": homes.placed_in_concerns,
        "homes_of_concern": len(homes.concerns),
    }


def _provider(user, today: date) -> dict:
    contracts = scoped(Contract, user).all(Contract.ref)
    owed = returns.owed_many(OutcomesFramework.contract_id.in_([c.id for c in contracts]), today, user.provider_id)
    to_do = sorted((e for e in owed if e.status(today) in ("overdue", "due", "returned")), key=lambda e: e.due_date)
    return {"blocks": services.blocks_this_year(contracts, today), "to_do": to_do}
