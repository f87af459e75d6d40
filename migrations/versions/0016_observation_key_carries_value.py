"""On PostgreSQL the observations' unique key carries the value (INCLUDE), so the whole
market's signals read every series from the index alone.

The early-warning refresh after a publication groups all published figures by centre and
metric in the key's order (market_signals._grouped_in_postgresql); without the value in the
key's index each of the 1.28 million rows of the national set was also fetched from the
table. Measured on bench/signals.py's data set (EXPLAIN ANALYZE): that read fell from 630 to
350-410 ms. The key itself is unchanged (same columns, same name); SQLite has no INCLUDE and
keeps its index.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

NAME = "uq_observations_centre_id_metric_id_period_id"
KEY = "UNIQUE (centre_id, metric_id, period_id)"


def _replace_key(definition: str) -> None:
    # Raw DDL: Alembic's stand-in table for the constraint knows only the key's columns, so
    # it cannot name the included one. Drop and add in one transaction: never without a key.
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"ALTER TABLE observations DROP CONSTRAINT {NAME}, ADD CONSTRAINT {NAME} {definition}"
    )


def upgrade():
    _replace_key(KEY + " INCLUDE (value)")


def downgrade():
    _replace_key(KEY)
