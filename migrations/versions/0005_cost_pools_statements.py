"""cost pools, fixed shares, statements and their numbering

Revision ID: 00e41fb07f7a
Revises: 9c97d827d74f
Create Date: 2026-11-24 02:41:09.447628

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "00e41fb07f7a"
down_revision = "9c97d827d74f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "statement_counters",
        sa.Column("consortium_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consortium_id"], ["consortia.id"], name=op.f("fk_statement_counters_consortium_id_consortia")
        ),
        sa.PrimaryKeyConstraint("consortium_id", "year", name=op.f("pk_statement_counters")),
    )
    op.create_table(
        "cost_pools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consortium_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=12), nullable=False),
        sa.Column("base_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "basis IN ('placements', 'bed_nights', 'equal', 'fixed')", name=op.f("ck_cost_pools_basis_known")
        ),
        sa.CheckConstraint("amount_pence > 0", name=op.f("ck_cost_pools_amount_positive")),
        sa.CheckConstraint("base_percent BETWEEN 0 AND 100", name=op.f("ck_cost_pools_base_percent_range")),
        sa.CheckConstraint("last_day >= first_day", name=op.f("ck_cost_pools_period_in_order")),
        sa.ForeignKeyConstraint(
            ["consortium_id"], ["consortia.id"], name=op.f("fk_cost_pools_consortium_id_consortia")
        ),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"], name=op.f("fk_cost_pools_contract_id_contracts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_pools")),
    )
    with op.batch_alter_table("cost_pools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cost_pools_consortium_id"), ["consortium_id"], unique=False)

    op.create_table(
        "fixed_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("percent", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.CheckConstraint("percent >= 0", name=op.f("ck_fixed_shares_percent_not_negative")),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"], name=op.f("fk_fixed_shares_authority_code_authorities")
        ),
        sa.ForeignKeyConstraint(["pool_id"], ["cost_pools.id"], name=op.f("fk_fixed_shares_pool_id_cost_pools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixed_shares")),
        sa.UniqueConstraint("pool_id", "authority_code", name=op.f("uq_fixed_shares_pool_id_authority_code")),
    )
    with op.batch_alter_table("fixed_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fixed_shares_pool_id"), ["pool_id"], unique=False)

    op.create_table(
        "statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("usage", sa.Integer(), nullable=False),
        sa.Column("consortium_usage", sa.Integer(), nullable=False),
        sa.Column("share_percent", sa.Numeric(precision=6, scale=2), nullable=False),
        sa.Column("membership_days", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("credit_for_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("(status = 'draft') = (number IS NULL)", name=op.f("ck_statements_numbered_when_issued")),
        sa.CheckConstraint("status <> 'paid' OR paid_on IS NOT NULL", name=op.f("ck_statements_paid_has_date")),
        sa.CheckConstraint("status IN ('draft', 'issued', 'paid')", name=op.f("ck_statements_status_known")),
        sa.CheckConstraint("credit_for_id IS NULL OR amount_pence < 0", name=op.f("ck_statements_credit_is_negative")),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"], name=op.f("fk_statements_authority_code_authorities")
        ),
        sa.ForeignKeyConstraint(
            ["credit_for_id"], ["statements.id"], name=op.f("fk_statements_credit_for_id_statements")
        ),
        sa.ForeignKeyConstraint(["pool_id"], ["cost_pools.id"], name=op.f("fk_statements_pool_id_cost_pools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statements")),
        sa.UniqueConstraint("number", name=op.f("uq_statements_number")),
    )
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statements_authority_code"), ["authority_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_statements_pool_id"), ["pool_id"], unique=False)

    # Issued statements never change (only their status may go on to paid), on every database.
    fixed = (
        "pool_id",
        "authority_code",
        "number",
        "amount_pence",
        "usage",
        "consortium_usage",
        "share_percent",
        "membership_days",
        "issued_on",
        "credit_for_id",
    )
    if op.get_bind().dialect.name == "sqlite":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in fixed)
        op.execute(
            "CREATE TRIGGER statements_issued_fixed BEFORE UPDATE ON statements "
            f"WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR {changed}) "
            "BEGIN SELECT RAISE(ABORT, 'issued statements cannot change'); END"
        )
        op.execute(
            "CREATE TRIGGER statements_issued_kept BEFORE DELETE ON statements WHEN OLD.status <> 'draft' "
            "BEGIN SELECT RAISE(ABORT, 'issued statements cannot be deleted'); END"
        )
    elif op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in fixed)
        op.execute(
            "CREATE FUNCTION statements_issued_fixed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'DELETE' THEN IF OLD.status <> 'draft' THEN RAISE EXCEPTION 'issued statements cannot be deleted'; END IF; RETURN OLD; END IF; "
            f"IF OLD.status <> 'draft' AND (NEW.status = 'draft' OR {changed}) THEN "
            "RAISE EXCEPTION 'issued statements cannot change'; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER statements_issued_fixed BEFORE UPDATE OR DELETE ON statements "
            "FOR EACH ROW EXECUTE FUNCTION statements_issued_fixed()"
        )


def downgrade():
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statements_pool_id"))
        batch_op.drop_index(batch_op.f("ix_statements_authority_code"))

    op.drop_table("statements")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION statements_issued_fixed()")
    with op.batch_alter_table("fixed_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fixed_shares_pool_id"))

    op.drop_table("fixed_shares")
    with op.batch_alter_table("cost_pools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_pools_consortium_id"))

    op.drop_table("cost_pools")
    op.drop_table("statement_counters")
