"""The set-wise checks of staged rows: every problem the database can see, in one query.

One query joins each staged row to its metric, period, the centre's service lines and the
value the centre holds, and flags each kind of problem (service line offered, valid range,
shares, value = numerator ÷ denominator × scale, duplicates, closed periods, restatements)
together with what the row would change. problems.py words the flags for people.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import Boolean, Float, and_, case, false, func, literal, or_, select

from marketplace.benchmarks.bulk import connection, staging
from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod
from marketplace.catalogue.models import centre_service_lines

o = Observation.__table__
m = Metric.__table__
p = ReportingPeriod.__table__
csl = centre_service_lines

STREAM = {"yield_per": 5000}


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


def _flag(expr):
    # Never NULL: a row the outer joins found nothing for has no such problem.
    return func.coalesce(case((expr, True), else_=False), False)


def _good(s):
    # Cells refused in Python are NULL here; checking them again would repeat the error.
    return s.c.bad_cell.is_(false())


def _row_columns(s, obs) -> list:
    """The staged row itself, its period's status and the value the centre holds now."""
    return [
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
    ]


def _reference_problems(s, today: date) -> list:
    """What the row names: a metric and period that exist, may be sent, and once only."""
    duplicate_rank = func.row_number().over(
        partition_by=(s.c.metric_id, s.c.period_id), order_by=s.c.seq
    )
    first_row = func.first_value(s.c.row_no).over(
        partition_by=(s.c.metric_id, s.c.period_id), order_by=s.c.seq
    )
    return [
        _flag(and_(s.c.metric_code.is_not(None), s.c.metric_id.is_(None))).label("unknown_metric"),
        _flag(and_(s.c.period_code.is_not(None), s.c.period_id.is_(None))).label("unknown_period"),
        _flag(p.c.starts_on > today).label("future"),
        _flag(m.c.status == "retired").label("retired"),
        _flag(and_(m.c.id.is_not(None), csl.c.centre_id.is_(None))).label("not_offered"),
        case(
            (
                and_(s.c.metric_id.is_not(None), s.c.period_id.is_not(None), duplicate_rank > 1),
                first_row,
            ),
            else_=None,
        ).label("duplicate_of"),
    ]


def _value_problems(s) -> list:
    """The figure against its metric: range, share, value = numerator ÷ denominator × scale."""
    good = _good(s)
    return [
        _flag(and_(good, s.c.value < m.c.valid_min)).label("below_min"),
        _flag(and_(good, s.c.value > m.c.valid_max)).label("above_max"),
        _flag(and_(good, m.c.is_share, s.c.numerator > s.c.denominator)).label("share_violation"),
        _flag(
            and_(
                good,
                s.c.numerator.is_not(None),
                s.c.denominator.is_not(None),
                func.abs(s.c.value - s.c.numerator / s.c.denominator * m.c.scale)
                > _tolerance() + func.abs(s.c.value) * 1e-9,
            )
        ).label("inconsistent"),
    ]


def _period_problems(s, obs, reason: str) -> list:
    """A closed period takes only corrections, and each correction needs a reason."""
    return [
        _flag(and_(p.c.status != "open", obs.c.id.is_(None))).label("closed_new"),
        _flag(
            and_(
                _good(s),
                literal(reason == "", Boolean),
                p.c.status != "open",
                obs.c.id.is_not(None),
                _figure_changed(s, obs),
            )
        ).label("needs_reason"),
    ]


def _change_columns(s, obs) -> list:
    """Whether the row changes what is held, and whether that restates a closed period."""
    good = _good(s)
    return [
        _flag(and_(good, _changed(s, obs))).label("changed"),
        _flag(
            and_(good, obs.c.id.is_not(None), p.c.status != "open", _figure_changed(s, obs))
        ).label("restated"),
    ]


def _any_problem(c):
    return or_(
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


def _checked(centre_id: int, reason: str, today: date):
    """Each staged row with every problem the database can see, and what it would change."""
    s = staging
    obs = o.alias("obs")
    inner = (
        select(
            *_row_columns(s, obs),
            *_reference_problems(s, today),
            *_value_problems(s),
            *_period_problems(s, obs, reason),
            *_change_columns(s, obs),
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
    return inner, _any_problem(inner.c)


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
