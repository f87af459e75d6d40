"""Defensible decisions and authority-approved restatements (issue 12).

Additive only:
- reporting_periods.closed_early_reason: the note an early close leaves (CHECK not blank).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reporting_periods") as batch:
        batch.add_column(sa.Column("closed_early_reason", sa.Text(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_reporting_periods_closed_early_reason_not_blank"),
            "closed_early_reason IS NULL OR length(trim(closed_early_reason)) > 0",
        )


def downgrade():
    with op.batch_alter_table("reporting_periods") as batch:
        batch.drop_constraint(
            op.f("ck_reporting_periods_closed_early_reason_not_blank"), type_="check"
        )
        batch.drop_column("closed_early_reason")
