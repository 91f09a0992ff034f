"""budgets; high-cost threshold

Revision ID: ea8f12fe23a7
Revises: 13e711d43647
Create Date: 2026-11-24 03:03:09.071258

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ea8f12fe23a7"
down_revision = "13e711d43647"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("placement_type", sa.String(length=30), nullable=False),
        sa.Column("weeks", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("unit_cost_pence", sa.Integer(), nullable=False),
        sa.CheckConstraint("weeks >= 0 AND unit_cost_pence >= 0", name=op.f("ck_budgets_not_negative")),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"], name=op.f("fk_budgets_authority_code_authorities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint(
            "authority_code",
            "financial_year",
            "placement_type",
            name=op.f("uq_budgets_authority_code_financial_year_placement_type"),
        ),
    )
    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_budgets_authority_code"), ["authority_code"], unique=False)

    with op.batch_alter_table("consortia", schema=None) as batch_op:
        batch_op.add_column(sa.Column("high_cost_weekly_pence", sa.Integer(), nullable=False, server_default="600000"))


def downgrade():
    with op.batch_alter_table("consortia", schema=None) as batch_op:
        batch_op.drop_column("high_cost_weekly_pence")

    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_budgets_authority_code"))

    op.drop_table("budgets")
