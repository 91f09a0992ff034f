"""return obligations (who owes returns under frameworks) and covering indexes for the figures

Revision ID: 3d68a1a3a1f8
Revises: 10c6efc6555e
Create Date: 2026-11-24 04:54:28.121474

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3d68a1a3a1f8"
down_revision = "10c6efc6555e"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "return_obligations",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("quarter_start", sa.Date(), nullable=False),
        sa.Column("home_id", sa.Integer(), nullable=False),
        sa.Column("quarter_end", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_return_obligations_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(["home_id"], ["homes.id"], name=op.f("fk_return_obligations_home_id_homes")),
        sa.PrimaryKeyConstraint("contract_id", "quarter_start", "home_id", name=op.f("pk_return_obligations")),
    )
    with op.batch_alter_table("return_obligations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_obligations_home_id"), ["home_id"], unique=False)
    # The homes with a child placed under a framework during each quarter of its term, so far.
    op.execute("""
        INSERT INTO return_obligations (contract_id, quarter_start, home_id, quarter_end)
        SELECT DISTINCT c.id, q.quarter_start, p.home_id, q.quarter_end
        FROM contracts c
        JOIN calendar q ON q.day = q.quarter_start AND q.quarter_start <= c.end_date AND q.quarter_end >= c.start_date
        JOIN placements p ON p.contract_id = c.id AND p.start_date <= q.quarter_end
             AND (p.end_date IS NULL OR p.end_date > q.quarter_start)
        WHERE c.kind = 'framework' AND p.home_id IS NOT NULL
    """)

    op.create_index(
        "ix_calendar_quarters",
        "calendar",
        ["quarter_start", "quarter_end"],
        sqlite_where=sa.text("day = quarter_start"),
        postgresql_where=sa.text("day = quarter_start"),
    )

    with op.batch_alter_table("placement_fees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placement_fees_placement_id"))
        batch_op.create_index(
            "ix_placement_fees_placement_cover", ["placement_id", "effective_from", "weekly_pence"], unique=False
        )

    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placements_authority_code"))
        batch_op.drop_index(batch_op.f("ix_placements_contract_dates"))
        batch_op.create_index(
            "ix_placements_contract_dates",
            ["contract_id", "start_date", "end_date", "authority_code", "placement_type", "home_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_placements_authority_dates",
            ["authority_code", "start_date", "end_date", "placement_type", "contract_id"],
            unique=False,
        )
        # A child's other placements are found by both of its keys, never by the authority's dates.
        batch_op.drop_index("ix_placements_child")
        batch_op.create_index(
            "ix_placements_child", ["authority_code", "child_ref", "start_date", "end_date"], unique=False
        )


def downgrade():
    op.drop_index("ix_calendar_quarters", table_name="calendar")
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_index("ix_placements_child")
        batch_op.create_index("ix_placements_child", ["authority_code", "child_ref"], unique=False)
        batch_op.drop_index("ix_placements_authority_dates")
        batch_op.drop_index("ix_placements_contract_dates")
        batch_op.create_index(
            batch_op.f("ix_placements_contract_dates"), ["contract_id", "start_date", "end_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_placements_authority_code"), ["authority_code"], unique=False)

    with op.batch_alter_table("placement_fees", schema=None) as batch_op:
        batch_op.drop_index("ix_placement_fees_placement_cover")
        batch_op.create_index(batch_op.f("ix_placement_fees_placement_id"), ["placement_id"], unique=False)

    with op.batch_alter_table("return_obligations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_obligations_home_id"))

    op.drop_table("return_obligations")
