"""The whole market's latest variations (variation_models.LatestVariation), kept current.

- After a period is published (events.period_published): every centre × metric, from one
  grouped query of published figures; the latest point of each series' latest segment is
  judged by spc_latest (the same answer as the full chart, at a fraction of the cost).
- After restatements are approved (events.restatements_approved): only the centres they
  restate.
Both replace the rows they cover, inside the transaction of the change. bench/signals.py
times them on the national data set.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import all_, bindparam, delete, func, select, text
from sqlalchemy.types import NullType

from marketplace import clock
from marketplace.benchmarks import spc, spc_latest
from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod
from marketplace.benchmarks.variation_models import LatestVariation
from marketplace.benchmarks.visibility import PUBLISHED
from marketplace.catalogue.models import ServiceCentre
from marketplace.db import UTCDateTime
from marketplace.extensions import db


class _Judged(NamedTuple):
    centre_id: int
    metric_id: int  # the metric version the segment's figures were collected under
    last_period_id: int
    kind: str
    rules: str  # the rules broken, comma-separated


def refresh_market() -> int:
    """Recompute every centre's latest variations; returns how many rows were written."""
    return _write(_latest_judgements(None), None)


def refresh_centres(centre_ids: Iterable[int]) -> int:
    ids = sorted(set(centre_ids))
    if not ids:
        return 0
    return _write(_latest_judgements(ids), ids)


_COLUMNS = (
    "centre_id",
    "metric_code",
    "metric_id",
    "period_id",
    "value",
    "kind",
    "rules",
    "computed_at",
)


def _write(judgements: Iterable[_Judged], scope: list[int] | None) -> int:
    """Store the judged series in place of the rows of the centres in scope (None: every
    centre).

    The stored value is the observation's own (read back in the same statement that writes
    the row), so the judging never builds a Decimal: it works on the floats alone.
    """
    centres, metrics, periods, kinds, rules = [], [], [], [], []
    for judged in judgements:
        centres.append(judged.centre_id)
        metrics.append(judged.metric_id)
        periods.append(judged.last_period_id)
        kinds.append(judged.kind)
        rules.append(judged.rules)
    db.session.flush()
    now = clock.now()
    if db.session.get_bind().dialect.name == "postgresql":
        _upsert_unnested(centres, metrics, periods, kinds, rules, now)
        _delete_unjudged(scope, centres, metrics)
        # Core statements bypassed the ORM: forget any loaded copies of the rows they wrote.
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, LatestVariation) and (scope is None or obj.centre_id in scope):
                db.session.expire(obj)
    else:
        stale = delete(LatestVariation)
        if scope is not None:
            stale = stale.where(LatestVariation.centre_id.in_(scope))
        db.session.execute(stale)
        if centres:
            _insert_rows(list(zip(centres, metrics, periods, kinds, rules, strict=True)), now)
    return len(centres)


# Both writers take the code and the value from metrics and observations as they stand in
# this transaction: the stored value is the judged observation's, digit for digit.
_SELECT_STORED = """
SELECT j.centre_id, m.code, j.metric_id, j.period_id, o.value, j.kind, j.rules, :now
FROM {judged}
JOIN metrics AS m ON m.id = j.metric_id
JOIN observations AS o
  ON o.centre_id = j.centre_id AND o.metric_id = j.metric_id AND o.period_id = j.period_id
"""
_INSERT = f"INSERT INTO latest_variations ({', '.join(_COLUMNS)})"
_KEY = ("centre_id", "metric_code")


def _insert_rows(rows: list[tuple[int, int, int, str, str]], now) -> None:
    """The portable writer: one INSERT … SELECT per judged series."""
    judged = (
        "(SELECT :centre_id AS centre_id, :metric_id AS metric_id, :period_id AS period_id, "
        ":kind AS kind, :rules AS rules) AS j"
    )
    statement = text(_INSERT + _SELECT_STORED.format(judged=judged)).bindparams(
        bindparam("now", type_=UTCDateTime)
    )
    db.session.execute(
        statement,
        [
            {
                "centre_id": c,
                "metric_id": m,
                "period_id": p,
                "kind": k,
                "rules": r,
                "now": now,
            }
            for c, m, p, k, r in rows
        ],
    )


def _upsert_unnested(centres, metrics, periods, kinds, rules, now) -> None:
    """PostgreSQL: every judged series in one statement, the columns bound as five arrays.

    One round trip and one plan for 32,000 rows (the per-row INSERT costs seconds); the rows
    are the portable writer's (tests/benchmarks/test_market_signals.py compares them). A
    series already stored is updated in place rather than deleted and inserted again: its
    centre and (but for a version break) its metric stay, so PostgreSQL checks only the
    period's foreign key, where an insert checks all three (two thirds of the write's cost
    on the national set).
    """
    judged = (
        "unnest(CAST(:centres AS integer[]), CAST(:metrics AS integer[]), "
        "CAST(:periods AS integer[]), CAST(:kinds AS text[]), CAST(:rules AS text[])) "
        "AS j(centre_id, metric_id, period_id, kind, rules)"
    )
    statement = text(
        _INSERT
        + _SELECT_STORED.format(judged=judged)
        + "ON CONFLICT (centre_id, metric_code) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c not in _KEY)
    ).bindparams(bindparam("now", type_=UTCDateTime))
    db.session.execute(
        statement,
        {
            "centres": centres,
            "metrics": metrics,
            "periods": periods,
            "kinds": kinds,
            "rules": rules,
            "now": now,
        },
    )


def _delete_unjudged(scope: list[int] | None, centres: list[int], metrics: list[int]) -> None:
    """PostgreSQL: the stored rows in scope that this judgement did not write (a series
    whose latest segment has fewer than 8 published figures now)."""
    db.session.execute(
        text(
            "DELETE FROM latest_variations WHERE (CAST(:scope AS integer[]) IS NULL "
            "OR centre_id = ANY(CAST(:scope AS integer[]))) AND (centre_id, metric_id) NOT IN "
            "(SELECT * FROM unnest(CAST(:centres AS integer[]), CAST(:metrics AS integer[])))"
        ),
        {"scope": scope, "centres": centres, "metrics": metrics},
    )


def _latest_judgements(centre_ids: list[int] | None) -> Iterator[_Judged]:
    """The judgement of each (centre, metric code)'s newest-version segment of published
    figures, where spc_latest can judge it (8 figures or more).

    A segment is a centre's figures of one metric version (Observation.metric_id), so a
    version break starts a new one; only the newest version's is judged, as the chart's
    variation is its latest segment's. Quarters without a figure are simply absent.

    Each segment is judged as it arrives and only the small result is kept, unless a newer
    version of the same series has been seen already: so the database streams while Python
    judges, and 64,000 lists of figures are never held at once (holding them made the
    cyclic collector walk them again and again: 0.4 s on the national set).
    """
    latest = spc_latest.latest
    metrics = {
        metric_id: (code, version, direction == "higher")
        for metric_id, code, version, direction in db.session.execute(
            select(Metric.id, Metric.code, Metric.version, Metric.direction)
        )
    }
    # Quarter order, worked out once: each published period's place in it.
    published = list(
        db.session.execute(
            select(ReportingPeriod.id)
            .where(ReportingPeriod.status == PUBLISHED)
            .order_by(ReportingPeriod.year, ReportingPeriod.quarter)
        ).scalars()
    )
    place = {period_id: index for index, period_id in enumerate(published)}
    # Periods are usually created in quarter order; then a series sorted by id is in order.
    ids_in_quarter_order = published == sorted(published)
    grouped = (
        _grouped_in_postgresql(centre_ids)
        if db.session.get_bind().dialect.name == "postgresql"
        else _grouped_in_python(centre_ids)
    )
    # (centre, code) -> (version, its judgement or None: a newest segment too short to judge
    # still hides an older version's)
    newest: dict[tuple[int, str], tuple[int, _Judged | None]] = {}
    for centre_id, metric_id, period_ids, values in grouped:
        code, version, higher_is_better = metrics[metric_id]
        held = newest.get((centre_id, code))
        if held is not None and held[0] > version:
            continue
        if not (ids_in_quarter_order and period_ids == sorted(period_ids)):
            # Neither database promises an aggregate's (or a group's) input order: put the
            # figures in quarter order here, where it is cheap (40 points at most).
            pairs = sorted(zip(period_ids, values, strict=True), key=lambda pv: place[pv[0]])
            period_ids = [p for p, _v in pairs]
            values = [v for _p, v in pairs]
        judged = latest(values, higher_is_better=higher_is_better)
        newest[(centre_id, code)] = (
            version,
            None
            if judged is None
            else _Judged(centre_id, metric_id, period_ids[-1], judged.kind, ",".join(judged.rules)),
        )
    for _version, judged in newest.values():
        if judged is not None:
            yield judged


def _published(query, centre_ids):
    unpublished = select(ReportingPeriod.id).where(ReportingPeriod.status != PUBLISHED)
    if db.session.get_bind().dialect.name == "postgresql":
        # "Not one of the few unpublished periods", an array worked out once per statement
        # (an InitPlan), where a join to reporting_periods (or NOT IN, a hashed subplan)
        # probes once for each of 1.28 million figures and steers the plan off the unique
        # key's order, into a sort or a hash aggregate that spills to disk.
        query = query.where(
            Observation.period_id != all_(func.array(unpublished.scalar_subquery()))
        )
    else:
        query = query.where(Observation.period_id.not_in(unpublished))
    if centre_ids is not None:
        query = query.where(Observation.centre_id.in_(centre_ids))
    return query


def _grouped_in_postgresql(centre_ids) -> Iterator[tuple[int, int, list[int], list[float]]]:
    """One row per centre × metric version: its periods and figures as two aligned arrays.

    Nothing is sorted in the database: the groups are read in the order of the unique key
    (centre, metric, period), and every aggregate of a group sees the same rows in the same
    order, so the two arrays pair up. value::float8 is PostgreSQL's correctly rounded
    conversion, the same double Python's float(Decimal) gives, so the judgement matches the
    per-centre charts exactly. The arrays are typed NullType so that psycopg's lists are
    taken as they come (SQLAlchemy's per-item processing cost more than the query).

    The rows are streamed (psycopg's cursor.stream, in chunks) on the session's own
    connection, so in this transaction: PostgreSQL aggregates the next groups while Python
    judges the last ones, where fetching all 32,000 first made one wait for the other (on
    the national set 0.42 s for the read and the judging together, against 1.1 s).
    """
    query = (
        select(
            Observation.centre_id,
            Observation.metric_id,
            func.array_agg(Observation.period_id, type_=NullType()),
            func.array_agg(Observation.value.cast(db.Float(53)), type_=NullType()),
        )
        .select_from(Observation)
        .group_by(Observation.centre_id, Observation.metric_id)
    )
    db.session.flush()  # the raw cursor does not autoflush: the session's changes first
    connection = db.session.connection()
    compiled = _published(query, centre_ids).compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        yield from cursor.stream(str(compiled), compiled.params, size=_STREAMED_ROWS)
    finally:
        cursor.close()


# Rows a chunk of the stream holds: large enough that a chunk's overhead is nothing, small
# enough that the database keeps working while Python judges.
_STREAMED_ROWS = 500


def _grouped_in_python(centre_ids) -> Iterator[tuple[int, int, list[int], list[float]]]:
    query = (
        select(
            Observation.centre_id, Observation.metric_id, Observation.period_id, Observation.value
        )
        .select_from(Observation)
        .order_by(Observation.centre_id, Observation.metric_id)
    )
    current = None
    period_ids: list[int] = []
    values: list[float] = []
    for centre_id, metric_id, period_id, value in db.session.execute(_published(query, centre_ids)):
        if (centre_id, metric_id) != current:
            if current is not None:
                yield (*current, period_ids, values)
            current, period_ids, values = (centre_id, metric_id), [], []
        period_ids.append(period_id)
        values.append(float(value))
    if current is not None:
        yield (*current, period_ids, values)


@dataclass(frozen=True)
class Concern:
    metric: Metric  # the version of the judged segment: its name, unit and decimals
    period: ReportingPeriod  # the quarter of the latest point
    value: Decimal
    rules: tuple[str, ...]


def _concerns(*also):
    """The stored concerns with their metric and period (and `also`, e.g. the centre): one
    select for a centre's summary and for the authority's list alike."""
    return (
        select(
            LatestVariation.centre_id,
            Metric,
            ReportingPeriod,
            LatestVariation.value,
            LatestVariation.rules,
            *also,
        )
        .join(Metric, Metric.id == LatestVariation.metric_id)
        .join(ReportingPeriod, ReportingPeriod.id == LatestVariation.period_id)
        .where(LatestVariation.kind == spc.CONCERN)
    )


def _concern(metric, period, value, rules: str) -> Concern:
    return Concern(metric, period, value, tuple(filter(None, rules.split(","))))


def stored_concerns(centre_ids: Iterable[int]) -> dict[int, list[Concern]]:
    """{centre id: its stored concerns} for these centres, in one query (a centre with none
    is absent)."""
    ids = sorted(set(centre_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        _concerns()
        .where(LatestVariation.centre_id.in_(ids))
        .order_by(LatestVariation.centre_id, LatestVariation.metric_code)
    ).all()
    found: dict[int, list[Concern]] = {}
    for centre_id, metric, period, value, rules in rows:
        found.setdefault(centre_id, []).append(_concern(metric, period, value, rules))
    return found


def concerns_by_centre() -> list[tuple[ServiceCentre, list[Concern]]]:
    """Every centre whose latest published point of some metric is special cause concern,
    with those metrics, the centres in name order (from the stored judgement)."""
    rows = db.session.execute(
        _concerns(ServiceCentre)
        .join(ServiceCentre, ServiceCentre.id == LatestVariation.centre_id)
        .order_by(ServiceCentre.name, ServiceCentre.id, Metric.position, Metric.code)
    ).all()
    grouped: dict[int, tuple[ServiceCentre, list[Concern]]] = {}
    for centre_id, metric, period, value, rules, centre in rows:
        grouped.setdefault(centre_id, (centre, []))[1].append(
            _concern(metric, period, value, rules)
        )
    return list(grouped.values())


def judged_count() -> int:
    return db.session.execute(select(func.count()).select_from(LatestVariation)).scalar_one()
