"""A centre's latest value of each metric: the 'Latest benchmark values' of its page."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func

from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod
from marketplace.catalogue.access import sees_unpublished
from marketplace.catalogue.models import ServiceCentre, ServiceLine
from marketplace.extensions import db


@dataclass(frozen=True)
class LatestValue:
    metric_code: str
    metric_name: str
    metric_version: int
    service_line: str
    service_line_name: str
    unit: str
    unit_label: str
    decimals: int
    value: Decimal
    period_code: str
    period_label: str
    published: bool


def latest_values(centre: ServiceCentre, viewer=None) -> list[LatestValue]:
    """The centre's latest value of each metric, with its period; one query."""
    ranked = (
        db.select(
            Observation.id.label("observation_id"),
            func.row_number()
            .over(
                partition_by=Metric.code,
                order_by=ReportingPeriod.newest_first(),
            )
            .label("rank"),
        )
        .join(Metric, Metric.id == Observation.metric_id)
        .join(ReportingPeriod, ReportingPeriod.id == Observation.period_id)
        .where(Observation.centre_id == centre.id)
    )
    if not sees_unpublished(viewer, centre):
        ranked = ranked.where(ReportingPeriod.status == "published")
    ranked = ranked.subquery()
    rows = db.session.execute(
        db.select(Observation.value, Metric, ReportingPeriod, ServiceLine)
        .join(ranked, ranked.c.observation_id == Observation.id)
        .join(Metric, Metric.id == Observation.metric_id)
        .join(ReportingPeriod, ReportingPeriod.id == Observation.period_id)
        .join(ServiceLine, ServiceLine.id == Metric.service_line_id)
        .where(ranked.c.rank == 1)
        .order_by(ServiceLine.position, ServiceLine.code, Metric.position, Metric.code)
    ).all()
    return [
        LatestValue(
            metric_code=metric.code,
            metric_name=metric.name,
            metric_version=metric.version,
            service_line=line.code,
            service_line_name=line.name,
            unit=metric.unit,
            unit_label=metric.unit_label,
            decimals=metric.decimals,
            value=value,
            period_code=period.code,
            period_label=period.label,
            published=period.status == "published",
        )
        for value, metric, period, line in rows
    ]
