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
from datetime import UTC
from decimal import Decimal

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from marketplace import clock
from marketplace.benchmarks import spc_latest
from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod
from marketplace.benchmarks.variation_models import LatestVariation
from marketplace.benchmarks.visibility import PUBLISHED
from marketplace.catalogue.models import ServiceCentre
from marketplace.extensions import db


@dataclass(frozen=True)
class _Segment:
    centre_id: int
    metric_id: int
    code: str
    version: int
    higher_is_better: bool
    values: list[float]  # published figures, oldest first
    last_period_id: int
    last_value: Decimal


def refresh_market() -> int:
    """Recompute every centre's latest variations; returns how many rows were written."""
    db.session.execute(delete(LatestVariation))
    return _write(_latest_segments(None))


def refresh_centres(centre_ids: Iterable[int]) -> int:
    ids = sorted(set(centre_ids))
    if not ids:
        return 0
    db.session.execute(delete(LatestVariation).where(LatestVariation.centre_id.in_(ids)))
    return _write(_latest_segments(ids))


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


def _write(segments: Iterator[_Segment]) -> int:
    now = clock.now().astimezone(UTC)  # as UTCDateTime binds it (COPY bypasses the type)
    rows = []
    for seg in segments:
        judged = spc_latest.latest(seg.values, higher_is_better=seg.higher_is_better)
        if judged is None:
            continue
        rows.append(
            (
                seg.centre_id,
                seg.code,
                seg.metric_id,
                seg.last_period_id,
                seg.last_value,
                judged.kind,
                ",".join(judged.rules),
                now,
            )
        )
    db.session.flush()
    if rows:
        if db.session.get_bind().dialect.name == "postgresql":
            _copy_rows(rows)
        else:
            _insert_rows(rows)
    return len(rows)


def _insert_rows(rows: list[tuple]) -> None:
    db.session.execute(insert(LatestVariation), [dict(zip(_COLUMNS, r, strict=True)) for r in rows])
    db.session.flush()


def _copy_rows(rows: list[tuple]) -> None:
    """COPY into latest_variations on the session's own connection (same transaction).

    The same rows the portable INSERT writes (tests/benchmarks/test_market_signals.py runs
    on both databases); at 32,000 rows it saves the executemany round trips and parameter
    binding (bench/README.md, "Early-warning signals").
    """
    table = LatestVariation.__table__
    cursor = db.session.connection().connection.dbapi_connection.cursor()
    statement = f"COPY {table.name} ({', '.join(_COLUMNS)}) FROM STDIN"
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _latest_segments(centre_ids: list[int] | None) -> Iterator[_Segment]:
    """Each (centre, metric code)'s newest-version segment of published figures."""
    segments = (
        _grouped_in_postgresql(centre_ids)
        if db.session.get_bind().dialect.name == "postgresql"
        else _grouped_in_python(centre_ids)
    )
    newest: dict[tuple[int, str], _Segment] = {}
    for seg in segments:
        key = (seg.centre_id, seg.code)
        if key not in newest or seg.version > newest[key].version:
            newest[key] = seg
    return iter(newest.values())


def _published(query, centre_ids):
    query = query.where(ReportingPeriod.status == PUBLISHED)
    if centre_ids is not None:
        query = query.where(Observation.centre_id.in_(centre_ids))
    return query


def _grouped_in_postgresql(centre_ids) -> Iterator[_Segment]:
    """One row per centre × metric version, its figures aggregated in the database.

    value::float8 is PostgreSQL's correctly rounded conversion, the same double Python's
    float(Decimal) gives, so the judgement matches the per-centre charts exactly.
    """
    oldest_first = (ReportingPeriod.year, ReportingPeriod.quarter)
    newest_first = (ReportingPeriod.year.desc(), ReportingPeriod.quarter.desc())
    query = (
        select(
            Observation.centre_id,
            Metric.id,
            Metric.code,
            Metric.version,
            Metric.direction,
            func.array_agg(aggregate_order_by(Observation.value.cast(db.Float(53)), *oldest_first)),
            func.array_agg(aggregate_order_by(ReportingPeriod.id, *newest_first))[1],
            func.array_agg(aggregate_order_by(Observation.value, *newest_first))[1],
        )
        .select_from(Observation)
        .join(Observation.metric)
        .join(Observation.period)
        .group_by(Observation.centre_id, Metric.id, Metric.code, Metric.version, Metric.direction)
    )
    for row in db.session.execute(_published(query, centre_ids)):
        centre_id, metric_id, code, version, direction, values, period_id, value = row
        yield _Segment(
            centre_id, metric_id, code, version, direction == "higher", values, period_id, value
        )


def _grouped_in_python(centre_ids) -> Iterator[_Segment]:
    query = (
        select(
            Observation.centre_id,
            Metric.id,
            Metric.code,
            Metric.version,
            Metric.direction,
            ReportingPeriod.id,
            Observation.value,
        )
        .select_from(Observation)
        .join(Observation.metric)
        .join(Observation.period)
        .order_by(Observation.centre_id, Metric.id, ReportingPeriod.year, ReportingPeriod.quarter)
    )
    current = None
    values: list[float] = []
    last = None
    for centre_id, metric_id, code, version, direction, period_id, value in db.session.execute(
        _published(query, centre_ids)
    ):
        key = (centre_id, metric_id)
        if key != current:
            if current is not None:
                yield _Segment(*last[:5], values, last[5], last[6])
            current, values = key, []
        values.append(float(value))
        last = (centre_id, metric_id, code, version, direction == "higher", period_id, value)
    if current is not None:
        yield _Segment(*last[:5], values, last[5], last[6])


@dataclass(frozen=True)
class Concern:
    metric: Metric
    period: ReportingPeriod
    value: Decimal
    rules: tuple[str, ...]


def concerns_by_centre() -> list[tuple[ServiceCentre, list[Concern]]]:
    """Every centre whose latest published point of some metric is special cause concern,
    with those metrics, the centres in name order (from the stored judgement)."""
    rows = db.session.execute(
        select(LatestVariation, ServiceCentre, Metric, ReportingPeriod)
        .join(ServiceCentre, ServiceCentre.id == LatestVariation.centre_id)
        .join(Metric, Metric.id == LatestVariation.metric_id)
        .join(ReportingPeriod, ReportingPeriod.id == LatestVariation.period_id)
        .where(LatestVariation.kind == "concern")
        .order_by(ServiceCentre.name, ServiceCentre.id, Metric.position, Metric.code)
    ).all()
    grouped: dict[int, tuple[ServiceCentre, list[Concern]]] = {}
    for variation, centre, metric, period in rows:
        entry = grouped.setdefault(centre.id, (centre, []))
        entry[1].append(
            Concern(
                metric, period, variation.value, tuple(filter(None, variation.rules.split(",")))
            )
        )
    return list(grouped.values())


def judged_count() -> int:
    return db.session.execute(select(func.count()).select_from(LatestVariation)).scalar_one()
