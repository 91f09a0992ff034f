"""contracts, lots, admissions, prices, placements, calendar, contract flags

Revision ID: 856eded1303c
Revises: 291c9efeb395
Create Date: 2026-11-24 02:13:43.160438

"""

from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "856eded1303c"
down_revision = "291c9efeb395"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar")),
    )
    # One row per date, 2000-2060, so night-by-night questions are joins.
    first, days = date(2000, 1, 1), (date(2060, 12, 31) - date(2000, 1, 1)).days + 1
    op.bulk_insert(
        sa.table("calendar", sa.column("day", sa.Date), sa.column("month_start", sa.Date)),
        [{"day": d, "month_start": d.replace(day=1)} for d in (first + timedelta(days=n) for n in range(days))],
    )
    with op.batch_alter_table("calendar", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_month_start"), ["month_start"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("consortium_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("max_end_date", sa.Date(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("owner_code", sa.String(length=9), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("beds", sa.Integer(), nullable=True),
        sa.Column("underuse_window_nights", sa.Integer(), nullable=False),
        sa.Column("underuse_threshold_percent", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind = 'framework' OR (beds > 0 AND provider_id IS NOT NULL)", name=op.f("ck_contracts_block_has_beds")
        ),
        sa.CheckConstraint("kind IN ('framework', 'block')", name=op.f("ck_contracts_kind_known")),
        sa.CheckConstraint(
            "end_date >= start_date AND max_end_date >= end_date", name=op.f("ck_contracts_term_in_order")
        ),
        sa.CheckConstraint("notice_days >= 0", name=op.f("ck_contracts_notice_not_negative")),
        sa.CheckConstraint(
            "underuse_threshold_percent BETWEEN 0 AND 100 AND underuse_window_nights BETWEEN 1 AND 366",
            name=op.f("ck_contracts_underuse_settings"),
        ),
        sa.ForeignKeyConstraint(["consortium_id"], ["consortia.id"], name=op.f("fk_contracts_consortium_id_consortia")),
        sa.ForeignKeyConstraint(["owner_code"], ["authorities.code"], name=op.f("fk_contracts_owner_code_authorities")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_contracts_provider_id_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("ref", name=op.f("uq_contracts_ref")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_consortium_id"), ["consortium_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "bed_outages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("beds", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint("beds > 0", name=op.f("ck_bed_outages_beds_positive")),
        sa.CheckConstraint("end_date IS NULL OR end_date > start_date", name=op.f("ck_bed_outages_dates_in_order")),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"], name=op.f("fk_bed_outages_contract_id_contracts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bed_outages")),
    )
    with op.batch_alter_table("bed_outages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bed_outages_contract_id"), ["contract_id"], unique=False)

    op.create_table(
        "block_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("weekly_pence", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name=op.f("ck_block_prices_dates_in_order")
        ),
        sa.CheckConstraint("weekly_pence > 0", name=op.f("ck_block_prices_price_positive")),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"], name=op.f("fk_block_prices_contract_id_contracts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_prices")),
        sa.UniqueConstraint("contract_id", "effective_from", name=op.f("uq_block_prices_contract_id_effective_from")),
    )
    with op.batch_alter_table("block_prices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_block_prices_contract_id"), ["contract_id"], unique=False)

    op.create_table(
        "break_dates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("break_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"], name=op.f("fk_break_dates_contract_id_contracts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_dates")),
        sa.UniqueConstraint("contract_id", "break_date", name=op.f("uq_break_dates_contract_id_break_date")),
    )
    with op.batch_alter_table("break_dates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_break_dates_contract_id"), ["contract_id"], unique=False)

    op.create_table(
        "contract_homes",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("home_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_contract_homes_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(["home_id"], ["homes.id"], name=op.f("fk_contract_homes_home_id_homes")),
        sa.PrimaryKeyConstraint("contract_id", "home_id", name=op.f("pk_contract_homes")),
    )
    op.create_table(
        "extension_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("extend_to", sa.Date(), nullable=True),
        sa.Column("previous_end_date", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(decision = 'extend') = (extend_to IS NOT NULL)", name=op.f("ck_extension_decisions_extend_has_date")
        ),
        sa.CheckConstraint("decision IN ('extend', 'expire')", name=op.f("ck_extension_decisions_decision_known")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_extension_decisions_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_extension_decisions_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extension_decisions")),
    )
    with op.batch_alter_table("extension_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_extension_decisions_contract_id"), ["contract_id"], unique=False)

    op.create_table(
        "lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"], name=op.f("fk_lots_contract_id_contracts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("contract_id", "name", name=op.f("uq_lots_contract_id_name")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lots_contract_id"), ["contract_id"], unique=False)

    op.create_table(
        "admissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_from", sa.Date(), nullable=True),
        sa.Column("status_until", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'suspended', 'withdrawn')", name=op.f("ck_admissions_status_known")),
        sa.CheckConstraint("tier IN ('Preferred', 'Reserve', 'Other')", name=op.f("ck_admissions_tier_known")),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_admissions_lot_id_lots")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_admissions_provider_id_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admissions")),
        sa.UniqueConstraint("lot_id", "provider_id", name=op.f("uq_admissions_lot_id_provider_id")),
    )
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admissions_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_admissions_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "placements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("child_ref", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("home_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=200), nullable=True),
        sa.Column("need_level", sa.String(length=20), nullable=True),
        sa.Column("placement_type", sa.String(length=30), nullable=False),
        sa.Column("ssda903_code", sa.String(length=4), nullable=True),
        sa.Column("age_at_start", sa.Integer(), nullable=True),
        sa.Column("distance_miles", sa.Numeric(precision=6, scale=1), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "age_at_start IS NULL OR age_at_start BETWEEN 0 AND 25", name=op.f("ck_placements_age_plausible")
        ),
        sa.CheckConstraint(
            "distance_miles IS NULL OR distance_miles >= 0", name=op.f("ck_placements_distance_not_negative")
        ),
        sa.CheckConstraint("end_date IS NULL OR end_date > start_date", name=op.f("ck_placements_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"], name=op.f("fk_placements_authority_code_authorities")
        ),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.id"], name=op.f("fk_placements_contract_id_contracts")),
        sa.ForeignKeyConstraint(["home_id"], ["homes.id"], name=op.f("fk_placements_home_id_homes")),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_placements_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placements")),
    )
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_placements_authority_code"), ["authority_code"], unique=False)
        batch_op.create_index("ix_placements_child", ["authority_code", "child_ref"], unique=False)
        batch_op.create_index("ix_placements_contract_dates", ["contract_id", "start_date", "end_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_placements_home_id"), ["home_id"], unique=False)

    op.create_table(
        "placement_fees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("weekly_pence", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.CheckConstraint("weekly_pence > 0", name=op.f("ck_placement_fees_fee_positive")),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placements.id"], name=op.f("fk_placement_fees_placement_id_placements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_fees")),
        sa.UniqueConstraint(
            "placement_id", "effective_from", name=op.f("uq_placement_fees_placement_id_effective_from")
        ),
    )
    with op.batch_alter_table("placement_fees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_placement_fees_placement_id"), ["placement_id"], unique=False)

    op.create_table(
        "prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("need_level", sa.String(length=20), nullable=False),
        sa.Column("weekly_pence", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name=op.f("ck_prices_dates_in_order")
        ),
        sa.CheckConstraint("weekly_pence > 0", name=op.f("ck_prices_price_positive")),
        sa.ForeignKeyConstraint(["admission_id"], ["admissions.id"], name=op.f("fk_prices_admission_id_admissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prices")),
        sa.UniqueConstraint(
            "admission_id",
            "need_level",
            "effective_from",
            name=op.f("uq_prices_admission_id_need_level_effective_from"),
        ),
    )
    with op.batch_alter_table("prices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prices_admission_id"), ["admission_id"], unique=False)

    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contract_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("window_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("window_end", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("utilisation", sa.Numeric(precision=5, scale=1), nullable=True))
        batch_op.add_column(sa.Column("bed_nights", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("void_bed_nights", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pence", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolved_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("resolved_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolution_note", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_flags_contract_id"), ["contract_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_flags_contract_id_contracts"), "contracts", ["contract_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_flags_resolved_by_id_users"), "users", ["resolved_by_id"], ["id"])


def downgrade():
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_flags_resolved_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_flags_contract_id_contracts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_flags_contract_id"))
        batch_op.drop_column("resolution_note")
        batch_op.drop_column("resolved_by_id")
        batch_op.drop_column("resolved_on")
        batch_op.drop_column("pence")
        batch_op.drop_column("void_bed_nights")
        batch_op.drop_column("bed_nights")
        batch_op.drop_column("utilisation")
        batch_op.drop_column("window_end")
        batch_op.drop_column("window_start")
        batch_op.drop_column("contract_id")

    with op.batch_alter_table("prices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prices_admission_id"))

    op.drop_table("prices")
    with op.batch_alter_table("placement_fees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placement_fees_placement_id"))

    op.drop_table("placement_fees")
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placements_home_id"))
        batch_op.drop_index("ix_placements_contract_dates")
        batch_op.drop_index("ix_placements_child")
        batch_op.drop_index(batch_op.f("ix_placements_authority_code"))

    op.drop_table("placements")
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admissions_provider_id"))
        batch_op.drop_index(batch_op.f("ix_admissions_lot_id"))

    op.drop_table("admissions")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lots_contract_id"))

    op.drop_table("lots")
    with op.batch_alter_table("extension_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extension_decisions_contract_id"))

    op.drop_table("extension_decisions")
    op.drop_table("contract_homes")
    with op.batch_alter_table("break_dates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_break_dates_contract_id"))

    op.drop_table("break_dates")
    with op.batch_alter_table("block_prices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_prices_contract_id"))

    op.drop_table("block_prices")
    with op.batch_alter_table("bed_outages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bed_outages_contract_id"))

    op.drop_table("bed_outages")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_provider_id"))
        batch_op.drop_index(batch_op.f("ix_contracts_consortium_id"))

    op.drop_table("contracts")
    with op.batch_alter_table("calendar", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_month_start"))

    op.drop_table("calendar")
