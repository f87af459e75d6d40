"""Queued, coalesced republishing after approved restatements (issue 15).

- pending_republications: one row per published period that approved restatements oblige to
  republish, written in the approval's transaction; the job that republishes the period
  deletes it (a failure leaves it, with the error and the attempts so far).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pending_republications",
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        sa.Column("first_requested_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_requested_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "generation >= 1", name=op.f("ck_pending_republications_generation_positive")
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_pending_republications_attempts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["reporting_periods.id"],
            name=op.f("fk_pending_republications_period_id_reporting_periods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_republications")),
        sa.UniqueConstraint("period_id", name=op.f("uq_pending_republications_period_id")),
    )


def downgrade():
    op.drop_table("pending_republications")
