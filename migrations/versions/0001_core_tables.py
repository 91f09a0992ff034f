"""core tables: authorities, consortia, memberships, users, providers, audit events

Revision ID: 41f0e3aa6d15
Revises:
Create Date: 2026-11-24 01:50:02.966727

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "41f0e3aa6d15"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "authorities",
        sa.Column("code", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=False),
        sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.CheckConstraint(
            "latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name=op.f("ck_authorities_latitude_range")
        ),
        sa.CheckConstraint(
            "longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name=op.f("ck_authorities_longitude_range")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_authorities")),
    )
    op.create_table(
        "providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("name", name=op.f("uq_providers_name")),
    )
    op.create_table(
        "consortia",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lead_code", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(["lead_code"], ["authorities.code"], name=op.f("fk_consortia_lead_code_authorities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consortia")),
        sa.UniqueConstraint("ref", name=op.f("uq_consortia_ref")),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consortium_id", sa.Integer(), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("joined", sa.Date(), nullable=False),
        sa.Column("left", sa.Date(), nullable=True),
        sa.CheckConstraint('"left" IS NULL OR "left" >= joined', name=op.f("ck_memberships_left_after_joined")),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"], name=op.f("fk_memberships_authority_code_authorities")
        ),
        sa.ForeignKeyConstraint(
            ["consortium_id"], ["consortia.id"], name=op.f("fk_memberships_consortium_id_consortia")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "consortium_id", "authority_code", "joined", name=op.f("uq_memberships_consortium_id_authority_code_joined")
        ),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memberships_authority_code"), ["authority_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_memberships_consortium_id"), ["consortium_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("consortium_id", sa.Integer(), nullable=True),
        sa.Column("authority_code", sa.String(length=9), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_signed_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(role = 'admin' AND consortium_id IS NULL AND authority_code IS NULL AND provider_id IS NULL) OR (role = 'lead' AND consortium_id IS NOT NULL AND authority_code IS NULL AND provider_id IS NULL) OR (role = 'partner' AND authority_code IS NOT NULL AND consortium_id IS NULL AND provider_id IS NULL) OR (role = 'provider' AND provider_id IS NOT NULL AND consortium_id IS NULL AND authority_code IS NULL)",
            name=op.f("ck_users_organisation_matches_role"),
        ),
        sa.CheckConstraint("role IN ('admin', 'lead', 'partner', 'provider')", name=op.f("ck_users_role_known")),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"], name=op.f("fk_users_authority_code_authorities")
        ),
        sa.ForeignKeyConstraint(["consortium_id"], ["consortia.id"], name=op.f("fk_users_consortium_id_consortia")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_users_provider_id_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("session_token", name=op.f("uq_users_session_token")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_authority_code"), ["authority_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_consortium_id"), ["consortium_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("object_type", sa.String(length=60), nullable=False),
        sa.Column("object_id", sa.String(length=60), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_events_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_object", ["object_type", "object_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_user_id"), ["user_id"], unique=False)

    # The audit trail is append-only, enforced by the database itself.
    statements = {
        "sqlite": [
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
        ],
        "postgresql": [
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$",
            "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
        ],
    }
    for statement in statements.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_occurred_at"))
        batch_op.drop_index("ix_audit_events_object")

    op.drop_table("audit_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_events_append_only()")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_provider_id"))
        batch_op.drop_index(batch_op.f("ix_users_consortium_id"))
        batch_op.drop_index(batch_op.f("ix_users_authority_code"))

    op.drop_table("users")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_consortium_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_authority_code"))

    op.drop_table("memberships")
    op.drop_table("consortia")
    op.drop_table("providers")
    op.drop_table("authorities")
