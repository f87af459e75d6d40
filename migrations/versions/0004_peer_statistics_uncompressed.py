"""Peer statistics' sorted arrays are stored without compression on PostgreSQL.

Hand-written (the models cannot describe a column's storage). Every recompute rewrites the
arrays of every group it touches; compressing them (pglz) cost about a sixth of a national
full recompute's CPU time and saved little, since sorted doubles compress poorly
(bench/recompute.py). EXTERNAL keeps them out of line, uncompressed. SQLite has no such
setting and gets nothing.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("peer_values", "peer_centre_ids")


def _set_storage(storage: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    clauses = ", ".join(f"ALTER COLUMN {column} SET STORAGE {storage}" for column in COLUMNS)
    op.execute(f"ALTER TABLE peer_statistics {clauses}")


def upgrade():
    _set_storage("EXTERNAL")


def downgrade():
    _set_storage("EXTENDED")
