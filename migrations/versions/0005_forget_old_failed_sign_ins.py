"""Users remember when they last failed to sign in, so old failures stop counting.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_failed_login_at",
                marketplace.db.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_failed_login_at")
