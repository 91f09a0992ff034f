"""two-factor sign-in: users' keys, consortia's requirement

Revision ID: 10c6efc6555e
Revises: 2790869af597
Create Date: 2026-11-24 04:21:53.374658

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "10c6efc6555e"
down_revision = "2790869af597"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases: a batch copy of consortia on SQLite would drop a table
    # that other rows refer to.
    op.add_column(
        "consortia", sa.Column("two_factor_required", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("users", sa.Column("totp_secret", sa.String(length=200), nullable=True))
    op.add_column("users", sa.Column("two_factor_since", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("two_factor_since")
        batch_op.drop_column("totp_secret")

    with op.batch_alter_table("consortia", schema=None) as batch_op:
        batch_op.drop_column("two_factor_required")
