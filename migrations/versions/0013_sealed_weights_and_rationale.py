"""Weights sealed before results, every change of a weight kept, scores with rationale (issue 12).

- evaluations: weights_sealed_at, weights_sealed_by_id and sealed_weights (the weights at
  sealing). CHECKs: sealed by someone when sealed; a locked evaluation was sealed. Evaluations
  locked before this revision were sealed by their locking (what they showed is in their
  snapshot), so they are dated at their lock.
- evaluation_scores: a score carries its rationale, or the pair is "not scored" with a reason
  (score becomes nullable; one CHECK holds the rule). Scores written before this revision
  had no rationale; they are given one that says so, rather than an invented one.
- evaluation_weight_changes: who changed which criterion's weight, when, old and new, whether
  the weights were sealed then and, after sealing, why (CHECK).

On PostgreSQL (triggers; SQLite relies on the services): the weight-change history is frozen
with its evaluation once locked (the function of 0003) and is never updated; a change says
truthfully whether the weights were sealed; sealed weights are never unsealed or rewritten;
a draft is locked only when every buyer-scored criterion with weight > 0 has a score row
(score with rationale, or not scored with reason) for every shortlisted centre (metric
criteria need the figures, which only the service can read).
The backfill of locked rows runs with 0003's freezing triggers briefly disabled, inside the
migration's transaction. On SQLite the rebuild of evaluations runs with foreign keys off (in
a transaction of its own), or its DROP TABLE would cascade to every shortlist and score.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

LEGACY_RATIONALE = "Scored before a rationale was required (recorded before revision 0013)."

SCORE_RULE = (
    "(score IS NOT NULL AND rationale IS NOT NULL AND length(trim(rationale)) > 0 "
    "AND not_scored_reason IS NULL) "
    "OR (score IS NULL AND rationale IS NULL AND not_scored_reason IS NOT NULL "
    "AND length(trim(not_scored_reason)) > 0)"
)

SEALED_BY_SOMEONE = "(weights_sealed_at IS NULL) = (weights_sealed_by_id IS NULL)"
LOCKED_SEALED = "status = 'draft' OR weights_sealed_at IS NOT NULL"

FUNCTIONS = """
CREATE OR REPLACE FUNCTION evaluation_weight_changes_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    sealed boolean;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'evaluation_weight_changes is history: UPDATE is not allowed'
            USING ERRCODE = 'restrict_violation';
    END IF;
    SELECT weights_sealed_at IS NOT NULL INTO sealed FROM evaluations WHERE id = NEW.evaluation_id;
    IF NEW.after_sealing IS DISTINCT FROM sealed THEN
        RAISE EXCEPTION 'a weight change must say whether the weights were sealed (they %)',
            CASE WHEN sealed THEN 'were' ELSE 'were not' END
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION evaluations_lock_needs_scores() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing record;
BEGIN
    IF NEW.status = 'locked' AND OLD.status = 'draft' THEN
        SELECT c.name AS criterion, sc.name AS centre INTO missing
            FROM evaluation_criteria c
            JOIN evaluation_candidates k ON k.evaluation_id = c.evaluation_id
            JOIN service_centres sc ON sc.id = k.centre_id
            WHERE c.evaluation_id = NEW.id AND c.kind = 'buyer' AND c.weight > 0
              AND NOT EXISTS (
                  SELECT 1 FROM evaluation_scores s
                  WHERE s.criterion_id = c.id AND s.centre_id = k.centre_id)
            ORDER BY c.position, k.position
            LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'evaluation %: % is not scored for %', NEW.public_id,
                missing.criterion, missing.centre
                USING ERRCODE = 'check_violation',
                      HINT = 'Score every weighted criterion, or mark it not scored with a reason.';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION evaluations_keep_sealed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.weights_sealed_at IS NOT NULL AND (
        NEW.weights_sealed_at IS DISTINCT FROM OLD.weights_sealed_at
        OR NEW.weights_sealed_by_id IS DISTINCT FROM OLD.weights_sealed_by_id
        OR NEW.sealed_weights::text IS DISTINCT FROM OLD.sealed_weights::text) THEN
        RAISE EXCEPTION 'evaluation %: sealed weights are never unsealed or rewritten',
            OLD.public_id
            USING ERRCODE = 'restrict_violation',
                  HINT = 'Change a weight with a reason; the change is kept in the history.';
    END IF;
    RETURN NEW;
END;
$$;
"""


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _sqlite_foreign_keys(on: bool) -> None:
    """SQLite rebuilds a table to alter it, and the rebuild's DROP TABLE cascades to the
    rows that reference it (evaluations' shortlists, criteria and scores) while foreign keys
    are on. The pragma only changes between transactions, so the rebuild runs in its own."""
    op.execute("COMMIT")
    op.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    op.execute("BEGIN")


def upgrade():
    postgres = _postgres()
    if not postgres:
        _sqlite_foreign_keys(on=False)
    with op.batch_alter_table("evaluations") as batch:
        batch.add_column(
            sa.Column("weights_sealed_at", marketplace.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("weights_sealed_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sealed_weights", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_evaluations_weights_sealed_by_id_users"),
            "users",
            ["weights_sealed_by_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    with op.batch_alter_table("evaluation_scores") as batch:
        batch.add_column(sa.Column("rationale", sa.Text(), nullable=True))
        batch.add_column(sa.Column("not_scored_reason", sa.Text(), nullable=True))
        batch.alter_column("score", existing_type=sa.Numeric(precision=5, scale=2), nullable=True)

    if postgres:
        op.execute("ALTER TABLE evaluations DISABLE TRIGGER evaluations_locked_frozen")
        op.execute("ALTER TABLE evaluation_scores DISABLE TRIGGER evaluation_scores_locked_frozen")
    op.execute(
        "UPDATE evaluations SET weights_sealed_at = locked_at, weights_sealed_by_id = locked_by_id "
        "WHERE status = 'locked'"
    )
    op.execute(
        sa.text(
            "UPDATE evaluation_scores SET rationale = :legacy WHERE rationale IS NULL"
        ).bindparams(legacy=LEGACY_RATIONALE)
    )
    if postgres:
        op.execute("ALTER TABLE evaluation_scores ENABLE TRIGGER evaluation_scores_locked_frozen")
        op.execute("ALTER TABLE evaluations ENABLE TRIGGER evaluations_locked_frozen")

    with op.batch_alter_table("evaluations") as batch:
        batch.create_check_constraint(op.f("ck_evaluations_sealed_by_someone"), SEALED_BY_SOMEONE)
        batch.create_check_constraint(op.f("ck_evaluations_locked_sealed"), LOCKED_SEALED)
    if not postgres:
        _sqlite_foreign_keys(on=True)
    with op.batch_alter_table("evaluation_scores") as batch:
        batch.create_check_constraint(
            op.f("ck_evaluation_scores_score_has_rationale_or_reason"), SCORE_RULE
        )

    op.create_table(
        "evaluation_weight_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", marketplace.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("criterion_code", sa.String(length=60), nullable=False),
        sa.Column("criterion_name", sa.String(length=200), nullable=False),
        sa.Column("old_weight", sa.Numeric(precision=9, scale=3), nullable=True),
        sa.Column("new_weight", sa.Numeric(precision=9, scale=3), nullable=True),
        sa.Column("after_sealing", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(old_weight IS NOT NULL OR new_weight IS NOT NULL) "
            "AND (old_weight IS NULL OR new_weight IS NULL OR old_weight <> new_weight)",
            name=op.f("ck_evaluation_weight_changes_is_a_change"),
        ),
        sa.CheckConstraint(
            "NOT after_sealing OR (reason IS NOT NULL AND length(trim(reason)) > 0)",
            name=op.f("ck_evaluation_weight_changes_sealed_change_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_evaluation_weight_changes_evaluation_id_evaluations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_evaluation_weight_changes_changed_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_weight_changes")),
    )
    with op.batch_alter_table("evaluation_weight_changes") as batch:
        batch.create_index(
            batch.f("ix_evaluation_weight_changes_evaluation_id"), ["evaluation_id"], unique=False
        )

    if postgres:
        op.execute(FUNCTIONS)
        # Frozen with its evaluation once locked: 0003's function for the evaluation's parts.
        op.execute(
            "CREATE TRIGGER evaluation_weight_changes_locked_frozen BEFORE INSERT OR UPDATE "
            "OR DELETE ON evaluation_weight_changes FOR EACH ROW "
            "EXECUTE FUNCTION evaluation_parts_refuse_locked_change()"
        )
        op.execute(
            "CREATE TRIGGER evaluation_weight_changes_history BEFORE INSERT OR UPDATE "
            "ON evaluation_weight_changes FOR EACH ROW "
            "EXECUTE FUNCTION evaluation_weight_changes_guard()"
        )
        op.execute(
            "CREATE TRIGGER evaluations_keep_sealed BEFORE UPDATE ON evaluations "
            "FOR EACH ROW EXECUTE FUNCTION evaluations_keep_sealed()"
        )
        # Buyer-scored criteria can be checked in SQL; metrics need the figures (the service).
        op.execute(
            "CREATE TRIGGER evaluations_lock_needs_scores BEFORE UPDATE OF status ON evaluations "
            "FOR EACH ROW EXECUTE FUNCTION evaluations_lock_needs_scores()"
        )


def downgrade():
    if _postgres():
        op.execute("DROP TRIGGER IF EXISTS evaluations_lock_needs_scores ON evaluations")
        op.execute("DROP TRIGGER IF EXISTS evaluations_keep_sealed ON evaluations")
        op.execute("DROP FUNCTION IF EXISTS evaluations_lock_needs_scores()")
        op.execute(
            "DROP TRIGGER IF EXISTS evaluation_weight_changes_history ON evaluation_weight_changes"
        )
        op.execute(
            "DROP TRIGGER IF EXISTS evaluation_weight_changes_locked_frozen "
            "ON evaluation_weight_changes"
        )
        op.execute("DROP FUNCTION IF EXISTS evaluations_keep_sealed()")
        op.execute("DROP FUNCTION IF EXISTS evaluation_weight_changes_guard()")
    op.drop_table("evaluation_weight_changes")
    # Not-scored rows have no score; they cannot survive the NOT NULL of the old column.
    if _postgres():
        op.execute("ALTER TABLE evaluation_scores DISABLE TRIGGER evaluation_scores_locked_frozen")
    op.execute("DELETE FROM evaluation_scores WHERE score IS NULL")
    if _postgres():
        op.execute("ALTER TABLE evaluation_scores ENABLE TRIGGER evaluation_scores_locked_frozen")
    with op.batch_alter_table("evaluation_scores") as batch:
        batch.drop_constraint(
            op.f("ck_evaluation_scores_score_has_rationale_or_reason"), type_="check"
        )
        batch.alter_column("score", existing_type=sa.Numeric(precision=5, scale=2), nullable=False)
        batch.drop_column("not_scored_reason")
        batch.drop_column("rationale")
    if not _postgres():
        _sqlite_foreign_keys(on=False)
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_constraint(op.f("ck_evaluations_locked_sealed"), type_="check")
        batch.drop_constraint(op.f("ck_evaluations_sealed_by_someone"), type_="check")
        batch.drop_constraint(op.f("fk_evaluations_weights_sealed_by_id_users"), type_="foreignkey")
        batch.drop_column("sealed_weights")
        batch.drop_column("weights_sealed_by_id")
        batch.drop_column("weights_sealed_at")
    if not _postgres():
        _sqlite_foreign_keys(on=True)
