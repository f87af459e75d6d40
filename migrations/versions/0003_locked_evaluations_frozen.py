"""A locked evaluation and its outcome are frozen: on PostgreSQL triggers refuse changes.

Hand-written (the models cannot describe a trigger). The services already refuse to change a
locked evaluation and the foreign keys tie an award to the locked shortlist; these triggers
make the database refuse too, whoever asks:

- evaluation_outcomes: never updated or deleted once written;
- evaluations: a locked row is never updated or deleted (locking itself updates a draft);
- evaluation_candidates, evaluation_criteria, evaluation_scores, evaluation_service_lines:
  no row is added, changed or removed while its evaluation is locked.

The error is SQLSTATE 23001 (restrict_violation), which drivers report as an integrity
error. SQLite (development and tests) gets nothing; the services' checks cover it there.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHILD_TABLES = (
    "evaluation_candidates",
    "evaluation_criteria",
    "evaluation_scores",
    "evaluation_service_lines",
)

FUNCTIONS = """
CREATE OR REPLACE FUNCTION evaluation_outcomes_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evaluation outcomes are final: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'An outcome is recorded once; it is never changed or removed.';
END;
$$;

CREATE OR REPLACE FUNCTION evaluations_refuse_locked_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'locked' THEN
        RAISE EXCEPTION 'evaluation % is locked: % is not allowed', OLD.public_id, TG_OP
            USING ERRCODE = 'restrict_violation',
                  HINT = 'A locked evaluation keeps exactly what the buyer saw.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION evaluation_parts_refuse_locked_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    target integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        target := OLD.evaluation_id;
    ELSE
        target := NEW.evaluation_id;
    END IF;
    IF EXISTS (SELECT 1 FROM evaluations WHERE id = target AND status = 'locked')
       OR (TG_OP = 'UPDATE' AND EXISTS (
           SELECT 1 FROM evaluations WHERE id = OLD.evaluation_id AND status = 'locked')) THEN
        RAISE EXCEPTION '%: the evaluation is locked, % is not allowed', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation',
                  HINT = 'A locked evaluation keeps exactly what the buyer saw.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTIONS)
    op.execute(
        "CREATE TRIGGER evaluation_outcomes_final BEFORE UPDATE OR DELETE "
        "ON evaluation_outcomes FOR EACH ROW EXECUTE FUNCTION evaluation_outcomes_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER evaluation_outcomes_no_truncate BEFORE TRUNCATE ON evaluation_outcomes "
        "FOR EACH STATEMENT EXECUTE FUNCTION evaluation_outcomes_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER evaluations_locked_frozen BEFORE UPDATE OR DELETE ON evaluations "
        "FOR EACH ROW EXECUTE FUNCTION evaluations_refuse_locked_change()"
    )
    for table in CHILD_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_locked_frozen BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION evaluation_parts_refuse_locked_change()"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in CHILD_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_locked_frozen ON {table}")
    op.execute("DROP TRIGGER IF EXISTS evaluations_locked_frozen ON evaluations")
    op.execute("DROP TRIGGER IF EXISTS evaluation_outcomes_no_truncate ON evaluation_outcomes")
    op.execute("DROP TRIGGER IF EXISTS evaluation_outcomes_final ON evaluation_outcomes")
    op.execute("DROP FUNCTION IF EXISTS evaluation_parts_refuse_locked_change()")
    op.execute("DROP FUNCTION IF EXISTS evaluations_refuse_locked_change()")
    op.execute("DROP FUNCTION IF EXISTS evaluation_outcomes_refuse_change()")
