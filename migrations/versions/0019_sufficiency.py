"""high-cost reviews of placements; placement end reasons coded as the SSDA903 return codes them;
the nightly sufficiency forecasts

Revision ID: c3a91d2e7f40
Revises: b7e4e57649db
Create Date: 2026-12-02 16:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3a91d2e7f40"
down_revision = "b7e4e57649db"
branch_labels = None
depends_on = None

CODES = (
    "CARPL",
    "PLACE",
    "LAREQ",
    "CREQB",
    "CREQO",
    "CHILD",
    "ALLEG",
    "STAND",
    "APPRR",
    "CLOSE",
    "CUSTOD",
    "OTHER",
    "E4A",
    "E4B",
    "E13",
    "E5",
    "E6",
    "E17",
    "E3",
    "E9",
    "E8",
)


def upgrade():
    op.create_table(
        "high_cost_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('continue', 'step_down', 'move')", name=op.f("ck_high_cost_reviews_outcome_known")
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placements.id"], name=op.f("fk_high_cost_reviews_placement_id_placements")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_high_cost_reviews_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_high_cost_reviews")),
    )
    op.create_index(op.f("ix_high_cost_reviews_placement_id"), "high_cost_reviews", ["placement_id"], unique=False)
    op.create_table(
        "sufficiency_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope_key", sa.String(length=20), nullable=False),
        sa.Column("placement_type", sa.String(length=30), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sufficiency_snapshots")),
        sa.UniqueConstraint(
            "scope_key",
            "placement_type",
            "as_of",
            name=op.f("uq_sufficiency_snapshots_scope_key_placement_type_as_of"),
        ),
    )
    # Added in place with its check (no copy of a table others refer to), as SQLite and PostgreSQL both take it.
    op.execute(
        "ALTER TABLE placements ADD COLUMN end_reason_code VARCHAR(6) CONSTRAINT ck_placements_end_reason_code_known"
        f" CHECK (end_reason_code IS NULL OR end_reason_code IN {CODES})"
    )
    # A reason already written as a code becomes the code; the text stays, as the note beside it.
    op.execute(
        "UPDATE placements SET end_reason_code = upper(trim(end_reason))"
        f" WHERE end_reason IS NOT NULL AND upper(trim(end_reason)) IN {CODES}"
    )


def downgrade():
    op.drop_table("sufficiency_snapshots")
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_placements_end_reason_code_known"), type_="check")
        batch_op.drop_column("end_reason_code")
    op.drop_index(op.f("ix_high_cost_reviews_placement_id"), table_name="high_cost_reviews")
    op.drop_table("high_cost_reviews")
