"""Opening reporting periods (benchmarks.periods does the work; this refuses duplicates)."""

from __future__ import annotations

from marketplace.benchmarks import periods as period_service
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.errors import Conflict, FieldError


def open_period(code: str, *, actor) -> ReportingPeriod:
    period, created = period_service.ensure_period(code, actor=actor)
    if not created:
        raise Conflict(
            f"{period.code} already exists; it is {period.status}.",
            errors=[FieldError(f"{period.code} is already {period.status}.", "period")],
        )
    return period
