"""The benchmarks section of a centre's profile: each metric's value, peer median, band and
the trend over the last 8 quarters, as this viewer may see them.

The section shows one period: the newest the viewer may see in which the centre reported
anything (a centre's own users also see their unpublished figures, without statistics).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from markupsafe import Markup

from marketplace.benchmarks import narrowing, peers, readings
from marketplace.benchmarks.charts import sparkline
from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod
from marketplace.benchmarks.visibility import audience_for
from marketplace.catalogue.models import ServiceCentre, ServiceLine
from marketplace.extensions import db


@dataclass
class BenchmarkRow:
    metric: Metric
    value: Decimal | None
    median: float | None
    n: int | None
    withheld: bool  # statistics exist but are not shown to this viewer
    percentile: float | None
    band: int | None
    restated: bool
    trend: list[tuple[str, float | None]]
    direction: str | None
    chart: Markup
    corrected: bool = False  # changed before publication ("restated" is for published ones)
    group: str | None = None  # a narrowed group's definition, with n
    too_few: str | None = None  # why a narrowed group shows no statistics


@dataclass
class CentreBenchmarks:
    period: ReportingPeriod | None
    rows: list[BenchmarkRow] = field(default_factory=list)
    threshold: int = 5
    peer_filter: narrowing.PeerFilter = narrowing.STANDARD

    @property
    def published(self) -> bool:
        return self.period is not None and self.period.status == "published"


def centre_benchmarks(
    centre: ServiceCentre, viewer, peer_filter: narrowing.PeerFilter = narrowing.STANDARD
) -> CentreBenchmarks:
    """With a narrowing peer_filter (signed-in viewers only), against the narrowed groups."""
    audience = audience_for(viewer)
    narrowing.require_narrowing(audience, peer_filter)
    periods = _periods_seen(audience, centre)
    result = CentreBenchmarks(period=None, threshold=audience.threshold, peer_filter=peer_filter)
    period = _latest_reported(centre, periods)
    if period is None:
        return result
    result.period = period
    metrics = _metrics_offered(centre)
    window = readings.trend_window(period, periods)
    window_ids = [p.id for _code, p in window if p is not None]
    values = readings.readings([m.id for m in metrics], window_ids, [centre.id])
    reported = {metric_id for metric_id, _p, _c in values}
    stats_by = peers.stats_for([m.id for m in metrics], [period.id])
    narrowed = {}
    if peer_filter.narrowed:
        narrowed = narrowing.narrowed_groups(
            peer_filter,
            period,
            {m.id: stats_by.get((m.id, period.id)) for m in metrics if m.id in reported},
        )
    for metric in metrics:
        if metric.id in reported:
            stats = stats_by.get((metric.id, period.id))
            row = _row(audience, centre, metric, period, stats, values, window)
            if metric.id in narrowed:
                _narrow_row(row, audience, period, narrowed[metric.id], centre.id)
            result.rows.append(row)
    return result


def _narrow_row(row: BenchmarkRow, audience, period, group, centre_id: int) -> None:
    """The row's peer figures from the narrowed group, shown only from MIN_PEER_GROUP."""
    visible = group.disclosable and audience.period_visible(period)
    row.median = group.median if visible else None
    row.n = group.n if visible else None
    row.withheld = not visible
    row.percentile, row.band = (
        peers.position(row.metric, group, row.value)
        if visible and row.value is not None and peers.is_peer(group, centre_id)
        else (None, None)
    )
    row.group, row.too_few = group.label, group.too_few


def _periods_seen(audience, centre: ServiceCentre) -> list[ReportingPeriod]:
    if audience.own_centre_id == centre.id and not audience.sees_unpublished:
        # A centre always sees its own figures; the statistics stay with the rules.
        return list(
            db.session.execute(
                db.select(ReportingPeriod).order_by(*ReportingPeriod.newest_first())
            ).scalars()
        )
    return readings.visible_periods(audience)


def _latest_reported(centre: ServiceCentre, periods) -> ReportingPeriod | None:
    """The newest of `periods` in which the centre reported a figure."""
    if not periods:
        return None
    latest_id = db.session.execute(
        db.select(Observation.period_id)
        .join(ReportingPeriod, ReportingPeriod.id == Observation.period_id)
        .where(
            Observation.centre_id == centre.id,
            Observation.period_id.in_([p.id for p in periods]),
        )
        .order_by(*ReportingPeriod.newest_first())
        .limit(1)
    ).scalar_one_or_none()
    return next((p for p in periods if p.id == latest_id), None)


def _metrics_offered(centre: ServiceCentre) -> list[Metric]:
    return list(
        db.session.execute(
            db.select(Metric)
            .join(Metric.service_line)
            .where(
                Metric.is_current.is_(True),
                Metric.status == "active",
                Metric.service_line_id.in_([line.id for line in centre.service_lines]),
            )
            .order_by(ServiceLine.position, ServiceLine.code, Metric.position, Metric.code)
        ).scalars()
    )


def _row(audience, centre, metric, period, stats, values, window) -> BenchmarkRow:
    reading = values.get((metric.id, period.id, centre.id))
    visible = audience.stats_visible(period, stats)
    value = reading.value if reading is not None else None
    kind = (
        readings.change_kind(period, reading.revision, reading.updated_at)
        if reading is not None
        else None
    )
    percentile, band = readings.standing(audience, metric, period, stats, centre.id, value)
    trend = [
        (
            label,
            readings.as_float(values[metric.id, p.id, centre.id].value)
            if p is not None and (metric.id, p.id, centre.id) in values
            else None,
        )
        for label, p in window
    ]
    return BenchmarkRow(
        metric=metric,
        value=value,
        median=stats.median if visible else None,
        n=stats.n if visible else None,
        withheld=stats is not None and not visible,
        percentile=percentile,
        band=band,
        restated=kind == "restated",
        corrected=kind == "corrected",
        trend=trend,
        direction=readings.trend_direction(
            [v for _label, v in trend], higher_is_better=metric.higher_is_better
        ),
        chart=sparkline(
            trend,
            chart_id=f"trend-{metric.code}",
            title=f"{metric.name}: {centre.name}, last 8 quarters",
            decimals=metric.decimals,
        ),
    )
