"""The figures of the dashboards. Every computation over placements and nights is a query in
`contracts.usage` or here; what is left in Python is arithmetic on a few totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from sqlalchemy import Date, bindparam, func, literal, or_, select

from audits.models import Flag
from consortium.core.access import Viewer, scoped, viewer
from consortium.core.dates import financial_year
from consortium.core.extensions import db
from consortium.core.formatting import money
from consortium.core.inputs import MAX_AMOUNT_PENCE, MAX_WEEKLY_PENCE, text_problem
from consortium.core.models import Authority, Consortium, Membership
from consortium.core.money import div_half_up
from consortium.core.services import RuleBroken
from consortium.core.sql import greatest, least
from consortium.core.tabular import parse_decimal, parse_pence
from consortium.dashboards.models import Budget
from consortium.recharges.models import Statement
from contracts import cofunding, in_use, returns, summaries, usage
from contracts.models import (
    PLACEMENT_TYPES,
    Contract,
    Lot,
    OutcomesFramework,
    Placement,
    PlacementFee,
    UsageSeries,
)
from contracts.referrals import figures as referral_figures
from providers.models import Home, Judgement
from providers.quality import current_graded, newest_graded


def _pence(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _open_on(on: date):
    return (Placement.start_date <= on) & or_(Placement.end_date.is_(None), Placement.end_date > on)


# ---------------------------------------------------------------- placements


def usage_by(first: date, last: date, *columns, user=None) -> dict[tuple, summaries.Usage]:
    """Placements open, started and active, distances and spend in a period, grouped (see
    `contracts.summaries.usage_by`)."""
    return summaries.usage_by(first, last, *columns, user=user)


def judgements_in_use(on: date) -> tuple[list, int, int]:
    """Placements open on a date by the current judgement of their home; and how many of all
    are in homes judged Good or better."""
    found = db.session.execute(_judgements_query(viewer()), {"on": on}).all()
    rows = [tuple(row[:3]) for row in found]
    total = sum(count for _, _, count in rows)
    good_or_better = sum(count for _, rank, count, good in found if rank is not None and rank <= good)
    return rows, good_or_better, total


# The dashboards' largest statements are built once per viewer and kept, with the days as bind
# parameters: building and keying them cost more than running them.


@lru_cache(maxsize=256)
def _judgements_query(who: Viewer):
    on = bindparam("on", type_=Date)
    used = (
        scoped(Placement, who)
        .select(Placement.home_id, func.count().label("placed"))
        .where(_open_on(on), Placement.home_id.is_not(None))
        .group_by(Placement.home_id)
        .subquery()
    )
    # Materialised: joined as a subquery, PostgreSQL looked each home's judgement up twice.
    judged = (
        select(used.c.placed, newest_graded(used.c.home_id, on).label("judgement_id"))
        .cte("judged")
        .prefix_with("MATERIALIZED")
    )
    good = select(Judgement.rank).where(Judgement.name == "Good").scalar_subquery()  # asked in the same statement
    return (
        select(
            func.coalesce(Judgement.name, "Not yet graded"),
            func.min(Judgement.rank),
            func.sum(judged.c.placed),
            good.label("good_rank"),
        )
        .select_from(judged)
        .outerjoin(Judgement, Judgement.id == judged.c.judgement_id)
        .group_by(Judgement.name)
        .order_by(func.min(Judgement.rank))
    )


@lru_cache(maxsize=1)
def _blocks_queries():
    """The blocks of a consortium in a period, and their occupancy over the part in their term."""
    first, last = bindparam("first", type_=Date), bindparam("last", type_=Date)
    in_period = (
        (Contract.consortium_id == bindparam("consortium"))
        & (Contract.kind == "block")
        & (Contract.start_date <= last)
        & (Contract.end_date >= first)
    )
    return (
        select(Contract).where(in_period).order_by(Contract.ref),
        usage.occupancies_query(in_period, greatest(Contract.start_date, first), least(Contract.end_date, last)),
    )


@lru_cache(maxsize=256)
def _returns_query(who: Viewer, provider_id: int | None):
    return returns.count_by_status_query(
        OutcomesFramework.contract_id.in_(scoped(Contract, who).select(Contract.id)), provider_id
    )


# ---------------------------------------------------------------- blocks and value for money


@dataclass
class BlockValue:
    contract: Contract
    first: date
    last: date
    occupied: int  # bed-nights
    utilisation: Decimal | None
    void_cost_pence: int
    cost_pence: int  # beds x price for every night, used or not
    placement_type: str
    average_weekly_pence: int | None  # comparable placements (its type, and its lot if it names one), same period
    comparison_pence: int | None  # the occupied nights bought at that average
    compared_placements: int = 0  # how many placements the average is of
    compared_with: str = ""  # which placements, in words

    @property
    def cost_per_occupied_week_pence(self) -> int | None:
        return div_half_up(self.cost_pence * 7, self.occupied) if self.occupied else None

    @property
    def saving_pence(self) -> int | None:
        """What the block saved (positive) or cost (negative) against buying its occupied nights."""
        return None if self.comparison_pence is None else self.comparison_pence - self.cost_pence


def block_occupancies(consortium: Consortium, first: date, last: date) -> list[tuple[Contract, usage.Occupancy]]:
    """The consortium's block contracts in [first, last], each with its occupancy over the part
    of that period in its term."""
    contracts_query, occupancies_query = _blocks_queries()
    params = {"consortium": consortium.id, "first": first, "last": last}
    contracts = db.session.scalars(contracts_query, params).all()
    used = usage.occupancies_from(occupancies_query, params)
    return [
        (c, used.get(c.id) or usage.Occupancy(max(first, c.start_date), min(last, c.end_date), 0, 0, 0, 0))
        for c in contracts
    ]


def blocks_this_year(contracts, today: date) -> list[tuple[Contract, usage.Occupancy]]:
    """The blocks among `contracts` that have begun, each with its occupancy this financial year to today."""
    first = financial_year(today)[0]
    blocks = [c for c in contracts if c.is_block and c.start_date < today]
    used = usage.occupancies(
        Contract.id.in_([c.id for c in blocks]),
        greatest(Contract.start_date, literal(first, Date)),
        least(Contract.end_date, literal(today, Date)),
    )
    return [
        (c, used.get(c.id) or usage.Occupancy(max(first, c.start_date), min(today, c.end_date), 0, 0, 0, 0))
        for c in blocks
    ]


def block_values(consortium: Consortium, first: date, last: date) -> list[BlockValue]:
    """Each block's occupancy and cost beside what its occupied nights would have cost at the
    average weekly fee of comparable placements by the members: of its type, and in the lot it
    names (`compared_lot`), or else every framework and spot placement of its type."""
    blocks = block_occupancies(consortium, first, last)
    members = select(Membership.authority_code).where(Membership.consortium_id == consortium.id)
    by_members = Placement.authority_code.in_(members)
    market = usage.spend_and_nights(first, last, by=(Placement.placement_type,), condition=by_members)
    named = {c.compared_lot for c, _ in blocks if c.compared_lot}
    # Lot by lot, where a block names one: framework placements of the consortium's lots of that name.
    in_lot = {
        name: usage.spend_and_nights(
            first,
            last,
            by=(Placement.placement_type,),
            condition=by_members
            & Placement.lot_id.in_(
                select(Lot.id).join(Lot.contract).where(Contract.consortium_id == consortium.id, Lot.name == name)
            ),
        )
        for name in named
    }
    counts = _comparable_counts(consortium, first, last, by_members, named)
    # The type most placed under each block is the type its nights are compared with.
    kinds: dict[int, str] = {}
    for contract_id, kind, _ in db.session.execute(
        select(Placement.contract_id, Placement.placement_type, func.count())
        .where(Placement.contract_id.in_([c.id for c, _ in blocks]))
        .group_by(Placement.contract_id, Placement.placement_type)
        .order_by(func.count(), Placement.placement_type.desc())
    ):
        kinds[contract_id] = kind
    values = []
    for contract, occupancy in blocks:
        start, end = max(first, contract.start_date), min(last, contract.end_date)
        kind = kinds.get(contract.id, "residential")
        spend, nights = (in_lot[contract.compared_lot] if contract.compared_lot else market).get((kind,), (0, 0))
        type_name = PLACEMENT_TYPES.get(kind, kind).lower()
        words = (
            f"{type_name} placements by the members in the {contract.compared_lot} lot"
            if contract.compared_lot
            else f"{type_name} framework and spot placements by the members"
        )
        values.append(
            BlockValue(
                contract,
                start,
                end,
                occupancy.occupied,
                occupancy.utilisation,
                occupancy.void_cost_pence,
                occupancy.cost_pence,
                kind,
                div_half_up(spend * 7, nights) if nights else None,
                div_half_up(spend * occupancy.occupied, nights) if nights else None,
                counts.get((contract.compared_lot, kind), 0) if nights else 0,
                words,
            )
        )
    return values


def _comparable_counts(consortium: Consortium, first: date, last: date, by_members, lots: set[str]) -> dict[tuple, int]:
    """How many framework and spot placements (or, per lot name, framework placements in that lot)
    of each type were open in the period: the number behind each average."""
    open_then = (Placement.start_date <= last) & (Placement.end_date.is_(None) | (Placement.end_date > first))
    paying = Placement.contract_id.is_(None) | Placement.contract_id.in_(
        select(Contract.id).where(Contract.kind == "framework")
    )
    found = {
        (None, kind): n
        for kind, n in db.session.execute(
            select(Placement.placement_type, func.count())
            .where(by_members, open_then, paying)
            .group_by(Placement.placement_type)
        )
    }
    if lots:
        for name, kind, n in db.session.execute(
            select(Lot.name, Placement.placement_type, func.count())
            .join(Lot, Lot.id == Placement.lot_id)
            .join(Lot.contract)
            .where(by_members, open_then, Contract.consortium_id == consortium.id, Lot.name.in_(lots))
            .group_by(Lot.name, Placement.placement_type)
        ):
            found[(name, kind)] = n
    return found


def high_cost_placements(consortium: Consortium, on: date) -> list:
    """Open placements under the consortium's contracts whose current weekly fee is at or above its threshold."""
    latest = (
        select(PlacementFee.placement_id, func.max(PlacementFee.effective_from).label("since"))
        .where(PlacementFee.effective_from <= on)
        .group_by(PlacementFee.placement_id)
        .subquery()
    )
    return db.session.execute(
        scoped(Placement)
        .select(Placement, PlacementFee.weekly_pence)
        .join(latest, latest.c.placement_id == Placement.id)
        .join(
            PlacementFee, (PlacementFee.placement_id == Placement.id) & (PlacementFee.effective_from == latest.c.since)
        )
        .where(_open_on(on), PlacementFee.weekly_pence >= consortium.high_cost_weekly_pence)
        .order_by(PlacementFee.weekly_pence.desc())
    ).all()


# ---------------------------------------------------------------- budget variance


@dataclass
class Variance:
    """A type's budget beside its spend: to date, and forecast to the year's end (open placements
    carried at today's fees), the net forecast split into a volume, a unit-cost and an income
    effect (DESIGN §4c): co-funders' contributions against those budgeted."""

    placement_type: str
    budget_weeks: Decimal
    budget_unit_pence: int
    actual_weeks: Decimal  # forecast for the whole year
    actual_pence: int  # gross, forecast for the whole year
    to_date_pence: int = 0
    has_budget: bool = False
    budget_contributions_pence: int = 0
    contributions_pence: int = 0  # forecast for the whole year
    contributions_to_date_pence: int = 0

    @property
    def budget_pence(self) -> int:
        return _pence(self.budget_weeks * self.budget_unit_pence)

    @property
    def budget_net_pence(self) -> int:
        return self.budget_pence - self.budget_contributions_pence

    @property
    def net_pence(self) -> int:
        return self.actual_pence - self.contributions_pence

    @property
    def actual_unit_pence(self) -> int | None:
        return _pence(self.actual_pence / self.actual_weeks) if self.actual_weeks else None

    @property
    def total_pence(self) -> int:
        """The net variance: (gross - contributions) - (budget weeks x unit cost - contributions budgeted)."""
        return self.net_pence - self.budget_net_pence

    @property
    def volume_pence(self) -> int:
        """(actual weeks - budget weeks) x budget unit cost."""
        return _pence((self.actual_weeks - self.budget_weeks) * self.budget_unit_pence)

    @property
    def income_pence(self) -> int:
        """-(contributions - contributions budgeted): more income than budgeted is an underspend."""
        return -(self.contributions_pence - self.budget_contributions_pence)

    @property
    def unit_cost_pence(self) -> int:
        """(actual unit cost - budget unit cost) x actual weeks; the rest of the variance, so the
        three effects always add up to it to the penny."""
        return self.total_pence - self.volume_pence - self.income_pence


def variances(year: int, budgets, user=None) -> list[Variance]:
    """A partner's spend by placement type over a financial year against their budgets: to date
    (to yesterday, the last full day) and forecast to the year's end."""
    first, last = date(year, 4, 1), date(year + 1, 3, 31)
    actual = {
        key: (used.spend_pence, used.paid_nights)
        for key, used in usage_by(first, last, UsageSeries.placement_type, user=user).items()
        if used.paid_nights
    }
    until = min(last, yesterday())
    to_date = (
        {key: used.spend_pence for key, used in usage_by(first, until, UsageSeries.placement_type, user=user).items()}
        if until >= first
        else {}
    )
    mine = Placement.authority_code == viewer(user).authority_code
    income = cofunding.income_by(first, last, (Placement.placement_type,), mine)
    income_to_date = cofunding.income_by(first, until, (Placement.placement_type,), mine) if until >= first else {}
    by_type = {b.placement_type: b for b in budgets}
    kinds = sorted(set(by_type) | {key[0] for key in actual} | {key[0] for key in income})
    found = []
    for kind in kinds:
        budget = by_type.get(kind)
        pence, nights = actual.get((kind,), (0, 0))
        found.append(
            Variance(
                kind,
                budget.weeks if budget else Decimal(0),
                budget.unit_cost_pence if budget else 0,
                Decimal(nights) / 7,
                pence,
                to_date.get((kind,), 0),
                budget is not None,
                (budget.contributions_pence or 0) if budget else 0,
                income.get((kind,), 0),
                income_to_date.get((kind,), 0),
            )
        )
    return found


# ---------------------------------------------------------------- returns and recharges


def returns_by_status(today: date, provider_id: int | None = None) -> dict[str, int]:
    return dict(db.session.execute(_returns_query(viewer(), provider_id), {"as_of": today}).all())


def recharges_summary() -> dict[str, tuple[int, int]]:
    """Issued statements the user may see: (count, pence) issued and unpaid."""
    rows = db.session.execute(
        scoped(Statement)
        .select(Statement.status, func.count(), func.sum(Statement.amount_pence))
        .where(Statement.status != "draft")
        .group_by(Statement.status)
    ).all()
    by_status = {status: (count, int(total or 0)) for status, count, total in rows}
    issued = tuple(sum(by_status.get(s, (0, 0))[i] for s in ("issued", "paid")) for i in (0, 1))
    return {"issued": issued, "unpaid": by_status.get("issued", (0, 0))}


def yesterday() -> date:
    return date.today() - timedelta(days=1)


# ---------------------------------------------------------------- budgets and thresholds

MAX_BUDGET_WEEKS = 1_000_000  # placement-weeks of one type in a year: a thousand children all year is 52,000


def budgets_of(year: int) -> list[Budget]:
    """The budgets the user may see for a financial year (a partner's own authority's)."""
    return db.session.scalars(scoped(Budget).select().where(Budget.financial_year == year)).all()


class BudgetProblems(RuleBroken):
    """What was wrong with a budget as typed, by placement type."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def save_budgets(authority_code: str, year: int, typed: dict[str, tuple[str, ...]]) -> None:
    """A partner's budget for a financial year, by placement type: weeks, a weekly unit cost and
    (optionally) the contributions expected from co-funders, as typed. Saves each type given, or
    nothing when any is wrong (BudgetProblems)."""
    errors = []
    for kind, (weeks, unit, *rest) in typed.items():
        weeks, unit, income = weeks.strip(), unit.strip(), (rest[0] if rest else "").strip()
        if not weeks and not unit and not income:
            continue
        try:
            if (
                text_problem("weeks", weeks, 20)
                or text_problem("unit cost", unit, 20)
                or text_problem("income", income, 20)
            ):
                raise ValueError
            weeks_value, unit_pence = parse_decimal(weeks or "0"), parse_pence(unit or "0")
            income_pence = parse_pence(income or "0", "contributions", MAX_AMOUNT_PENCE)
            if (
                not 0 <= weeks_value <= MAX_BUDGET_WEEKS
                or weeks_value != weeks_value.quantize(Decimal("0.01"))
                or unit_pence < 0
                or income_pence < 0
            ):
                raise ValueError
        except ValueError:
            errors.append(
                f"{PLACEMENT_TYPES.get(kind, kind)}: enter weeks, a weekly unit cost and contributions of 0 or more "
                f"(at most {MAX_BUDGET_WEEKS:,} weeks, {money(MAX_WEEKLY_PENCE)} a week "
                f"and {money(MAX_AMOUNT_PENCE)} of contributions)"
            )
            continue
        budget = db.session.scalar(
            scoped(Budget).select().where(Budget.financial_year == year, Budget.placement_type == kind)
        )
        if budget is None:
            budget = Budget(authority_code=authority_code, financial_year=year, placement_type=kind)
            db.session.add(budget)
        budget.weeks, budget.unit_cost_pence, budget.contributions_pence = weeks_value, unit_pence, income_pence
    if errors:
        raise BudgetProblems(errors)
    db.session.flush()


def set_high_cost_threshold(consortium: Consortium, typed: str) -> int:
    """The weekly fee above which a consortium's open placements are listed for review."""
    try:
        pence = parse_pence(typed, "threshold") if not text_problem("threshold", typed, 20) else -1
    except ValueError:
        pence = -1
    if pence <= 0:
        raise RuleBroken(
            f"Enter the weekly fee above which placements are listed, in pounds, up to {money(MAX_WEEKLY_PENCE)}",
            "threshold",
        )
    consortium.high_cost_weekly_pence = pence
    db.session.flush()
    return pence


# ---------------------------------------------------------------- the dashboards' tables


def type_name(kind: str) -> str:
    return PLACEMENT_TYPES.get(kind, kind)


def lead_tables(user, first: date, last: date) -> dict[str, tuple[list[str], list[list]]]:
    """The lead dashboard's tables: header and rows, as shown and as exported."""
    names = dict(db.session.execute(select(Authority.code, Authority.name)).all())
    consortium = user.consortium
    tables = {}
    used = usage_by(first, last, UsageSeries.authority_code, UsageSeries.placement_type, user=user)
    tables["placements"] = (
        ["Authority", "Placement type", "Open at the end", "Started in the period"],
        [[names[a], type_name(t), u.open, u.started] for (a, t), u in used.items()],
    )
    income = cofunding.income_by(
        first, last, (Placement.authority_code, Placement.placement_type), Placement.visible_to(user)
    )
    tables["spend"] = (
        ["Authority", "Placement type", "Gross spend (£)", "Contributions (£)", "Net spend (£)", "Placement-weeks"],
        [
            [
                names[a],
                type_name(t),
                f"{u.spend_pence / 100:.2f}",
                f"{income.get((a, t), 0) / 100:.2f}",
                f"{(u.spend_pence - income.get((a, t), 0)) / 100:.2f}",
                f"{u.paid_nights / 7:.1f}",
            ]
            for (a, t), u in used.items()
            if u.paid_nights
        ],
    )
    distance: dict[str, list[int]] = {}
    for (a, _), u in used.items():
        known_within = distance.setdefault(a, [0, 0])
        known_within[0] += u.known
        known_within[1] += u.within
    tables["distance"] = (
        ["Authority", "Placements with a distance", f"Within {summaries.WITHIN_MILES} miles", "Share"],
        [
            [names[a], known, within, f"{100 * within / known:.1f}%" if known else "–"]
            for a, (known, within) in distance.items()
        ],
    )
    blocks = block_occupancies(consortium, max(first, financial_year(last)[0]), last)
    tables["blocks"] = (
        ["Block contract", "Beds", "Utilisation", "Void cost (£)"],
        [
            [
                c.ref,
                c.beds,
                f"{used.utilisation}%" if used.utilisation is not None else "–",
                f"{used.void_cost_pence / 100:.2f}",
            ]
            for c, used in blocks
        ],
    )
    judged, good, total = judgements_in_use(last)
    tables["judgements"] = (
        ["Current judgement of the home", "Placements open"],
        [[name, count] for name, _, count in judged],
    )
    flags = db.session.execute(
        scoped(Flag, user).select(Flag.kind, func.count()).where(Flag.open_for(user)).group_by(Flag.kind)
    ).all()
    tables["flags"] = (["Kind", "Open"], [[Flag(kind=k).kind_name, n] for k, n in sorted(flags)])
    referred = referral_figures.lead_figures(user, first, last)
    tables["referrals"] = (
        ["Month", *(route.capitalize() for route in referral_figures.ROUTES), "Placed"],
        [
            [f"{date(y, m, 1):%B %Y}", *(routes.get(r, 0) for r in referral_figures.ROUTES), sum(routes.values())]
            for (y, m), routes in referred.placed_by_month.items()
        ],
    )
    return tables, {
        "referrals": referred,
        "void_while_spot": db.session.execute(
            scoped(Flag, user)
            .select(func.count(), func.coalesce(func.sum(Flag.pence), 0))
            .where(Flag.kind == "block_void_while_spot", Flag.open_for(user))
        ).one(),
        "good": good,
        "total": total,
        "blocks": blocks,
        "interim_placed": in_use.placed_in_interim_declines(user, date.today()),
    }


def flags_on_homes_used(user, limit: int) -> list[Flag]:
    """The newest flags open for the user on homes their placements use."""
    homes_used = scoped(Placement, user).select(Placement.home_id).where(Placement.home_id.is_not(None))
    return db.session.scalars(
        scoped(Flag, user)
        .select()
        .where(Flag.open_for(user), Flag.home_id.in_(homes_used))
        .order_by(Flag.opened_on.desc())
        .limit(limit)
    ).all()


def provider_judgements(provider_id: int) -> list[tuple[str, int]]:
    """How many of a provider's homes hold each current judgement (or none yet)."""
    current = current_graded(homes=select(Home.id).where(Home.provider_id == provider_id))
    return db.session.execute(
        select(func.coalesce(current.c.name, "Not yet graded"), func.count())
        .select_from(Home)
        .outerjoin(current, current.c.home_id == Home.id)
        .where(Home.provider_id == provider_id)
        .group_by(current.c.name)
    ).all()
