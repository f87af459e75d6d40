"""What the contracts area does when a lower or higher area announces a change.

- `period_published` (sent by publications when a period becomes published): rate every
  live contract's KPIs for it.
- `restatements_approved` (sent by benchmarks when restated figures are applied): rate the
  restated periods again, so a changed figure gets its new computed rating.
Both are idempotent: a rating whose figure has not moved is left as it is.
"""

from __future__ import annotations

from marketplace import events
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.contracts import ratings
from marketplace.extensions import db


def _rate_published(period, *, actor_label=None, **_) -> None:
    ratings.rate_period(period, actor_label=actor_label)


def _rate_restated(_restatements, *, period_ids, actor_label=None, **_) -> None:
    for period_id in sorted(period_ids):
        period = db.session.get(ReportingPeriod, period_id)
        if period is not None and period.status == "published":
            ratings.rate_period(period, actor_label=actor_label)


def connect() -> None:
    events.period_published.connect(_rate_published)
    events.restatements_approved.connect(_rate_restated)
