"""fee reason: why a framework placement's fee is above the framework's price

Revision ID: 5b1e0c2d7a41
Revises: c719f66cbfa0
Create Date: 2026-12-02 02:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5b1e0c2d7a41"
down_revision = "c719f66cbfa0"
branch_labels = None
depends_on = None


def upgrade():
    # Added in place (no copy of the table, whose rows other tables refer to).
    op.add_column("placements", sa.Column("fee_reason", sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_column("fee_reason")
