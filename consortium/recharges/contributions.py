"""Co-funders' statements of contributions (DESIGN §4c): what each co-funder owes a consortium
for a quarter towards the placements made under its contracts, issued as a numbered statement
with one line per placement. The same numbering, immutability and credit notes as recharge
statements: issuing a quarter again is possible only once its statement has been credited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from consortium.core.access import scoped
from consortium.core.extensions import db
from consortium.core.formatting import day, money
from consortium.core.models import Cofunder, Consortium
from consortium.core.services import RuleBroken
from consortium.core.sql import quarter_of, serialise
from consortium.recharges.models import Statement, StatementLine
from consortium.recharges.services import statement_number, take_numbers
from contracts import cofunding
from contracts.models import Contract, Contribution, FundingShare, Placement
from contracts.returns import period_label

QUARTERS_SHOWN = 4  # the lead's page: this quarter and the three before


def under_contracts_of(consortium: Consortium):
    """Placements a consortium's statements cover: those under its contracts (the lead sees
    them; a member's spot placements are its own to invoice)."""
    return Placement.contract_id.in_(select(Contract.id).where(Contract.consortium_id == consortium.id))


def live_statement(consortium: Consortium, cofunder_id: int, first: date) -> Statement | None:
    """The quarter's issued contributions statement to the co-funder that no credit note cancels."""
    credited = select(Statement.credit_for_id).where(Statement.credit_for_id.is_not(None))
    return db.session.scalar(
        select(Statement).where(
            Statement.consortium_id == consortium.id,
            Statement.cofunder_id == cofunder_id,
            Statement.pool_id.is_(None),
            Statement.first_day == first,
            Statement.credit_for_id.is_(None),
            Statement.id.not_in(credited),
        )
    )


@dataclass(frozen=True)
class QuarterDue:
    first: date
    last: date
    cofunder: Cofunder
    total_pence: int
    nights: int
    statement: Statement | None

    @property
    def name(self) -> str:
        return period_label(self.first)


def recent_quarters(consortium: Consortium, today: date) -> list[QuarterDue]:
    """Per quarter (latest first) and co-funder: what is due under the consortium's contracts,
    beside the statement issued for it, if any. One query per quarter."""
    found = []
    first = quarter_of(today)[0]
    issued = {
        (s.cofunder_id, s.first_day): s
        for s in db.session.scalars(
            select(Statement).where(
                Statement.consortium_id == consortium.id,
                Statement.pool_id.is_(None),
                Statement.credit_for_id.is_(None),
                Statement.id.not_in(select(Statement.credit_for_id).where(Statement.credit_for_id.is_not(None))),
            )
        )
    }
    cofunders = {c.id: c for c in db.session.scalars(select(Cofunder))}
    periods = []
    for _ in range(QUARTERS_SHOWN):
        periods.append(quarter_of(first))
        first = quarter_of(periods[-1][0] - timedelta(days=1))[0]
    for (q_first, q_last), due in zip(periods, cofunding.due_in_periods(periods, under_contracts_of(consortium))):
        keys = set(due) | {cid for cid, f in issued if f == q_first}
        for cofunder_id in sorted(keys, key=lambda cid: cofunders[cid].name):
            total, lines = due.get(cofunder_id, (0, []))
            found.append(
                QuarterDue(
                    q_first,
                    q_last,
                    cofunders[cofunder_id],
                    total,
                    sum(line.nights for line in lines),
                    issued.get((cofunder_id, q_first)),
                )
            )
    return found


def issue_contributions(consortium: Consortium, cofunder: Cofunder, quarter_first: date, on: date) -> Statement:
    """Issue a co-funder's statement for a quarter: numbered, dated, with its lines, fixed for
    good. Only after the quarter has ended, and once per quarter until a credit note cancels it."""
    first, last = quarter_of(quarter_first)
    if on <= last:
        after = day(last + timedelta(days=1))
        raise RuleBroken(f"{period_label(first)} ends on {day(last)}: its statement can be issued from {after}")
    serialise(db.session.connection(), "contributions statement", [f"{consortium.id}:{cofunder.id}:{first}"])
    if existing := live_statement(consortium, cofunder.id, first):
        raise RuleBroken(
            f"{cofunder.name}'s statement for {period_label(first)} is {existing.number}: "
            "credit it first to issue it again"
        )
    condition = under_contracts_of(consortium) & (Contribution.cofunder_id == cofunder.id)
    total, dues = cofunding.due_in_period(first, last, condition).get(cofunder.id, (0, []))
    if total <= 0:
        raise RuleBroken(f"{cofunder.name} owes nothing for {period_label(first)} under {consortium.ref}'s contracts")
    (n,) = take_numbers(consortium, on.year, 1)
    nights = sum(d.nights for d in dues)
    statement = Statement(
        consortium_id=consortium.id,
        cofunder_id=cofunder.id,
        first_day=first,
        last_day=last,
        amount_pence=total,
        usage=nights,
        consortium_usage=nights,
        share_percent=100,
        membership_days=(last - first).days + 1,
        status="issued",
        number=statement_number(consortium, on.year, n),
        issued_on=on,
        note=f"{len(dues)} placement(s), {nights:,} nights, {money(total)}",
    )
    statement.lines = [
        StatementLine(
            placement_id=d.placement_id,
            authority_code=d.authority_code,
            child_ref=d.child_ref,
            nights=d.nights,
            amount_pence=d.amount_pence,
        )
        for d in dues
    ]
    db.session.add(statement)
    db.session.flush()
    return statement


def funded() -> dict[str, list]:
    """What the signed-in co-funder's staff see: its contributions to placements, its shares of
    contracts and its statements, each loaded with what its page shows."""
    return {
        "placements": db.session.scalars(
            scoped(Contribution)
            .select()
            .options(joinedload(Contribution.placement).joinedload(Placement.authority))
            .order_by(Contribution.first_night.desc(), Contribution.id)
        ).all(),
        "shares": db.session.scalars(
            scoped(FundingShare)
            .select()
            .options(joinedload(FundingShare.contract))
            .order_by(FundingShare.effective_from.desc(), FundingShare.id)
        ).all(),
        "statements": db.session.scalars(
            scoped(Statement)
            .select()
            .options(joinedload(Statement.pool), selectinload(Statement.lines))
            .order_by(Statement.issued_on.desc(), Statement.id.desc())
        ).all(),
    }
