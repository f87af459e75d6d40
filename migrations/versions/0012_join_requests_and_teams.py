"""Joining needs approval; evaluations belong to their team.

- users.is_approver (buyers only): may decide requests to join its organisation;
- email_domain_organisations: the organisations an allow-listed domain's people may join;
- join_requests: a self-registered buyer's request, pending until approved or refused (with
  a reason), at most one pending per person;
- evaluation_members: an evaluation's team; every existing evaluation's creator joins it.
  On PostgreSQL a trigger refuses a member who is not a buyer of the evaluation's
  organisation, and removing the last member of an evaluation.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from marketplace.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TEAM_TRIGGER = """
CREATE OR REPLACE FUNCTION evaluation_members_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (
            SELECT 1 FROM users u JOIN evaluations e ON e.id = NEW.evaluation_id
            WHERE u.id = NEW.user_id AND u.role = 'buyer'
              AND u.organisation_id = e.organisation_id
        ) THEN
            RAISE EXCEPTION 'a team member must be a buyer of the evaluation''s organisation'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    -- DELETE: the last member stays, unless the evaluation itself is being deleted.
    IF EXISTS (SELECT 1 FROM evaluations WHERE id = OLD.evaluation_id)
       AND NOT EXISTS (
           SELECT 1 FROM evaluation_members
           WHERE evaluation_id = OLD.evaluation_id AND user_id <> OLD.user_id
       ) THEN
        RAISE EXCEPTION 'an evaluation keeps at least one team member'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
END;
$$;
"""


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("is_approver", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_users_approver_is_buyer"), "NOT is_approver OR role = 'buyer'"
        )
    op.create_table(
        "email_domain_organisations",
        sa.Column("email_domain_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["email_domain_id"],
            ["email_domains.id"],
            name=op.f("fk_email_domain_organisations_email_domain_id_email_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_email_domain_organisations_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "email_domain_id", "organisation_id", name=op.f("pk_email_domain_organisations")
        ),
    )
    op.create_index(
        op.f("ix_email_domain_organisations_organisation_id"),
        "email_domain_organisations",
        ["organisation_id"],
    )
    op.create_table(
        "join_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=22), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'refused')", name=op.f("ck_join_requests_status")
        ),
        sa.CheckConstraint(
            "(status = 'pending' AND decided_at IS NULL AND decided_by_id IS NULL) OR "
            "(status <> 'pending' AND decided_at IS NOT NULL AND decided_by_id IS NOT NULL)",
            name=op.f("ck_join_requests_decided_when_not_pending"),
        ),
        sa.CheckConstraint(
            "status <> 'refused' OR length(trim(reason)) > 0",
            name=op.f("ck_join_requests_refusal_has_reason"),
        ),
        sa.CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> user_id",
            name=op.f("ck_join_requests_not_own"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_join_requests_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_join_requests_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_join_requests_decided_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_join_requests")),
        sa.UniqueConstraint("public_id", name=op.f("uq_join_requests_public_id")),
    )
    op.create_index(op.f("ix_join_requests_user_id"), "join_requests", ["user_id"])
    op.create_index(op.f("ix_join_requests_organisation_id"), "join_requests", ["organisation_id"])
    op.create_index(
        "uq_join_requests_one_pending_per_user",
        "join_requests",
        ["user_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "evaluation_members",
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("added_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_evaluation_members_evaluation_id_evaluations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_evaluation_members_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["users.id"],
            name=op.f("fk_evaluation_members_added_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("evaluation_id", "user_id", name=op.f("pk_evaluation_members")),
    )
    op.create_index(op.f("ix_evaluation_members_user_id"), "evaluation_members", ["user_id"])
    # Every existing evaluation's team: the buyer who started it.
    op.execute(
        "INSERT INTO evaluation_members (evaluation_id, user_id, added_by_id, added_at) "
        "SELECT id, created_by_id, created_by_id, created_at FROM evaluations"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TEAM_TRIGGER)
        op.execute(
            "CREATE TRIGGER evaluation_members_rules BEFORE INSERT OR DELETE ON "
            "evaluation_members FOR EACH ROW EXECUTE FUNCTION evaluation_members_check()"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS evaluation_members_rules ON evaluation_members")
        op.execute("DROP FUNCTION IF EXISTS evaluation_members_check()")
    op.drop_index(op.f("ix_evaluation_members_user_id"), table_name="evaluation_members")
    op.drop_table("evaluation_members")
    op.drop_index("uq_join_requests_one_pending_per_user", table_name="join_requests")
    op.drop_index(op.f("ix_join_requests_organisation_id"), table_name="join_requests")
    op.drop_index(op.f("ix_join_requests_user_id"), table_name="join_requests")
    op.drop_table("join_requests")
    op.drop_index(
        op.f("ix_email_domain_organisations_organisation_id"),
        table_name="email_domain_organisations",
    )
    op.drop_table("email_domain_organisations")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_approver_is_buyer"), type_="check")
        batch.drop_column("is_approver")
