"""transparency register: a contract's description, department, value, procurement route and
review date; a provider's SME and voluntary-sector status

Revision ID: 7ddf1cd90e74
Revises: 16865f6fdade
Create Date: 2026-12-02 05:49:32

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7ddf1cd90e74"
down_revision = "16865f6fdade"
branch_labels = None
depends_on = None


def upgrade():
    # Added in place (no copy of the tables, whose rows other tables refer to).
    op.add_column("contracts", sa.Column("description", sa.String(length=1000), nullable=True))
    op.add_column("contracts", sa.Column("department", sa.String(length=120), nullable=True))
    op.add_column("contracts", sa.Column("value_pence", sa.BigInteger(), nullable=True))
    op.add_column("contracts", sa.Column("procurement_route", sa.String(length=60), nullable=True))
    op.add_column("contracts", sa.Column("review_date", sa.Date(), nullable=True))
    op.add_column("providers", sa.Column("sme", sa.Boolean(), nullable=True))
    op.add_column("providers", sa.Column("voluntary", sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("voluntary")
        batch_op.drop_column("sme")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        for column in ("review_date", "procurement_route", "value_pence", "department", "description"):
            batch_op.drop_column(column)
