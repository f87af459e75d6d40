"""Contracts and their KPIs, rated every published quarter (issue 16).

- contracts: one per award outcome (unique FK), the buying organisation, the centre, value
  (>= 0), start and end (end after start), annual volumes per service line.
- contract_kpis: a library metric (once per contract), target, direction copied from the
  metric, and the centre's baseline at award, or the reason there is none.
- kpi_ratings: one per (KPI, period): the figure, the computed rating (one of four), and the
  buyer's override (one of four), which needs its reason, who and when.
- On PostgreSQL, deferred constraint triggers refuse at commit a contract with fewer than
  three KPIs (the rows of a contract and its KPIs are written in one transaction, so the
  check must wait for the end of it); the service checks the same on every database. SQLite
  has no deferred triggers: there the service is the guarantee.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

MIN_KPIS = 3

KPI_COUNT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION contracts_check_kpis() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    contract integer;
BEGIN
    IF TG_TABLE_NAME = 'contracts' THEN
        contract := NEW.id;
    ELSE
        contract := OLD.contract_id;
    END IF;
    IF EXISTS (SELECT 1 FROM contracts WHERE id = contract)
       AND (SELECT count(*) FROM contract_kpis WHERE contract_id = contract) < {MIN_KPIS} THEN
        RAISE EXCEPTION 'contract % has fewer than {MIN_KPIS} KPIs', contract
            USING ERRCODE = 'check_violation',
                  HINT = 'An award records at least {MIN_KPIS} KPIs.';
    END IF;
    RETURN NULL;
END;
$$;
"""


def upgrade():
    op.create_table(
        "contracts",
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("outcome_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("annual_volumes", sa.JSON(), nullable=False),
        sa.Column("awarded_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("awarded_by_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint("ends_on > starts_on", name=op.f("ck_contracts_dates_ordered")),
        sa.CheckConstraint("length(trim(title)) > 0", name=op.f("ck_contracts_title_not_blank")),
        sa.CheckConstraint("value >= 0", name=op.f("ck_contracts_value_not_negative")),
        sa.ForeignKeyConstraint(
            ["awarded_by_id"],
            ["users.id"],
            name=op.f("fk_contracts_awarded_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"],
            ["service_centres.id"],
            name=op.f("fk_contracts_centre_id_service_centres"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_contracts_organisation_id_organisations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["outcome_id"],
            ["evaluation_outcomes.id"],
            name=op.f("fk_contracts_outcome_id_evaluation_outcomes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("outcome_id", name=op.f("uq_contracts_outcome_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_contracts_public_id")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_centre_id"), ["centre_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contracts_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "contract_kpis",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("target", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("baseline", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("baseline_period_id", sa.Integer(), nullable=True),
        sa.Column("baseline_note", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "direction IN ('higher', 'lower')", name=op.f("ck_contract_kpis_direction")
        ),
        sa.CheckConstraint(
            "(baseline IS NOT NULL AND baseline_period_id IS NOT NULL AND baseline_note IS NULL) OR (baseline IS NULL AND baseline_period_id IS NULL AND baseline_note IS NOT NULL AND length(trim(baseline_note)) > 0)",
            name=op.f("ck_contract_kpis_baseline_or_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["baseline_period_id"],
            ["reporting_periods.id"],
            name=op.f("fk_contract_kpis_baseline_period_id_reporting_periods"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_kpis_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["metrics.id"],
            name=op.f("fk_contract_kpis_metric_id_metrics"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_kpis")),
        sa.UniqueConstraint(
            "contract_id", "metric_id", name=op.f("uq_contract_kpis_contract_id_metric_id")
        ),
    )
    with op.batch_alter_table("contract_kpis", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_kpis_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contract_kpis_metric_id"), ["metric_id"], unique=False)

    op.create_table(
        "kpi_ratings",
        sa.Column("kpi_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("figure", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("computed", sa.String(length=24), nullable=False),
        sa.Column("rated_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("override", sa.String(length=24), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("overridden_by_id", sa.Integer(), nullable=True),
        sa.Column("overridden_at", marketplace.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "computed IN ('good', 'approaching_target', 'requires_improvement', 'inadequate')",
            name=op.f("ck_kpi_ratings_computed"),
        ),
        sa.CheckConstraint(
            "override IS NULL OR override IN ('good', 'approaching_target', 'requires_improvement', 'inadequate')",
            name=op.f("ck_kpi_ratings_override"),
        ),
        sa.CheckConstraint(
            "(override IS NULL AND override_reason IS NULL AND overridden_by_id IS NULL AND overridden_at IS NULL) OR (override IS NOT NULL AND override_reason IS NOT NULL AND length(trim(override_reason)) > 0 AND overridden_by_id IS NOT NULL AND overridden_at IS NOT NULL)",
            name=op.f("ck_kpi_ratings_override_needs_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["kpi_id"],
            ["contract_kpis.id"],
            name=op.f("fk_kpi_ratings_kpi_id_contract_kpis"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["overridden_by_id"],
            ["users.id"],
            name=op.f("fk_kpi_ratings_overridden_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["reporting_periods.id"],
            name=op.f("fk_kpi_ratings_period_id_reporting_periods"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_ratings")),
        sa.UniqueConstraint("kpi_id", "period_id", name=op.f("uq_kpi_ratings_kpi_id_period_id")),
    )
    with op.batch_alter_table("kpi_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_ratings_period_id"), ["period_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(KPI_COUNT_FUNCTION)
        op.execute(
            "CREATE CONSTRAINT TRIGGER contracts_have_kpis AFTER INSERT ON contracts "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION contracts_check_kpis()"
        )
        op.execute(
            "CREATE CONSTRAINT TRIGGER contract_kpis_keep_minimum "
            "AFTER DELETE OR UPDATE OF contract_id ON contract_kpis "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION contracts_check_kpis()"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS contract_kpis_keep_minimum ON contract_kpis")
        op.execute("DROP TRIGGER IF EXISTS contracts_have_kpis ON contracts")
        op.execute("DROP FUNCTION IF EXISTS contracts_check_kpis()")
    with op.batch_alter_table("kpi_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_ratings_period_id"))

    op.drop_table("kpi_ratings")
    with op.batch_alter_table("contract_kpis", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_kpis_metric_id"))
        batch_op.drop_index(batch_op.f("ix_contract_kpis_contract_id"))

    op.drop_table("contract_kpis")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_contracts_centre_id"))

    op.drop_table("contracts")
