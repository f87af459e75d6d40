"""The market's early-warning state: each centre × metric's latest variation, stored.

One row per centre and metric code whose latest segment (metric version) has at least 8
published figures: the kind of its latest point and the rules it breaks. Written for the
whole market when a period is published and for one centre when its restatements are
approved (benchmarks/market_signals.py), so market-wide readers (the authority's signals
page, alerts) read 32,000 rows instead of charting 1.28 million figures. A centre's own page
charts its series live, closed periods included for those who may see them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace import clock
from marketplace.benchmarks import spc
from marketplace.benchmarks.models import Metric, ReportingPeriod
from marketplace.catalogue.models import ServiceCentre
from marketplace.db import IdMixin, UTCDateTime, one_of
from marketplace.extensions import db


class LatestVariation(IdMixin, db.Model):
    __tablename__ = "latest_variations"

    centre_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("service_centres.id", ondelete="CASCADE"), nullable=False
    )
    metric_code: Mapped[str] = mapped_column(String(60), nullable=False)
    # The metric version of the latest segment, and the quarter of its latest point.
    metric_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("metrics.id", ondelete="CASCADE"), nullable=False
    )
    period_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("reporting_periods.id", ondelete="CASCADE"), nullable=False
    )
    value: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    # The spc.RULES the point breaks, comma-separated in RULES order; '' for common cause.
    rules: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)

    centre: Mapped[ServiceCentre] = relationship()
    metric: Mapped[Metric] = relationship()
    period: Mapped[ReportingPeriod] = relationship()

    __table_args__ = (
        UniqueConstraint("centre_id", "metric_code"),
        CheckConstraint(one_of("kind", spc.KINDS), name="kind"),
        CheckConstraint("(kind = 'common_cause') = (rules = '')", name="rules_match_kind"),
    )
