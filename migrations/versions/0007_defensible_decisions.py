"""Defensible decisions and authority-approved restatements (issue 12).

Additive only:
- reporting_periods.closed_early_reason: the note an early close leaves (CHECK not blank).
- evaluation_outcomes: the contract basics of an award (value, start and end dates, annual
  volumes per service line) and each shortlisted centre's standing at the decision; CHECKs
  keep contracts to awards, values non-negative and dates ordered. On PostgreSQL a trigger
  refuses a new award without its contract basics or to a centre not accredited on the day
  of the decision (the service checks the same everywhere; outcomes written before this
  revision keep no contract).
- centre_edit_reviews: a review may also end "reverted" or "change_requested" (the status
  and acknowledged_at CHECKs are widened: decided rows have a decision time).
- pending_restatements: a restatement of a published figure waiting for the authority
  (pending, approved, refused or superseded; at most one pending per observation).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from marketplace.db import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


AWARD_TRIGGER = """
CREATE OR REPLACE FUNCTION evaluation_outcomes_check_award() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    centre record;
BEGIN
    IF NEW.kind <> 'awarded' THEN
        RETURN NEW;
    END IF;
    IF NEW.contract_value IS NULL OR NEW.contract_starts_on IS NULL
       OR NEW.contract_ends_on IS NULL THEN
        RAISE EXCEPTION 'an award records its contract: value, start and end dates'
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT accreditation_status, accredited_until INTO centre
        FROM service_centres WHERE id = NEW.centre_id;
    IF centre.accreditation_status IS DISTINCT FROM 'accredited'
       OR (centre.accredited_until IS NOT NULL
           AND centre.accredited_until < (NEW.decided_at AT TIME ZONE 'UTC')::date) THEN
        RAISE EXCEPTION 'centre % is not accredited on the day of the award', NEW.centre_id
            USING ERRCODE = 'check_violation',
                  HINT = 'Only a centre accredited on the day can be awarded.';
    END IF;
    RETURN NEW;
END;
$$;
"""

OUTCOME_CHECKS = {
    "contract_only_for_award": (
        "kind = 'awarded' OR (contract_value IS NULL AND contract_starts_on IS NULL "
        "AND contract_ends_on IS NULL AND annual_volumes IS NULL)"
    ),
    "contract_value": "contract_value IS NULL OR contract_value >= 0",
    "contract_dates_ordered": (
        "contract_starts_on IS NULL OR contract_ends_on IS NULL "
        "OR contract_ends_on > contract_starts_on"
    ),
}


def upgrade():
    with op.batch_alter_table("centre_edit_reviews") as batch:
        batch.drop_constraint(op.f("ck_centre_edit_reviews_status"), type_="check")
        batch.drop_constraint(op.f("ck_centre_edit_reviews_acknowledged_at"), type_="check")
        batch.create_check_constraint(
            op.f("ck_centre_edit_reviews_status"),
            "status IN ('pending', 'acknowledged', 'reverted', 'change_requested')",
        )
        batch.create_check_constraint(
            op.f("ck_centre_edit_reviews_acknowledged_at"),
            "(status = 'pending') = (acknowledged_at IS NULL)",
        )
    op.create_table(
        "pending_restatements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("numerator", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("denominator", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'refused', 'superseded')",
            name=op.f("ck_pending_restatements_status"),
        ),
        sa.CheckConstraint(
            "length(trim(reason)) > 0", name=op.f("ck_pending_restatements_reason_not_blank")
        ),
        sa.CheckConstraint(
            "(status IN ('pending', 'superseded')) = (decided_at IS NULL)",
            name=op.f("ck_pending_restatements_decided_at"),
        ),
        sa.CheckConstraint(
            "status <> 'refused' OR length(trim(decision_reason)) > 0",
            name=op.f("ck_pending_restatements_refusal_has_reason"),
        ),
        sa.CheckConstraint(
            "denominator IS NULL OR denominator > 0",
            name=op.f("ck_pending_restatements_denominator_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"], ["observations.id"],
            name=op.f("fk_pending_restatements_observation_id_observations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"],
            name=op.f("fk_pending_restatements_submission_id_submissions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"],
            name=op.f("fk_pending_restatements_actor_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"],
            name=op.f("fk_pending_restatements_decided_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_restatements")),
        sa.UniqueConstraint("public_id", name=op.f("uq_pending_restatements_public_id")),
    )
    op.create_index(
        op.f("ix_pending_restatements_observation_id"), "pending_restatements", ["observation_id"]
    )
    op.create_index(
        op.f("ix_pending_restatements_submission_id"), "pending_restatements", ["submission_id"]
    )
    op.create_index(
        "uq_pending_restatements_one_pending",
        "pending_restatements",
        ["observation_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    with op.batch_alter_table("evaluation_outcomes") as batch:
        batch.add_column(sa.Column("contract_value", sa.Numeric(14, 2), nullable=True))
        batch.add_column(sa.Column("contract_starts_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("contract_ends_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("annual_volumes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("standings", sa.JSON(), nullable=True))
        for name, condition in OUTCOME_CHECKS.items():
            batch.create_check_constraint(op.f(f"ck_evaluation_outcomes_{name}"), condition)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AWARD_TRIGGER)
        op.execute(
            "CREATE TRIGGER evaluation_outcomes_award_rules BEFORE INSERT ON evaluation_outcomes "
            "FOR EACH ROW EXECUTE FUNCTION evaluation_outcomes_check_award()"
        )
    with op.batch_alter_table("reporting_periods") as batch:
        batch.add_column(sa.Column("closed_early_reason", sa.Text(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_reporting_periods_closed_early_reason_not_blank"),
            "closed_early_reason IS NULL OR length(trim(closed_early_reason)) > 0",
        )


def downgrade():
    with op.batch_alter_table("centre_edit_reviews") as batch:
        batch.drop_constraint(op.f("ck_centre_edit_reviews_status"), type_="check")
        batch.drop_constraint(op.f("ck_centre_edit_reviews_acknowledged_at"), type_="check")
        batch.create_check_constraint(
            op.f("ck_centre_edit_reviews_status"), "status IN ('pending', 'acknowledged')"
        )
        batch.create_check_constraint(
            op.f("ck_centre_edit_reviews_acknowledged_at"),
            "(status = 'acknowledged') = (acknowledged_at IS NOT NULL)",
        )
    op.drop_table("pending_restatements")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS evaluation_outcomes_award_rules ON evaluation_outcomes")
        op.execute("DROP FUNCTION IF EXISTS evaluation_outcomes_check_award()")
    with op.batch_alter_table("evaluation_outcomes") as batch:
        for name in OUTCOME_CHECKS:
            batch.drop_constraint(op.f(f"ck_evaluation_outcomes_{name}"), type_="check")
        for column in (
            "standings",
            "annual_volumes",
            "contract_ends_on",
            "contract_starts_on",
            "contract_value",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("reporting_periods") as batch:
        batch.drop_constraint(
            op.f("ck_reporting_periods_closed_early_reason_not_blank"), type_="check"
        )
        batch.drop_column("closed_early_reason")
