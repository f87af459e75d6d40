"""The metric library as people read it: current definitions grouped by service line."""

from __future__ import annotations

from marketplace.benchmarks.models import Metric
from marketplace.catalogue.models import ServiceLine
from marketplace.extensions import db


def metric_library() -> list[tuple[ServiceLine, list]]:
    """The current definition of every metric, grouped by service line in display order."""
    metrics = (
        db.session.execute(
            db.select(Metric)
            .join(ServiceLine, ServiceLine.id == Metric.service_line_id)
            .where(Metric.is_current)
            .order_by(ServiceLine.position, ServiceLine.code, Metric.position, Metric.code)
        )
        .scalars()
        .all()
    )
    groups: list[tuple[ServiceLine, list]] = []
    for metric in metrics:
        if not groups or groups[-1][0].id != metric.service_line_id:
            groups.append((metric.service_line, []))
        groups[-1][1].append(metric)
    return groups
