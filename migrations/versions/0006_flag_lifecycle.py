"""flag history, acknowledgement and the reopen rule

Revision ID: c0197f4a7085
Revises: 00e41fb07f7a
Create Date: 2026-11-24 02:48:52.031389

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c0197f4a7085"
down_revision = "00e41fb07f7a"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "flag_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["flag_id"], ["flags.id"], name=op.f("fk_flag_events_flag_id_flags")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_flag_events_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_events")),
    )
    with op.batch_alter_table("flag_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_events_flag_id"), ["flag_id"], unique=False)

    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("acknowledgement_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("condition_cleared_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_foreign_key(
            batch_op.f("fk_flags_acknowledged_by_id_users"), "users", ["acknowledged_by_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_flags_acknowledged_by_id_users"), type_="foreignkey")
        batch_op.drop_column("version")
        batch_op.drop_column("condition_cleared_on")
        batch_op.drop_column("acknowledgement_note")
        batch_op.drop_column("acknowledged_by_id")
        batch_op.drop_column("acknowledged_at")

    with op.batch_alter_table("flag_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_events_flag_id"))

    op.drop_table("flag_events")
