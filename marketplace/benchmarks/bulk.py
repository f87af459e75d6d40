"""The bulk write path: stage the rows, check them set-wise in SQL, then write them set-wise.

PostgreSQL streams rows into a temporary staging table with COPY; SQLite fills it with Core
executemany in batches. From there on both run the same SQL: one query (set_checks.py) finds
every row-level problem that needs the database together with the rows that change; the
writes here are three set-wise statements (revisions of the old values, updates, inserts).
Memory stays flat: rows are never all held in Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    and_,
    bindparam,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.schema import CreateTable

from marketplace.benchmarks.models import Metric, Observation, ObservationRevision, ReportingPeriod
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
