"""The market's latest variations: each centre × metric's latest SPC point, stored.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "latest_variations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("metric_code", sa.String(length=60), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("rules", sa.String(length=80), nullable=False),
        sa.Column("computed_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('common_cause', 'improvement', 'concern')", name=op.f("ck_latest_variations_kind")
        ),
        sa.CheckConstraint(
            "(kind = 'common_cause') = (rules = '')",
            name=op.f("ck_latest_variations_rules_match_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["service_centres.id"], name=op.f("fk_latest_variations_centre_id_service_centres"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"], ["metrics.id"], name=op.f("fk_latest_variations_metric_id_metrics"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["period_id"], ["reporting_periods.id"], name=op.f("fk_latest_variations_period_id_reporting_periods"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_latest_variations")),
        sa.UniqueConstraint(
            "centre_id", "metric_code", name=op.f("uq_latest_variations_centre_id_metric_code")
        ),
    )


def downgrade():
    op.drop_table("latest_variations")
