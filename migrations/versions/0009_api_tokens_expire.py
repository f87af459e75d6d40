"""API tokens expire: each has an expiry, a year after it was made for the tokens there are.

Revision ID: 0009
Revises: 0008
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EXISTING_LIFETIME = timedelta(days=365)


def upgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", marketplace.db.UTCDateTime(timezone=True), nullable=True)
        )
    tokens = sa.table(
        "api_tokens",
        sa.column("id", sa.Integer),
        sa.column("created_at", marketplace.db.UTCDateTime(timezone=True)),
        sa.column("expires_at", marketplace.db.UTCDateTime(timezone=True)),
    )
    connection = op.get_bind()
    # In Python, not SQL date arithmetic, so SQLite and PostgreSQL get the same values.
    for token_id, created_at in connection.execute(sa.select(tokens.c.id, tokens.c.created_at)):
        connection.execute(
            tokens.update()
            .where(tokens.c.id == token_id)
            .values(expires_at=created_at + EXISTING_LIFETIME)
        )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at", existing_type=marketplace.db.UTCDateTime(timezone=True), nullable=False
        )


def downgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
