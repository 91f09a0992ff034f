"""outcomes frameworks, indicators, monitoring returns; calendar quarters; flag keys

Revision ID: 9c97d827d74f
Revises: 856eded1303c
Create Date: 2026-11-24 02:30:37.742434

"""

from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9c97d827d74f"
down_revision = "856eded1303c"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "monitoring_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("quarter_start", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'accepted', 'returned')", name=op.f("ck_monitoring_returns_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_monitoring_returns_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_monitoring_returns_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["users.id"], name=op.f("fk_monitoring_returns_reviewed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_returns")),
        sa.UniqueConstraint(
            "contract_id", "provider_id", "period", name=op.f("uq_monitoring_returns_contract_id_provider_id_period")
        ),
    )
    with op.batch_alter_table("monitoring_returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_returns_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_monitoring_returns_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "outcomes_frameworks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("applies_from", sa.Date(), nullable=True),
        sa.Column("due_days", sa.Integer(), nullable=False),
        sa.CheckConstraint("due_days BETWEEN 0 AND 365", name=op.f("ck_outcomes_frameworks_due_days_range")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_outcomes_frameworks_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes_frameworks")),
        sa.UniqueConstraint("contract_id", name=op.f("uq_outcomes_frameworks_contract_id")),
    )
    op.create_table(
        "indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outcomes_framework_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
        sa.Column("target", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("amber", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("red", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("guidance", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("unit IN ('percent', 'count', 'days', 'pounds')", name=op.f("ck_indicators_unit_known")),
        sa.CheckConstraint(
            "(higher_is_better AND red <= amber) OR (NOT higher_is_better AND red >= amber)",
            name=op.f("ck_indicators_thresholds_in_order"),
        ),
        sa.ForeignKeyConstraint(
            ["outcomes_framework_id"],
            ["outcomes_frameworks.id"],
            name=op.f("fk_indicators_outcomes_framework_id_outcomes_frameworks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
        sa.UniqueConstraint("outcomes_framework_id", "code", name=op.f("uq_indicators_outcomes_framework_id_code")),
    )
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicators_outcomes_framework_id"), ["outcomes_framework_id"], unique=False
        )

    op.create_table(
        "return_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["return_id"], ["monitoring_returns.id"], name=op.f("fk_return_versions_return_id_monitoring_returns")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["users.id"], name=op.f("fk_return_versions_submitted_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_versions")),
        sa.UniqueConstraint("return_id", "number", name=op.f("uq_return_versions_return_id_number")),
    )
    with op.batch_alter_table("return_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_versions_return_id"), ["return_id"], unique=False)

    op.create_table(
        "return_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicators.id"], name=op.f("fk_return_values_indicator_id_indicators")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["return_versions.id"], name=op.f("fk_return_values_version_id_return_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_values")),
        sa.UniqueConstraint("version_id", "indicator_id", name=op.f("uq_return_values_version_id_indicator_id")),
    )
    with op.batch_alter_table("return_values", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_values_indicator_id"), ["indicator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_return_values_version_id"), ["version_id"], unique=False)

    # The calendar gains each day's financial-year quarter: refill it whole.
    op.execute("DELETE FROM calendar")
    with op.batch_alter_table("calendar", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quarter_start", sa.Date(), nullable=False))
        batch_op.add_column(sa.Column("quarter_end", sa.Date(), nullable=False))
        batch_op.create_index(batch_op.f("ix_calendar_quarter_start"), ["quarter_start"], unique=False)
    rows = []
    first = date(2000, 1, 1)
    for n in range((date(2060, 12, 31) - first).days + 1):
        day = first + timedelta(days=n)
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        following = date(start.year + (start.month + 3 > 12), (start.month + 2) % 12 + 1, 1)
        rows.append(
            {
                "day": day,
                "month_start": day.replace(day=1),
                "quarter_start": start,
                "quarter_end": following - timedelta(days=1),
            }
        )
    op.bulk_insert(
        sa.table(
            "calendar",
            sa.column("day", sa.Date),
            sa.column("month_start", sa.Date),
            sa.column("quarter_start", sa.Date),
            sa.column("quarter_end", sa.Date),
        ),
        rows,
    )

    # One open flag per kind and key (the subject, or the subject with a provider and quarter).
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_key", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("period", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("indicators", sa.String(length=200), nullable=True))
    op.execute("UPDATE flags SET subject_key = subject")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.alter_column("subject_key", existing_type=sa.String(length=120), nullable=False)
        batch_op.drop_index(batch_op.f("uq_flags_open_subject"), sqlite_where=sa.text("status <> 'resolved'"))
        batch_op.create_index(
            "uq_flags_open_subject",
            ["kind", "subject_key"],
            unique=True,
            sqlite_where=sa.text("status <> 'resolved'"),
            postgresql_where=sa.text("status <> 'resolved'"),
        )


def downgrade():
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_flags_open_subject",
            sqlite_where=sa.text("status <> 'resolved'"),
            postgresql_where=sa.text("status <> 'resolved'"),
        )
        batch_op.create_index(
            batch_op.f("uq_flags_open_subject"),
            ["kind", "subject"],
            unique=True,
            sqlite_where=sa.text("status <> 'resolved'"),
            postgresql_where=sa.text("status <> 'resolved'"),
        )
        batch_op.drop_column("indicators")
        batch_op.drop_column("period")
        batch_op.drop_column("subject_key")

    with op.batch_alter_table("calendar", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_quarter_start"))
        batch_op.drop_column("quarter_end")
        batch_op.drop_column("quarter_start")

    with op.batch_alter_table("return_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_values_version_id"))
        batch_op.drop_index(batch_op.f("ix_return_values_indicator_id"))

    op.drop_table("return_values")
    with op.batch_alter_table("return_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_versions_return_id"))

    op.drop_table("return_versions")
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicators_outcomes_framework_id"))

    op.drop_table("indicators")
    op.drop_table("outcomes_frameworks")
    with op.batch_alter_table("monitoring_returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_returns_provider_id"))
        batch_op.drop_index(batch_op.f("ix_monitoring_returns_contract_id"))

    op.drop_table("monitoring_returns")
