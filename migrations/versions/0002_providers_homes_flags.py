"""providers, homes, inspections, judgements, flags, uploads

Revision ID: 291c9efeb395
Revises: 41f0e3aa6d15
Create Date: 2026-11-24 02:04:43.593655

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "291c9efeb395"
down_revision = "41f0e3aa6d15"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "judgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("scale", sa.String(length=40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("graded", sa.Boolean(), nullable=False),
        sa.Column("declines", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "(graded AND rank IS NOT NULL) OR (NOT graded AND rank IS NULL)", name=op.f("ck_judgements_rank_if_graded")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judgements")),
        sa.UniqueConstraint("name", name=op.f("uq_judgements_name")),
    )
    op.create_table(
        "homes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("urn", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("provision_type", sa.String(length=120), nullable=False),
        sa.Column("sector", sa.String(length=60), nullable=True),
        sa.Column("local_authority", sa.String(length=120), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("registered_places", sa.Integer(), nullable=True),
        sa.Column("registration_status", sa.String(length=40), nullable=False),
        sa.Column("registration_date", sa.Date(), nullable=True),
        sa.Column("web_link", sa.String(length=300), nullable=True),
        sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.CheckConstraint(
            "registered_places IS NULL OR registered_places >= 0", name=op.f("ck_homes_places_not_negative")
        ),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_homes_provider_id_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_homes")),
        sa.UniqueConstraint("urn", name=op.f("uq_homes_urn")),
    )
    # The rating scale as Ofsted has it today (rank 1 best; ungraded outcomes have no rank).
    op.bulk_insert(
        sa.table(
            "judgements",
            sa.column("name"),
            sa.column("scale"),
            sa.column("rank"),
            sa.column("graded"),
            sa.column("declines"),
        ),
        [
            {"name": name, "scale": scale, "rank": rank, "graded": graded, "declines": declines}
            for name, scale, rank, graded, declines in [
                ("Outstanding", "overall", 1, True, False),
                ("Good", "overall", 2, True, False),
                ("Requires improvement to be good", "overall", 3, True, False),
                ("Adequate", "overall", 3, True, False),
                ("Inadequate", "overall", 4, True, False),
                ("Not yet inspected", "overall", None, False, False),
                ("Improved effectiveness", "interim", None, False, False),
                ("Sustained effectiveness", "interim", None, False, False),
                ("Declined in effectiveness", "interim", None, False, True),
            ]
        ],
    )
    with op.batch_alter_table("homes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_homes_local_authority"), ["local_authority"], unique=False)
        batch_op.create_index(batch_op.f("ix_homes_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "provider_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_provider_aliases_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_aliases")),
        sa.UniqueConstraint("name", name=op.f("uq_provider_aliases_name")),
    )
    with op.batch_alter_table("provider_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_aliases_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("home_id", sa.Integer(), nullable=False),
        sa.Column("inspection_date", sa.Date(), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=True),
        sa.Column("judgement_id", sa.Integer(), nullable=False),
        sa.Column("publication_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["home_id"], ["homes.id"], name=op.f("fk_inspections_home_id_homes")),
        sa.ForeignKeyConstraint(
            ["judgement_id"], ["judgements.id"], name=op.f("fk_inspections_judgement_id_judgements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
        sa.UniqueConstraint("home_id", "inspection_date", name=op.f("uq_inspections_home_id_inspection_date")),
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspections_home_id"), ["home_id"], unique=False)

    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("home_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.Column("judgement_before", sa.String(length=80), nullable=True),
        sa.Column("judgement_after", sa.String(length=80), nullable=True),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.CheckConstraint("severity IN ('low', 'medium', 'high')", name=op.f("ck_flags_severity_known")),
        sa.CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name=op.f("ck_flags_status_known")),
        sa.ForeignKeyConstraint(["home_id"], ["homes.id"], name=op.f("fk_flags_home_id_homes")),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspections.id"], name=op.f("fk_flags_inspection_id_inspections")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_flags_provider_id_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flags_home_id"), ["home_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_flags_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index("uq_flags_kind_inspection", ["kind", "inspection_id"], unique=True)
        batch_op.create_index(
            "uq_flags_open_subject",
            ["kind", "subject"],
            unique=True,
            sqlite_where=sa.text("status <> 'resolved'"),
            postgresql_where=sa.text("status <> 'resolved'"),
        )

    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_uploads_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_uploads_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("companies_house_number", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("contact_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("contact_phone", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("contact_phone")
        batch_op.drop_column("contact_email")
        batch_op.drop_column("contact_name")
        batch_op.drop_column("companies_house_number")

    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uploads_user_id"))

    op.drop_table("uploads")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_flags_open_subject",
            sqlite_where=sa.text("status <> 'resolved'"),
            postgresql_where=sa.text("status <> 'resolved'"),
        )
        batch_op.drop_index("uq_flags_kind_inspection")
        batch_op.drop_index(batch_op.f("ix_flags_provider_id"))
        batch_op.drop_index(batch_op.f("ix_flags_home_id"))

    op.drop_table("flags")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspections_home_id"))

    op.drop_table("inspections")
    with op.batch_alter_table("provider_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_aliases_provider_id"))

    op.drop_table("provider_aliases")
    with op.batch_alter_table("homes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_homes_provider_id"))
        batch_op.drop_index(batch_op.f("ix_homes_local_authority"))

    op.drop_table("homes")
    op.drop_table("judgements")
