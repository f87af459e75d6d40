"""The bulk write path: stage the rows, check them set-wise in SQL, then write them set-wise.

PostgreSQL streams rows into a temporary staging table with COPY; SQLite fills it with Core
executemany in batches. From there on both run the same SQL: one query finds every
row-level problem that needs the database (service line offered, valid range, shares,
value = numerator ÷ denominator × scale, duplicates, closed periods, restatements) together
with the rows that change; the writes are three set-wise statements (revisions of the old
values, updates, inserts). Memory stays flat: rows are never all held in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    and_,
    bindparam,
    case,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.schema import CreateTable

from marketplace.benchmarks.models import Metric, Observation, ObservationRevision, ReportingPeriod
from marketplace.catalogue.models import centre_service_lines
from marketplace.db import UTCDateTime
from marketplace.extensions import db

SQLITE_BATCH = 2000

# Its own MetaData: a temporary table per transaction, never part of the schema or migrations.
_staging_metadata = MetaData()
staging = Table(
    "ingest_staging",
    _staging_metadata,
    Column("seq", Integer, nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("value_column", Text, nullable=False),
    Column("period_column", Text, nullable=False),
    Column("metric_code", Text),
    Column("period_code", Text),
    Column("metric_id", Integer),
    Column("period_id", Integer),
    Column("value", Numeric(18, 6)),
    Column("numerator", Numeric(20, 6)),
    Column("denominator", Numeric(20, 6)),
    Column("comment", Text, nullable=False),
    # True where a cell was already refused in Python (its value is NULL here).
    Column("bad_cell", Boolean, nullable=False),
    prefixes=["TEMPORARY"],
    # Kept for the connection's life and emptied at each commit, so pooled connections reuse
    # it instead of creating and dropping a table (and churning the catalogue) per upload.
    postgresql_on_commit="DELETE ROWS",
)
COLUMNS = [c.name for c in staging.columns]
# Built from our own column names only.
_SQLITE_INSERT = (
    f"INSERT INTO ingest_staging ({', '.join(COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in COLUMNS)})"
)

o = Observation.__table__
m = Metric.__table__
p = ReportingPeriod.__table__
r = ObservationRevision.__table__
csl = centre_service_lines


@dataclass(frozen=True)
class WriteContext:
    centre_id: int
    submission_id: int
    actor_id: int | None
    actor_label: str
    reason: str
    now: datetime


def connection():
    return db.session.connection()


def create_staging() -> None:
    """An empty staging table: made once per connection, emptied for each upload."""
    conn = connection()
    conn.execute(CreateTable(staging, if_not_exists=True))
    # Rows of an earlier upload in this same transaction (PostgreSQL also empties the table
    # at each commit; a refused upload rolls back to before it wrote any).
    conn.exec_driver_sql("DELETE FROM ingest_staging")


def clear_staging() -> None:
    connection().exec_driver_sql("DELETE FROM ingest_staging")


def fill_staging(rows: Iterable[tuple]) -> int:
    """Stream row tuples (in COLUMNS order) into the staging table; returns the count."""
    conn = connection()
    count = 0
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            sql = f"COPY ingest_staging ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    # SQLite: executemany of plain tuples in batches (numbers arrive as text and the
    # NUMERIC columns convert them), so memory stays flat however long the file.
    sql = _SQLITE_INSERT
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= SQLITE_BATCH:
            conn.exec_driver_sql(sql, batch)
            count += len(batch)
            batch = []
    if batch:
        conn.exec_driver_sql(sql, batch)
        count += len(batch)
    return count


def _tolerance():
    """Half a unit in the metric's last decimal place: the rounding a person may apply."""
    return case(
        *((m.c.decimals == d, literal(0.5 * 10**-d, Float)) for d in range(7)),
        else_=literal(0.5, Float),
    )


def _figure_changed(s, obs):
    return or_(
        obs.c.value != s.c.value,
        obs.c.numerator.is_distinct_from(s.c.numerator),
        obs.c.denominator.is_distinct_from(s.c.denominator),
    )


def _changed(s, obs):
    return or_(obs.c.id.is_(None), _figure_changed(s, obs), obs.c.comment != s.c.comment)


STREAM = {"yield_per": 5000}


def _checked(centre_id: int, reason: str, today: date):
    """Each staged row with every problem the database can see, and what it would change."""
    s = staging
    obs = o.alias("obs")
    duplicate_rank = func.row_number().over(
        partition_by=(s.c.metric_id, s.c.period_id), order_by=s.c.seq
    )
    first_row = func.first_value(s.c.row_no).over(
        partition_by=(s.c.metric_id, s.c.period_id), order_by=s.c.seq
    )
    good = s.c.bad_cell.is_(false())

    def flag(expr):
        return func.coalesce(case((expr, True), else_=False), False)

    inner = (
        select(
            s.c.seq,
            s.c.row_no,
            s.c.value_column,
            s.c.period_column,
            s.c.metric_code,
            s.c.period_code,
            s.c.metric_id,
            s.c.period_id,
            s.c.value,
            s.c.numerator,
            s.c.denominator,
            s.c.comment,
            p.c.status.label("period_status"),
            obs.c.id.label("observation_id"),
            obs.c.value.label("old_value"),
            obs.c.revision.label("old_revision"),
            flag(and_(s.c.metric_code.is_not(None), s.c.metric_id.is_(None))).label(
                "unknown_metric"
            ),
            flag(and_(s.c.period_code.is_not(None), s.c.period_id.is_(None))).label(
                "unknown_period"
            ),
            flag(p.c.starts_on > today).label("future"),
            flag(m.c.status == "retired").label("retired"),
            flag(and_(m.c.id.is_not(None), csl.c.centre_id.is_(None))).label("not_offered"),
            case(
                (
                    and_(
                        s.c.metric_id.is_not(None), s.c.period_id.is_not(None), duplicate_rank > 1
                    ),
                    first_row,
                ),
                else_=None,
            ).label("duplicate_of"),
            flag(and_(good, s.c.value < m.c.valid_min)).label("below_min"),
            flag(and_(good, s.c.value > m.c.valid_max)).label("above_max"),
            flag(and_(good, m.c.is_share, s.c.numerator > s.c.denominator)).label(
                "share_violation"
            ),
            flag(
                and_(
                    good,
                    s.c.numerator.is_not(None),
                    s.c.denominator.is_not(None),
                    func.abs(s.c.value - s.c.numerator / s.c.denominator * m.c.scale)
                    > _tolerance() + func.abs(s.c.value) * 1e-9,
                )
            ).label("inconsistent"),
            flag(and_(p.c.status != "open", obs.c.id.is_(None))).label("closed_new"),
            flag(
                and_(
                    good,
                    literal(reason == "", Boolean),
                    p.c.status != "open",
                    obs.c.id.is_not(None),
                    _figure_changed(s, obs),
                )
            ).label("needs_reason"),
            flag(and_(good, _changed(s, obs))).label("changed"),
            flag(
                and_(good, obs.c.id.is_not(None), p.c.status != "open", _figure_changed(s, obs))
            ).label("restated"),
        )
        .select_from(s)
        .outerjoin(m, m.c.id == s.c.metric_id)
        .outerjoin(p, p.c.id == s.c.period_id)
        .outerjoin(
            csl, and_(csl.c.centre_id == centre_id, csl.c.service_line_id == m.c.service_line_id)
        )
        .outerjoin(
            obs,
            and_(
                obs.c.centre_id == centre_id,
                obs.c.metric_id == s.c.metric_id,
                obs.c.period_id == s.c.period_id,
            ),
        )
        .subquery("checked")
    )
    c = inner.c
    return inner, or_(
        c.unknown_metric,
        c.unknown_period,
        c.future,
        c.retired,
        c.not_offered,
        c.duplicate_of.is_not(None),
        c.below_min,
        c.above_max,
        c.share_violation,
        c.inconsistent,
        c.closed_new,
        c.needs_reason,
    )


def problem_rows(centre_id: int, reason: str, today: date) -> Iterator:
    """The staged rows with a problem, in file order, with a flag for each kind of problem.

    Flags come back as booleans (PostgreSQL) or 0/1 (SQLite); both test as truth values.
    """
    inner, problem = _checked(centre_id, reason, today)
    query = select(inner).where(problem).order_by(inner.c.seq)
    # Streamed: a file full of mistakes is read in batches, never held whole.
    yield from connection().execute(query, execution_options=STREAM).mappings()


def changed_rows(centre_id: int, reason: str, today: date) -> Iterator[tuple]:
    """(metric, period, held observation id, old value, new value, restated, metric id,
    period id) of each row that changes something; run only when there are no problems."""
    inner, _ = _checked(centre_id, reason, today)
    c = inner.c
    query = (
        select(
            c.metric_code,
            c.period_code,
            c.observation_id,
            c.old_value,
            c.value,
            c.restated,
            c.metric_id,
            c.period_id,
        )
        .where(c.changed)
        .order_by(c.seq)
    )
    yield from connection().execute(query, execution_options=STREAM)


def write(
    ctx: WriteContext, *, expect_updates: bool = True, expect_creates: bool = True
) -> tuple[int, int]:
    """Keep old values as revisions, update changed rows, insert new ones: (created, updated).

    The checks already know whether any held value changes and whether any is new; when
    not, the statements that would find nothing to do are skipped.
    """
    conn = connection()
    s = staging
    joined = and_(
        o.c.centre_id == ctx.centre_id,
        o.c.metric_id == s.c.metric_id,
        o.c.period_id == s.c.period_id,
    )
    differs = or_(
        o.c.value != s.c.value,
        o.c.numerator.is_distinct_from(s.c.numerator),
        o.c.denominator.is_distinct_from(s.c.denominator),
        o.c.comment != s.c.comment,
    )
    now = bindparam("now", ctx.now, type_=UTCDateTime())
    updated = created = 0
    if expect_updates:
        updated = _replace(conn, ctx, s, joined, differs, now)
    if expect_creates:
        created = _insert_new(conn, ctx, s, joined, now)
    return created, updated


def _replace(conn, ctx: WriteContext, s, joined, differs, now) -> int:
    # 1. The superseded values, with who replaced them, when and why.
    conn.execute(
        insert(r).from_select(
            [
                "observation_id",
                "revision",
                "value",
                "numerator",
                "denominator",
                "comment",
                "submission_id",
                "superseded_by_submission_id",
                "superseded_at",
                "reason",
                "actor_id",
                "actor_label",
            ],
            select(
                o.c.id,
                o.c.revision,
                o.c.value,
                o.c.numerator,
                o.c.denominator,
                o.c.comment,
                o.c.submission_id,
                literal(ctx.submission_id, Integer),
                now,
                literal(ctx.reason, Text),
                literal(ctx.actor_id, Integer),
                literal(ctx.actor_label, Text),
            )
            .select_from(o.join(s, joined))
            .where(differs),
        )
    )
    # 2. The new values in place; the revision number says the value was replaced.
    return conn.execute(
        update(o)
        .where(joined, differs)
        .values(
            value=s.c.value,
            numerator=s.c.numerator,
            denominator=s.c.denominator,
            comment=s.c.comment,
            submission_id=ctx.submission_id,
            revision=o.c.revision + 1,
            flag_status="none",
            flag_score=None,
            updated_at=now,
        )
    ).rowcount


def _insert_new(conn, ctx: WriteContext, s, joined, now) -> int:
    # 3. Values the centre never sent before.
    existing = select(o.c.id).where(joined).exists()
    return conn.execute(
        insert(o).from_select(
            [
                "centre_id",
                "metric_id",
                "period_id",
                "value",
                "numerator",
                "denominator",
                "comment",
                "submission_id",
                "revision",
                "flag_status",
                "created_at",
                "updated_at",
            ],
            select(
                literal(ctx.centre_id, Integer),
                s.c.metric_id,
                s.c.period_id,
                s.c.value,
                s.c.numerator,
                s.c.denominator,
                s.c.comment,
                literal(ctx.submission_id, Integer),
                literal(1, Integer),
                literal("none", Text),
                now,
                now,
            ).where(~existing),
        ),
        # SQLAlchemy keeps rowcount only for UPDATE and DELETE unless asked.
        execution_options={"preserve_rowcount": True},
    ).rowcount
