"""Outbox messages remember when to try again, so a failing message waits its turn.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_attempt_at", marketplace.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_column("next_attempt_at")
