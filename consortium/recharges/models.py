"""Cost pools and recharge statements.

An issued statement never changes: the ORM refuses it, and database triggers refuse it on
SQLite and PostgreSQL alike (only marking it paid is allowed). A correction is a credit note: a
statement with a negative amount that references the original.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    DDL,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consortium.core.audit import Audited
from consortium.core.extensions import db
from consortium.core.formatting import day
from consortium.core.models import Authority, Cofunder, Consortium, utcnow

BASES = ("placements", "bed_nights", "equal", "fixed", "shares")
STATEMENT_STATUSES = ("draft", "issued", "paid")
# What an issued statement may never change (its status may go on to paid, with the date).
FIXED_COLUMNS = (
    "pool_id",
    "consortium_id",
    "authority_code",
    "cofunder_id",
    "first_day",
    "last_day",
    "number",
    "amount_pence",
    "usage",
    "consortium_usage",
    "share_percent",
    "membership_days",
    "issued_on",
    "credit_for_id",
)


class CostPool(Audited, db.Model):
    __tablename__ = "cost_pools"

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortia.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    amount_pence: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(12))
    base_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=0)
    # A pool made from a consortium-owned block: its cost, shared by bed-nights under it only.
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    consortium: Mapped[Consortium] = relationship()
    contract = relationship("Contract")
    fixed_shares: Mapped[list[FixedShare]] = relationship(
        cascade="all, delete-orphan", order_by="FixedShare.authority_code"
    )
    statements: Mapped[list[Statement]] = relationship(back_populates="pool", order_by="Statement.authority_code")

    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("last_day >= first_day", name="period_in_order"),
        CheckConstraint(f"basis IN {BASES}", name="basis_known"),
        CheckConstraint("base_percent BETWEEN 0 AND 100", name="base_percent_range"),
        CheckConstraint("basis <> 'shares' OR contract_id IS NOT NULL", name="shares_of_a_contract"),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "admin":
            return true()
        if user.role == "lead":
            return cls.consortium_id == user.consortium_id
        if user.role == "partner":
            return cls.id.in_(select(Statement.pool_id).where(Statement.authority_code == user.authority_code))
        if user.role == "cofunder":
            return cls.id.in_(
                select(Statement.pool_id).where(Statement.cofunder_id == user.cofunder_id, Statement.status != "draft")
            )
        return false()

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


class FixedShare(db.Model):
    """An agreed percentage of a `fixed` pool for one member."""

    __tablename__ = "fixed_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("cost_pools.id"), index=True)
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"))
    percent: Mapped[Decimal] = mapped_column(Numeric(7, 4))

    __table_args__ = (
        UniqueConstraint("pool_id", "authority_code"),
        CheckConstraint("percent >= 0", name="percent_not_negative"),
    )

    @classmethod
    def visible_to(cls, user):
        return cls.pool_id.in_(select(CostPool.id).where(CostPool.visible_to(user)))


class StatementCounter(db.Model):
    """The last statement number given per consortium and year: taken with an UPDATE that locks
    the row, so two leads issuing at once get different numbers and a rolled-back run leaves no gap."""

    __tablename__ = "statement_counters"

    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortia.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)

    @classmethod
    def visible_to(cls, user):
        return false()


class Statement(Audited, db.Model):
    """What one payer owes: a member's or a co-funder's share of one pool, or a co-funder's
    contributions to placements over a quarter (no pool: its lines say which placements).
    Draft, issued (numbered, fixed for good), then paid."""

    __tablename__ = "statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    consortium_id: Mapped[int] = mapped_column(ForeignKey("consortia.id"), index=True)
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("cost_pools.id"), index=True)
    authority_code: Mapped[str | None] = mapped_column(ForeignKey("authorities.code"), index=True)
    cofunder_id: Mapped[int | None] = mapped_column(ForeignKey("cofunders.id"), index=True)
    # A co-funder's contributions statement: the quarter it covers.
    first_day: Mapped[date | None] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(8), default="draft")
    amount_pence: Mapped[int] = mapped_column(Integer)
    usage: Mapped[int] = mapped_column(Integer, default=0)
    consortium_usage: Mapped[int] = mapped_column(Integer, default=0)
    share_percent: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    membership_days: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    credit_for_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"))
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    consortium: Mapped[Consortium] = relationship()
    pool: Mapped[CostPool | None] = relationship(back_populates="statements")
    authority: Mapped[Authority | None] = relationship()
    cofunder: Mapped[Cofunder | None] = relationship()
    credit_for: Mapped[Statement | None] = relationship(remote_side="Statement.id")
    lines: Mapped[list[StatementLine]] = relationship(order_by="StatementLine.id", cascade="all")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"status IN {STATEMENT_STATUSES}", name="status_known"),
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="numbered_when_issued"),
        CheckConstraint("credit_for_id IS NULL OR amount_pence < 0", name="credit_is_negative"),
        CheckConstraint("status <> 'paid' OR paid_on IS NOT NULL", name="paid_has_date"),
        CheckConstraint("(authority_code IS NULL) <> (cofunder_id IS NULL)", name="one_payer"),
        CheckConstraint(
            "pool_id IS NOT NULL OR (cofunder_id IS NOT NULL AND first_day IS NOT NULL AND last_day >= first_day)",
            name="pool_or_period",
        ),
    )

    @classmethod
    def visible_to(cls, user):
        if user.role == "partner":
            return (cls.authority_code == user.authority_code) & (cls.status != "draft")
        if user.role == "cofunder":
            return (cls.cofunder_id == user.cofunder_id) & (cls.status != "draft")
        if user.role == "lead":
            return cls.consortium_id == user.consortium_id
        return true() if user.role == "admin" else false()

    @property
    def is_credit_note(self) -> bool:
        return self.credit_for_id is not None

    @property
    def is_contributions(self) -> bool:
        return self.pool_id is None

    @property
    def payer(self):
        return self.authority if self.authority_code else self.cofunder

    @property
    def payer_key(self) -> str:
        """The payer as apportionment names it: an authority code, or `cofunder:` and an id."""
        return self.authority_code or f"{COFUNDER_KEY}{self.cofunder_id}"

    @property
    def title(self) -> str:
        if self.is_contributions:
            return f"Contributions to placements, {day(self.first_day)} to {day(self.last_day)}"
        return self.pool.name


COFUNDER_KEY = "cofunder:"


class StatementLine(db.Model):
    """One placement's part of a co-funder's contributions statement, as issued: written with
    the statement and never changed (database triggers refuse it)."""

    __tablename__ = "statement_lines"
    __audit_child_level__ = frozenset({"child_ref"})

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"))
    authority_code: Mapped[str] = mapped_column(ForeignKey("authorities.code"))
    child_ref: Mapped[str] = mapped_column(String(40))
    nights: Mapped[int] = mapped_column(Integer)
    amount_pence: Mapped[int] = mapped_column(Integer)

    @classmethod
    def visible_to(cls, user):
        return cls.statement_id.in_(select(Statement.id).where(Statement.visible_to(user)))


class IssuedStatementChanged(Exception):
    pass


@event.listens_for(Statement, "before_update")
def _refuse_changes_once_issued(_mapper, _connection, statement: Statement) -> None:
    """The ORM's half of immutability (the triggers below are the database's)."""
    state = inspect(statement)
    was = state.attrs.status.history.deleted
    previous_status = was[0] if was else statement.status
    if previous_status == "draft":
        return
    changed = [name for name in FIXED_COLUMNS if state.attrs[name].history.has_changes()]
    if changed or statement.status == "draft":
        raise IssuedStatementChanged(
            f"Statement {statement.number} is issued: it cannot change ({', '.join(changed) or 'status'})"
        )


@event.listens_for(Statement, "before_delete")
def _refuse_deleting_issued(_mapper, _connection, statement: Statement) -> None:
    if statement.status != "draft":
        raise IssuedStatementChanged(f"Statement {statement.number} is issued: it cannot be deleted")


_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FIXED_COLUMNS)
SQLITE_IMMUTABLE = [
    "CREATE TRIGGER statements_issued_fixed BEFORE UPDATE ON statements "
    f"WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR {_CHANGED}) "
    "BEGIN SELECT RAISE(ABORT, 'issued statements cannot change'); END",
    "CREATE TRIGGER statements_issued_kept BEFORE DELETE ON statements WHEN OLD.status <> 'draft' "
    "BEGIN SELECT RAISE(ABORT, 'issued statements cannot be deleted'); END",
]
_PG_CHANGED = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FIXED_COLUMNS)
POSTGRESQL_IMMUTABLE = [
    "CREATE FUNCTION statements_issued_fixed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'DELETE' THEN IF OLD.status <> 'draft' THEN "
    "RAISE EXCEPTION 'issued statements cannot be deleted'; END IF; RETURN OLD; END IF; "
    f"IF OLD.status <> 'draft' AND (NEW.status = 'draft' OR {_PG_CHANGED}) THEN "
    "RAISE EXCEPTION 'issued statements cannot change'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER statements_issued_fixed BEFORE UPDATE OR DELETE ON statements "
    "FOR EACH ROW EXECUTE FUNCTION statements_issued_fixed()",
]
LINES_KEPT = {
    "sqlite": [
        f"CREATE TRIGGER statement_lines_kept_{action.lower()} BEFORE {action} ON statement_lines "
        "BEGIN SELECT RAISE(ABORT, 'issued statements cannot change'); END"
        for action in ("UPDATE", "DELETE")
    ],
    "postgresql": [
        "CREATE FUNCTION statement_lines_kept() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'issued statements cannot change'; END $$",
        "CREATE TRIGGER statement_lines_kept BEFORE UPDATE OR DELETE ON statement_lines "
        "FOR EACH ROW EXECUTE FUNCTION statement_lines_kept()",
    ],
}
for _dialect, _statements in LINES_KEPT.items():
    for _statement in _statements:
        event.listen(StatementLine.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
for _statement in SQLITE_IMMUTABLE:
    event.listen(Statement.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRESQL_IMMUTABLE:
    event.listen(Statement.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
