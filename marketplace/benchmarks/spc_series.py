"""A centre's series for statistical process control, read from the database (DOMAIN.md).

For each metric a centre reports: its figures in quarter order, quarters without a figure
skipped, one segment per metric version (an Observation keeps the version it was collected
under), each charted on its own by benchmarks/spc.py. Who sees what (CONTRACT.md): everyone
sees published periods; the centre itself and admins also see closed ones. Open periods
(still being collected) are charted for nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from marketplace.benchmarks import spc
from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod
from marketplace.benchmarks.visibility import PUBLISHED, Audience
from marketplace.errors import NotFound
from marketplace.extensions import db

CLOSED = "closed"


@dataclass(frozen=True)
class Series:
    metric: Metric  # the newest version the series reaches: its name, unit and direction
    segments: tuple[tuple[tuple[str, Decimal], ...], ...]  # per version, oldest first
    versions: tuple[int, ...]  # the metric version of each segment

    def chart(self, target=None) -> spc.Chart:
        return spc.chart(
            self.segments, higher_is_better=self.metric.higher_is_better, target=target
        )


def visible_statuses(audience: Audience, centre_id: int) -> tuple[str, ...]:
    """The period statuses whose figures of this centre the audience may chart."""
    if audience.is_admin or audience.own_centre_id == centre_id:
        return (PUBLISHED, CLOSED)
    return (PUBLISHED,)


def centre_series(
    centre_id: int, audience: Audience, metric_codes: Iterable[str] | None = None
) -> dict[str, Series]:
    """{metric code: Series} of every metric the centre has visible figures for, in two queries.

    Ordered as the metric library is (service line, the metric's position, then code). The
    unique key (centre, metric, period) of observations serves the lookup.
    """
    # The metric's id per row, not the Metric entity: a national centre has 1,280 figures,
    # and building (and identity-checking) an ORM row with its joined service line for each
    # cost far more than the query. Each metric version is loaded once, below.
    query = (
        db.select(Observation.metric_id, Metric.code, ReportingPeriod.code, Observation.value)
        .select_from(Observation)
        .join(Observation.metric)
        .join(Observation.period)
        .where(
            Observation.centre_id == centre_id,
            ReportingPeriod.status.in_(visible_statuses(audience, centre_id)),
        )
        .order_by(Metric.code, Metric.version, ReportingPeriod.year, ReportingPeriod.quarter)
    )
    if metric_codes is not None:
        query = query.where(Metric.code.in_(sorted(set(metric_codes))))
    found = db.session.execute(query).all()
    metrics = {
        metric.id: metric
        for metric in db.session.execute(
            db.select(Metric).where(Metric.id.in_(sorted({row[0] for row in found})))
        ).scalars()
    }
    grouped: dict[str, list[tuple[Metric, str, Decimal]]] = {}
    for metric_id, code, period_code, value in found:
        grouped.setdefault(code, []).append((metrics[metric_id], period_code, value))
    series = {code: _series(rows) for code, rows in grouped.items()}
    return dict(sorted(series.items(), key=lambda item: _library_order(item[1].metric)))


def _library_order(metric: Metric) -> tuple:
    return (metric.service_line.position, metric.service_line.code, metric.position, metric.code)


def _series(rows: list[tuple[Metric, str, Decimal]]) -> Series:
    segments: list[list[tuple[str, Decimal]]] = []
    versions: list[int] = []
    for metric, period_code, value in rows:
        if not versions or versions[-1] != metric.version:
            segments.append([])
            versions.append(metric.version)
        segments[-1].append((period_code, value))
    newest = rows[-1][0]
    return Series(newest, tuple(tuple(s) for s in segments), tuple(versions))


def metric_series(centre_id: int, audience: Audience, code: str) -> tuple[Metric, Series | None]:
    """The metric (its current definition) and the centre's series of it, if it has one.

    NotFound when no metric has that code.
    """
    metric = db.session.execute(
        db.select(Metric)
        .where(Metric.code == code)
        .order_by(Metric.is_current.desc(), Metric.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    if metric is None:
        raise NotFound(f"There is no metric '{code}'.")
    return metric, centre_series(centre_id, audience, [code]).get(code)
