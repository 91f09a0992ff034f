"""co-funders and their accounts; contributions to placements; contracts' funding shares;
statements to co-funders (of pools, and of contributions, with their lines); blocks priced per
bed-night; budgets' expected contributions

Revision ID: 76a8061c37bb
Revises: c3a91d2e7f40
Create Date: 2026-12-02 18:44:38

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "76a8061c37bb"
down_revision = "c3a91d2e7f40"
branch_labels = None
depends_on = None

ROLES = ("admin", "lead", "partner", "provider", "cofunder")
ORGANISATION = {
    "lead": "consortium_id",
    "partner": "authority_code",
    "provider": "provider_id",
    "cofunder": "cofunder_id",
}
FIXED_BEFORE = (
    "pool_id",
    "authority_code",
    "number",
    "amount_pence",
    "usage",
    "consortium_usage",
    "share_percent",
    "membership_days",
    "issued_on",
    "credit_for_id",
)
FIXED = FIXED_BEFORE + ("consortium_id", "cofunder_id", "first_day", "last_day")


def _organisations(roles) -> str:
    columns = [ORGANISATION[role] for role in roles if role in ORGANISATION]
    return " OR ".join(
        f"(role = '{role}' AND "
        + " AND ".join(f"{c} IS {'NOT ' if c == ORGANISATION.get(role) else ''}NULL" for c in columns)
        + ")"
        for role in roles
    )


def _statement_triggers(fixed) -> None:
    """Issued statements never change (only their status may go on to paid), on every database."""
    if op.get_bind().dialect.name == "sqlite":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in fixed)
        op.execute(
            "CREATE TRIGGER statements_issued_fixed BEFORE UPDATE ON statements "
            f"WHEN OLD.status <> 'draft' AND (NEW.status = 'draft' OR {changed}) "
            "BEGIN SELECT RAISE(ABORT, 'issued statements cannot change'); END"
        )
        op.execute(
            "CREATE TRIGGER statements_issued_kept BEFORE DELETE ON statements WHEN OLD.status <> 'draft' "
            "BEGIN SELECT RAISE(ABORT, 'issued statements cannot be deleted'); END"
        )
    else:
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in fixed)
        op.execute(
            "CREATE OR REPLACE FUNCTION statements_issued_fixed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'DELETE' THEN IF OLD.status <> 'draft' THEN "
            "RAISE EXCEPTION 'issued statements cannot be deleted'; END IF; RETURN OLD; END IF; "
            f"IF OLD.status <> 'draft' AND (NEW.status = 'draft' OR {changed}) THEN "
            "RAISE EXCEPTION 'issued statements cannot change'; END IF; RETURN NEW; END $$"
        )
        op.execute("DROP TRIGGER IF EXISTS statements_issued_fixed ON statements")
        op.execute(
            "CREATE TRIGGER statements_issued_fixed BEFORE UPDATE OR DELETE ON statements "
            "FOR EACH ROW EXECUTE FUNCTION statements_issued_fixed()"
        )


def upgrade():
    op.create_table(
        "cofunders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("consortium_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["consortium_id"], ["consortia.id"], name=op.f("fk_cofunders_consortium_id_consortia")),
        sa.CheckConstraint("kind IN ('health', 'education', 'other')", name=op.f("ck_cofunders_kind_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cofunders")),
        sa.UniqueConstraint("ref", name=op.f("uq_cofunders_ref")),
    )
    with op.batch_alter_table("cofunders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cofunders_consortium_id"), ["consortium_id"], unique=False)

    op.create_table(
        "funding_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=True),
        sa.Column("cofunder_id", sa.Integer(), nullable=True),
        sa.Column("basis_points", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(authority_code IS NULL) <> (cofunder_id IS NULL)", name=op.f("ck_funding_shares_one_payer")
        ),
        sa.CheckConstraint("basis_points BETWEEN 0 AND 10000", name=op.f("ck_funding_shares_share_in_range")),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"], name=op.f("fk_funding_shares_authority_code_authorities")
        ),
        sa.ForeignKeyConstraint(
            ["cofunder_id"], ["cofunders.id"], name=op.f("fk_funding_shares_cofunder_id_cofunders")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_funding_shares_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funding_shares")),
        sa.UniqueConstraint(
            "contract_id",
            "effective_from",
            "authority_code",
            "cofunder_id",
            name=op.f("uq_funding_shares_contract_id_effective_from_authority_code_cofunder_id"),
        ),
    )
    with op.batch_alter_table("funding_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_funding_shares_contract_id"), ["contract_id"], unique=False)

    op.create_table(
        "contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("cofunder_id", sa.Integer(), nullable=False),
        sa.Column("basis_points", sa.Integer(), nullable=True),
        sa.Column("weekly_pence", sa.Integer(), nullable=True),
        sa.Column("first_night", sa.Date(), nullable=False),
        sa.Column("last_night", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(basis_points IS NULL) <> (weekly_pence IS NULL) AND (basis_points IS NULL OR basis_points BETWEEN 1 AND 10000) AND (weekly_pence IS NULL OR weekly_pence > 0)",
            name=op.f("ck_contributions_one_share"),
        ),
        sa.CheckConstraint(
            "last_night IS NULL OR last_night >= first_night", name=op.f("ck_contributions_nights_in_order")
        ),
        sa.ForeignKeyConstraint(["cofunder_id"], ["cofunders.id"], name=op.f("fk_contributions_cofunder_id_cofunders")),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placements.id"], name=op.f("fk_contributions_placement_id_placements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
    )
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contributions_cofunder_id"), ["cofunder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contributions_placement_id"), ["placement_id"], unique=False)

    op.create_table(
        "statement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("child_ref", sa.String(length=40), nullable=False),
        sa.Column("nights", sa.Integer(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_code"], ["authorities.code"], name=op.f("fk_statement_lines_authority_code_authorities")
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placements.id"], name=op.f("fk_statement_lines_placement_id_placements")
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"], ["statements.id"], name=op.f("fk_statement_lines_statement_id_statements")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_lines")),
    )
    with op.batch_alter_table("statement_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statement_lines_statement_id"), ["statement_id"], unique=False)

    # Added with their checks in one statement, which SQLite and PostgreSQL both take.
    op.execute(
        "ALTER TABLE budgets ADD COLUMN contributions_pence BIGINT DEFAULT 0 NOT NULL "
        "CONSTRAINT ck_budgets_contributions_not_negative CHECK (contributions_pence >= 0)"
    )
    op.execute(
        "ALTER TABLE contracts ADD COLUMN priced_per VARCHAR(5) DEFAULT 'week' NOT NULL "
        "CONSTRAINT ck_contracts_priced_per_known CHECK (priced_per IN ('week', 'night'))"
    )

    with op.batch_alter_table("cost_pools", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_cost_pools_basis_known"), type_="check")
        batch_op.create_check_constraint(
            "basis_known", "basis IN ('placements', 'bed_nights', 'equal', 'fixed', 'shares')"
        )
        batch_op.create_check_constraint("shares_of_a_contract", "basis <> 'shares' OR contract_id IS NOT NULL")

    # A statement may now be a co-funder's, and a contributions statement has no pool: the table
    # is rebuilt on SQLite, so its triggers are dropped first and made again with the new columns.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS statements_issued_fixed")
        op.execute("DROP TRIGGER IF EXISTS statements_issued_kept")
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consortium_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cofunder_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("first_day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("last_day", sa.Date(), nullable=True))
    if not sqlite:
        op.execute("ALTER TABLE statements DISABLE TRIGGER statements_issued_fixed")
    op.execute(
        "UPDATE statements SET consortium_id = (SELECT consortium_id FROM cost_pools WHERE cost_pools.id = pool_id)"
    )
    if not sqlite:
        op.execute("ALTER TABLE statements ENABLE TRIGGER statements_issued_fixed")
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.alter_column("consortium_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("pool_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.alter_column("authority_code", existing_type=sa.VARCHAR(length=9), nullable=True)
        batch_op.create_index(batch_op.f("ix_statements_cofunder_id"), ["cofunder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_statements_consortium_id"), ["consortium_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_statements_cofunder_id_cofunders"), "cofunders", ["cofunder_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_statements_consortium_id_consortia"), "consortia", ["consortium_id"], ["id"]
        )
        batch_op.create_check_constraint("one_payer", "(authority_code IS NULL) <> (cofunder_id IS NULL)")
        batch_op.create_check_constraint(
            "pool_or_period",
            "pool_id IS NOT NULL OR (cofunder_id IS NOT NULL AND first_day IS NOT NULL AND last_day >= first_day)",
        )
    _statement_triggers(FIXED)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cofunder_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_cofunder_id"), ["cofunder_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_users_cofunder_id_cofunders"), "cofunders", ["cofunder_id"], ["id"])
        batch_op.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_organisation_matches_role"), type_="check")
        batch_op.create_check_constraint("role_known", f"role IN {tuple(ROLES)}")
        batch_op.create_check_constraint("organisation_matches_role", _organisations(ROLES))

    lines_kept = {
        "sqlite": [
            f"CREATE TRIGGER statement_lines_kept_{action.lower()} BEFORE {action} ON statement_lines "
            "BEGIN SELECT RAISE(ABORT, 'issued statements cannot change'); END"
            for action in ("UPDATE", "DELETE")
        ],
        "postgresql": [
            "CREATE FUNCTION statement_lines_kept() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'issued statements cannot change'; END $$",
            "CREATE TRIGGER statement_lines_kept BEFORE UPDATE OR DELETE ON statement_lines "
            "FOR EACH ROW EXECUTE FUNCTION statement_lines_kept()",
        ],
    }
    for statement in lines_kept.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_organisation_matches_role"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_users_cofunder_id_cofunders"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_users_cofunder_id"))
        batch_op.drop_column("cofunder_id")
        batch_op.create_check_constraint("role_known", f"role IN {tuple(ROLES[:-1])}")
        batch_op.create_check_constraint("organisation_matches_role", _organisations(ROLES[:-1]))

    # Co-funders' statements go with them; the others are kept as they were.
    if not sqlite:
        op.execute("DROP TRIGGER statement_lines_kept ON statement_lines")
        op.execute("DROP FUNCTION statement_lines_kept()")
        op.execute("ALTER TABLE statements DISABLE TRIGGER statements_issued_fixed")
    else:
        for trigger in ("statement_lines_kept_update", "statement_lines_kept_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TRIGGER IF EXISTS statements_issued_fixed")
        op.execute("DROP TRIGGER IF EXISTS statements_issued_kept")
    op.execute("DELETE FROM statement_lines")
    gone = "cofunder_id IS NOT NULL OR pool_id IN (SELECT id FROM cost_pools WHERE basis = 'shares')"
    op.execute(f"DELETE FROM statements WHERE credit_for_id IS NOT NULL AND ({gone})")
    op.execute(f"DELETE FROM statements WHERE {gone}")
    if not sqlite:
        op.execute("DROP TRIGGER statements_issued_fixed ON statements")
        op.execute("DROP FUNCTION statements_issued_fixed()")
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_statements_one_payer"), type_="check")
        batch_op.drop_constraint(op.f("ck_statements_pool_or_period"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_statements_consortium_id_consortia"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_statements_cofunder_id_cofunders"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_statements_consortium_id"))
        batch_op.drop_index(batch_op.f("ix_statements_cofunder_id"))
        batch_op.alter_column("authority_code", existing_type=sa.VARCHAR(length=9), nullable=False)
        batch_op.alter_column("pool_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("last_day")
        batch_op.drop_column("first_day")
        batch_op.drop_column("cofunder_id")
        batch_op.drop_column("consortium_id")
    _statement_triggers(FIXED_BEFORE)

    op.execute("DELETE FROM cost_pools WHERE basis = 'shares'")
    with op.batch_alter_table("cost_pools", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_cost_pools_shares_of_a_contract"), type_="check")
        batch_op.drop_constraint(op.f("ck_cost_pools_basis_known"), type_="check")
        batch_op.create_check_constraint("basis_known", "basis IN ('placements', 'bed_nights', 'equal', 'fixed')")

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_contracts_priced_per_known"), type_="check")
        batch_op.drop_column("priced_per")

    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_budgets_contributions_not_negative"), type_="check")
        batch_op.drop_column("contributions_pence")

    with op.batch_alter_table("statement_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statement_lines_statement_id"))

    op.drop_table("statement_lines")
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contributions_placement_id"))
        batch_op.drop_index(batch_op.f("ix_contributions_cofunder_id"))

    op.drop_table("contributions")
    with op.batch_alter_table("funding_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_funding_shares_contract_id"))

    op.drop_table("funding_shares")
    op.drop_table("cofunders")
