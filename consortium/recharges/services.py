"""Cost pools, their apportionment among members, and the statements that follow.

Services flush; the request or command commits once, so a statement run is issued whole or not
at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from consortium.core.access import scoped
from consortium.core.extensions import db
from consortium.core.formatting import day, money
from consortium.core.models import Cofunder, Consortium, Membership
from consortium.core.services import RuleBroken, authority_names
from consortium.core.sql import quarter_of
from consortium.recharges.apportion import (
    USAGE_BASES,
    ApportionmentError,
    Member,
    Share,
    apportion,
    share_percent,
)
from consortium.recharges.models import (
    COFUNDER_KEY,
    CostPool,
    FixedShare,
    Statement,
    StatementCounter,
)
from contracts import cofunding, usage
from contracts.models import Contract, FundingShare


@dataclass
class Preview:
    amount_pence: int
    basis: str
    shares: list[Share]
    days: dict[str, int]
    notes: list[str] = field(default_factory=list)
    fallback: str | None = None  # why a usage basis fell back to equal shares, if it did

    @property
    def total_usage(self) -> int:
        return sum(share.usage for share in self.shares)

    def percent(self, share: Share) -> Decimal:
        return share_percent(share, self.amount_pence)


def membership_days(consortium: Consortium, first: date, last: date) -> dict[str, int]:
    """Days each authority was a member within [first, last]."""
    days: dict[str, int] = {}
    for membership in db.session.scalars(select(Membership).where(Membership.consortium_id == consortium.id)):
        start = max(membership.joined, first)
        end = min(membership.left or last, last)
        if end >= start:
            days[membership.authority_code] = days.get(membership.authority_code, 0) + (end - start).days + 1
    return days


def preview(
    consortium: Consortium,
    first: date,
    last: date,
    amount_pence: int,
    basis: str,
    base_percent=0,
    fixed: dict[str, Decimal] | None = None,
    contract_id: int | None = None,
) -> Preview:
    """What each member would pay; writes nothing."""
    if last < first:
        raise RuleBroken("The last day must be on or after the first", "last_day")
    if amount_pence <= 0:
        raise RuleBroken("The amount must be above zero", "amount")
    earliest = db.session.scalar(select(func.min(Membership.joined)).where(Membership.consortium_id == consortium.id))
    days = membership_days(consortium, first, last)
    if earliest is None or first < earliest or not days:
        raise RuleBroken(
            f"The period is outside the consortium's life: its first member joined on {day(earliest)}"
            if earliest
            else "The consortium has no members",
            "first_day",
        )
    use: dict[str, int] = {}
    notes, fallback = [], None
    if basis == "shares":
        fixed, days = _funding_shares(contract_id, first, last, days)
        basis = "fixed"
    elif basis in USAGE_BASES:
        counted = (usage.placements_started if basis == "placements" else usage.bed_nights)(
            consortium.id, first, last, contract_id
        )
        use = {code: counted.get(code, 0) for code in days}
        if not any(use.values()):
            fallback = _fallback_note(basis, base_percent, first, last, contract_id)
            notes.append(fallback)
    members = [Member(code, days[code], use.get(code, 0), (fixed or {}).get(code)) for code in days]
    try:
        shares = apportion(amount_pence, members, basis, base_percent)
    except ApportionmentError as error:
        raise RuleBroken(str(error), "basis") from None
    if any(d < (last - first).days + 1 for d in days.values()):
        notes.append("Some members were members for only part of the period: their equal shares are by days.")
    return Preview(amount_pence, basis, shares, days, notes, fallback)


def _funding_shares(contract_id: int | None, first: date, last: date, days: dict[str, int]):
    """A contract's funding shares for a pool of its cost: the agreed percentages in force on
    the pool's first day (by payer key), and each payer's days (a member's days of membership;
    a co-funder's, the whole period). The shares may not change inside the period."""
    contract = db.session.get(Contract, contract_id) if contract_id else None
    shares = cofunding.funding_shares_on(contract, first) if contract else []
    if not shares:
        raise RuleBroken(
            f"{contract.ref if contract else 'The contract'} has no funding shares on {day(first)}", "basis"
        )
    if changes := [d for d in cofunding.funding_share_dates(contract) if first < d <= last]:
        raise RuleBroken(
            f"{contract.ref}'s funding shares change on {day(changes[0])}: make one pool for each period", "last_day"
        )
    fixed = {share.authority_code or f"{COFUNDER_KEY}{share.cofunder_id}": share.percent for share in shares}
    period = (last - first).days + 1
    held = {key: (days.get(key, 0) if not key.startswith(COFUNDER_KEY) else period) for key in fixed}
    if outside := sorted(key for key, held_days in held.items() if not held_days):
        raise RuleBroken(f"{outside[0]} holds a funding share but was not a member in the period", "basis")
    return fixed, held


def _fallback_note(basis: str, base_percent, first: date, last: date, contract_id: int | None) -> str:
    """Why a usage basis was shared equally, in words (DESIGN §4: no member had any usage)."""
    under = f"under {db.session.get(Contract, contract_id).ref}" if contract_id else "under the consortium's contracts"
    what = "placed a child" if basis == "placements" else "used a bed-night"
    shared = "the usage part is shared equally too" if base_percent else "the cost is shared equally"
    return f"No member {what} {under} from {day(first)} to {day(last)}, so {shared}."


def pool_preview(pool: CostPool) -> Preview:
    return preview(
        pool.consortium,
        pool.first_day,
        pool.last_day,
        pool.amount_pence,
        pool.basis,
        pool.base_percent,
        {share.authority_code: share.percent for share in pool.fixed_shares},
        pool.contract_id,
    )


def create_pool(
    consortium: Consortium,
    name: str,
    first: date,
    last: date,
    amount_pence: int,
    basis: str,
    base_percent=0,
    fixed: dict[str, Decimal] | None = None,
    notes: str | None = None,
    contract: Contract | None = None,
) -> CostPool:
    if not (name or "").strip():
        raise RuleBroken("Give the pool a name", "name")
    if basis != "fixed" and fixed:
        fixed = None
    preview(consortium, first, last, amount_pence, basis, base_percent, fixed, contract.id if contract else None)
    pool = CostPool(
        consortium=consortium,
        name=name.strip(),
        first_day=first,
        last_day=last,
        amount_pence=amount_pence,
        basis=basis,
        base_percent=Decimal(base_percent or 0),
        notes=(notes or "").strip() or None,
        contract=contract,
    )
    pool.fixed_shares = [FixedShare(authority_code=code, percent=percent) for code, percent in (fixed or {}).items()]
    db.session.add(pool)
    db.session.flush()
    return pool


def block_cost(contract: Contract, first: date, last: date) -> int:
    """A block's cost for the nights of [first, last] in its term: beds x price per bed-week / 7
    for each night, rounded once to the penny."""
    start, end = max(first, contract.start_date), min(last, contract.end_date)
    return usage.occupancy(contract, start, end).cost_pence if start <= end else 0


def create_block_pool(contract: Contract, first: date, last: date, name: str | None = None) -> CostPool:
    """A pool of a block's cost for a period: split by the block's funding shares when it has
    them (DESIGN §4c), or else, for a block the consortium itself owns, by bed-nights under it."""
    shared = bool(cofunding.funding_shares_on(contract, first))
    if contract.kind != "block" or (contract.owner_code is not None and not shared):
        raise RuleBroken(
            "Only a block contract with funding shares, or one the consortium itself owns, is shared this way",
            "contract_id",
        )
    amount = block_cost(contract, first, last)
    if amount <= 0:
        raise RuleBroken(f"{contract.ref} has no nights with a price between {day(first)} and {day(last)}", "first_day")
    return create_pool(
        contract.consortium,
        name or f"{contract.ref} cost, {day(first)} to {day(last)}",
        first,
        last,
        amount,
        "shares" if shared else "bed_nights",
        contract=contract,
    )


# ---------------------------------------------------------------- statements


def draft_statements(pool: CostPool) -> list[Statement]:
    """One draft statement per member, replacing earlier drafts; refused once any is issued."""
    if any(s.status != "draft" for s in pool.statements):
        raise RuleBroken("This pool's statements are issued: correct one with a credit note")
    with db.session.no_autoflush:  # deleting loads a draft's lines: none, but not before it is gone
        for old in list(pool.statements):
            pool.statements.remove(old)
            db.session.delete(old)
    db.session.flush()
    result = pool_preview(pool)
    drafts = [
        Statement(
            consortium_id=pool.consortium_id,
            **payer(share.code),
            amount_pence=share.amount,
            usage=share.usage,
            consortium_usage=result.total_usage,
            share_percent=result.percent(share),
            membership_days=result.days[share.code],
            note=result.fallback,
        )
        for share in result.shares
    ]
    pool.statements.extend(drafts)
    db.session.flush()
    return drafts


def payer(key: str) -> dict:
    """A statement's payer columns for an apportionment key: an authority code, or a co-funder."""
    if key.startswith(COFUNDER_KEY):
        return {"authority_code": None, "cofunder_id": int(key.removeprefix(COFUNDER_KEY))}
    return {"authority_code": key, "cofunder_id": None}


def payer_names(keys) -> dict[str, str]:
    """Payers as shown, "Name (code)", by apportionment key: authorities by code, co-funders by
    `cofunder:` and id (shown with their ref)."""
    keys = list(keys)
    ids = [int(k.removeprefix(COFUNDER_KEY)) for k in keys if k.startswith(COFUNDER_KEY)]
    names = {
        code: f"{name} ({code})"
        for code, name in authority_names(k for k in keys if not k.startswith(COFUNDER_KEY)).items()
    }
    for id_, name, ref in db.session.execute(
        select(Cofunder.id, Cofunder.name, Cofunder.ref).where(Cofunder.id.in_(ids))
    ):
        names[f"{COFUNDER_KEY}{id_}"] = f"{name} ({ref})"
    return names


def take_numbers(consortium: Consortium, year: int, count: int) -> range:
    """`count` consecutive numbers for a consortium's year. The UPDATE locks the counter row until
    the transaction ends, so a second run waits and then continues after the first."""
    dialect = db.session.get_bind().dialect.name
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(StatementCounter)
    db.session.execute(upsert.values(consortium_id=consortium.id, year=year, last_number=0).on_conflict_do_nothing())
    last = db.session.execute(
        update(StatementCounter)
        .where(StatementCounter.consortium_id == consortium.id, StatementCounter.year == year)
        .values(last_number=StatementCounter.last_number + count)
        .returning(StatementCounter.last_number)
    ).scalar_one()
    return range(last - count + 1, last + 1)


def statement_number(consortium: Consortium, year: int, n: int) -> str:
    return f"{consortium.ref}-{year}-{n:04d}"


def issuable_from(pool: CostPool) -> date | None:
    """The first day a pool's statements may be issued: when its shares depend on usage, the day
    after its period ends (until then usage can still change); any day (None) otherwise."""
    return pool.last_day + timedelta(days=1) if pool.basis in USAGE_BASES else None


def waits_for_usage(pool: CostPool, today: date) -> str | None:
    """What to tell a lead who would issue a usage pool's statements too early, or None."""
    first = issuable_from(pool)
    if first is None or today >= first:
        return None
    return f"Usage can still change until {day(pool.last_day)}; statements can be issued from {day(first)}"


@dataclass(frozen=True)
class Line:
    """One member's statement as it will be issued."""

    code: str
    usage: int
    consortium_usage: int
    share_percent: Decimal
    amount_pence: int


class FiguresChanged(RuleBroken):
    """The figures to issue are no longer those the lead checked."""


def issue_lines(pool: CostPool) -> tuple[list[Line], list[str]]:
    """What issuing would issue now, worked out afresh: each member's share from today's usage,
    or, for a pool already issued, its drafts (a replacement after a credit note) as they are."""
    if not any(s.status != "draft" for s in pool.statements):
        result = pool_preview(pool)
        return [
            Line(s.code, s.usage, result.total_usage, result.percent(s), s.amount) for s in result.shares
        ], result.notes
    drafts = sorted((s for s in pool.statements if s.status == "draft"), key=lambda s: s.payer_key)
    return [Line(s.payer_key, s.usage, s.consortium_usage, s.share_percent, s.amount_pence) for s in drafts], []


def fingerprint(lines: list[Line]) -> str:
    """A short digest of the figures shown, carried by the issue form: if they change before the
    lead presses the button, nothing is issued."""
    text = ";".join(f"{x.code},{x.usage},{x.consortium_usage},{x.share_percent},{x.amount_pence}" for x in lines)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def issue(pool: CostPool, on: date, seen: str | None = None) -> list[Statement]:
    """Issue the pool's statements: numbered, dated, fixed for good, with the figures worked out
    afresh (a pool not yet issued is drafted again first). With `seen`, the fingerprint of the
    figures the lead checked, nothing is issued if they have changed since."""
    if waiting := waits_for_usage(pool, on):
        raise RuleBroken(waiting)
    lines, _ = issue_lines(pool)
    if not lines:
        raise RuleBroken("Nothing to issue: there are no draft statements")
    if seen is not None and fingerprint(lines) != seen:
        raise FiguresChanged("The figures have changed since you checked them: nothing was issued. Check them again.")
    if not any(s.status != "draft" for s in pool.statements):
        draft_statements(pool)
    drafts = [s for s in pool.statements if s.status == "draft"]
    numbers = take_numbers(pool.consortium, on.year, len(drafts))
    for statement, n in zip(sorted(drafts, key=lambda s: s.payer_key), numbers):
        statement.status, statement.number, statement.issued_on = (
            "issued",
            statement_number(pool.consortium, on.year, n),
            on,
        )
    db.session.flush()
    return drafts


def mark_paid(statement: Statement, on: date, seen_version: int | None = None) -> None:
    if seen_version is not None and statement.version != seen_version:
        raise RuleBroken("This statement was changed by someone else. Check it and try again.")
    if statement.status != "issued" or statement.is_credit_note:
        raise RuleBroken("Only an issued statement can be marked paid")
    if on < statement.issued_on:
        raise RuleBroken("It cannot be paid before it was issued", "paid_on")
    statement.status, statement.paid_on = "paid", on
    db.session.flush()


def credit(
    statement: Statement, reason: str, corrected_pence: int | None, on: date
) -> tuple[Statement, Statement | None]:
    """Cancel an issued statement with a credit note (issued at once), and draft its
    replacement for the corrected amount, if any."""
    if statement.status == "draft" or statement.is_credit_note:
        raise RuleBroken("Only an issued statement can be credited")
    if db.session.scalar(select(Statement.id).where(Statement.credit_for_id == statement.id)):
        raise RuleBroken(f"{statement.number} has already been credited")
    if statement.is_contributions and corrected_pence:
        raise RuleBroken(
            "A contributions statement is replaced by issuing its quarter again, worked out afresh", "corrected_amount"
        )
    if not (reason or "").strip():
        raise RuleBroken("Give the reason for the credit note", "reason")
    if corrected_pence is not None and corrected_pence < 0:
        raise RuleBroken("The corrected amount cannot be negative", "corrected_amount")
    (n,) = take_numbers(statement.consortium, on.year, 1)
    same = {
        "consortium_id": statement.consortium_id,
        "pool": statement.pool,
        "authority_code": statement.authority_code,
        "cofunder_id": statement.cofunder_id,
        "first_day": statement.first_day,
        "last_day": statement.last_day,
    }
    note = Statement(
        **same,
        amount_pence=-statement.amount_pence,
        usage=statement.usage,
        consortium_usage=statement.consortium_usage,
        share_percent=statement.share_percent,
        membership_days=statement.membership_days,
        credit_for_id=statement.id,
        status="issued",
        number=statement_number(statement.consortium, on.year, n),
        issued_on=on,
        note=f"Credit note for {statement.number}: {reason.strip()}",
    )
    db.session.add(note)
    replacement = None
    if corrected_pence:
        replacement = Statement(
            **same,
            amount_pence=corrected_pence,
            usage=statement.usage,
            consortium_usage=statement.consortium_usage,
            share_percent=statement.share_percent,
            membership_days=statement.membership_days,
            note=f"Replaces {statement.number}",
        )
        db.session.add(replacement)
    db.session.flush()
    return note, replacement


def quarters(first: date, last: date) -> list[tuple[date, date]]:
    """Financial-year quarters covering [first, last]."""
    found = []
    start = quarter_of(first)[0]
    while start <= last:
        found.append(quarter_of(start))
        start = found[-1][1] + timedelta(days=1)
    return found


def describe(pool: CostPool) -> str:
    basis = {
        "placements": "placements started",
        "bed_nights": "bed-nights",
        "equal": "equal shares",
        "fixed": "agreed percentages",
        "shares": "the contract's funding shares",
    }[pool.basis]
    if pool.basis in USAGE_BASES and pool.base_percent:
        basis = f"{pool.base_percent.normalize():f}% equally, the rest by {basis}"
    else:
        basis = f"shared by {basis}" if pool.basis != "equal" else "shared in equal shares"
    where = f" under {pool.contract.ref}" if pool.contract_id else ""
    return f"{money(pool.amount_pence)}: {basis}{where}"


def member_usage_by_quarter(consortium: Consortium, code: str, today: date) -> list[tuple] | None:
    """A member's placements started and nights used under the consortium's contracts, beside
    the consortium's totals, per quarter, latest first, over at most the last two financial
    years: (first, last, started, all started, nights, all nights). A former member sees its own
    history, the quarters of its membership and no later; None when there are none."""
    periods = db.session.execute(
        select(Membership.joined, Membership.left).where(
            Membership.consortium_id == consortium.id, Membership.authority_code == code
        )
    ).all()
    since = max(min(joined for joined, _ in periods), date(today.year - 2, 4, 1))
    until = today if any(left is None or left >= today for _, left in periods) else max(left for _, left in periods)
    if until < since:
        return None
    figures = usage.quarterly(consortium.id, since, until)
    rows = []
    for first, last in quarters(since, until)[::-1]:
        mine = figures.get((first, code), (0, 0))
        every = [value for (start, _), value in figures.items() if start == first]
        rows.append((first, last, mine[0], sum(v[0] for v in every), mine[1], sum(v[1] for v in every)))
    return rows


def shared_blocks() -> list[Contract]:
    """The consortium's block contracts whose cost can be shared: those no member owns alone,
    and those with funding shares."""
    shared = Contract.id.in_(select(FundingShare.contract_id))
    return db.session.scalars(
        scoped(Contract)
        .select()
        .where(Contract.kind == "block", Contract.owner_code.is_(None) | shared)
        .order_by(Contract.ref)
    ).all()
