"""Contracts made by awards, their KPIs, and each published quarter's KPI ratings.

The database carries the rules, not only the services:
- one contract per award outcome (unique FK to evaluation_outcomes); value >= 0, it ends
  after it starts;
- a KPI is a library metric (one per metric in a contract), with a target, a direction
  copied from the metric, and the centre's baseline at award, or a stated reason why there
  is none;
- a rating is one per (KPI, period), computed in one of the four ratings; an override is one
  of the four too, and needs its reason, who and when;
- on PostgreSQL a deferred constraint trigger (migration 0014) refuses, at commit, a contract
  with fewer than MIN_KPIS KPIs (the service checks the same everywhere).

The contract's FK to the award outcome is a column only: selection sits above contracts in
the layers, so this area never imports its models (selection reads its contract from here).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace import clock
from marketplace.accounts.models import Organisation, User
from marketplace.benchmarks.models import DIRECTIONS, Metric, ReportingPeriod
from marketplace.catalogue.models import ServiceCentre
from marketplace.db import IdMixin, UTCDateTime, one_of
from marketplace.extensions import db

MIN_KPIS = 3
MAX_KPIS = 10
RATINGS = ("good", "approaching_target", "requires_improvement", "inadequate")
RATING_LABELS = {
    "good": "Good",
    "approaching_target": "Approaching target",
    "requires_improvement": "Requires improvement",
    "inadequate": "Inadequate",
}


def new_public_id() -> str:
    return secrets.token_hex(8)


class Contract(IdMixin, db.Model):
    """The contract an award made: who buys from whom, for how much, for how long."""

    __tablename__ = "contracts"

    public_id: Mapped[str] = mapped_column(
        String(32), unique=True, nullable=False, default=new_public_id
    )
    outcome_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("evaluation_outcomes.id", ondelete="RESTRICT"),
        nullable=False,
        unique=True,
    )
    organisation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    centre_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("service_centres.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    # {service line code: annual volume}
    annual_volumes: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)
    awarded_by_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    centre: Mapped[ServiceCentre] = relationship(lazy="joined")
    awarded_by: Mapped[User] = relationship()
    kpis: Mapped[list[ContractKpi]] = relationship(
        back_populates="contract", order_by="ContractKpi.position"
    )

    __table_args__ = (
        CheckConstraint("value >= 0", name="value_not_negative"),
        CheckConstraint("ends_on > starts_on", name="dates_ordered"),
        CheckConstraint("length(trim(title)) > 0", name="title_not_blank"),
    )

    def live_in(self, period: ReportingPeriod) -> bool:
        """The contract runs during some of the quarter."""
        return self.starts_on <= period.ends_on and self.ends_on >= period.starts_on


class ContractKpi(IdMixin, db.Model):
    """A KPI of a contract: a library metric, its target and the centre's baseline."""

    __tablename__ = "contract_kpis"

    contract_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("contracts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    metric_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("metrics.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    target: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False)
    # Copied from the metric at award, so the rating's direction is the contract's.
    direction: Mapped[str] = mapped_column(String(10), nullable=False)
    # The centre's latest published figure of the metric at award, and its period; or none,
    # with the reason.
    baseline: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    baseline_period_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("reporting_periods.id", ondelete="RESTRICT")
    )
    baseline_note: Mapped[str | None] = mapped_column(Text)

    contract: Mapped[Contract] = relationship(back_populates="kpis")
    metric: Mapped[Metric] = relationship(lazy="joined")
    baseline_period: Mapped[ReportingPeriod | None] = relationship()
    ratings: Mapped[list[KpiRating]] = relationship(back_populates="kpi")

    __table_args__ = (
        UniqueConstraint("contract_id", "metric_id"),
        CheckConstraint(one_of("direction", DIRECTIONS), name="direction"),
        CheckConstraint(
            "(baseline IS NOT NULL AND baseline_period_id IS NOT NULL AND baseline_note IS NULL)"
            " OR (baseline IS NULL AND baseline_period_id IS NULL"
            " AND baseline_note IS NOT NULL AND length(trim(baseline_note)) > 0)",
            name="baseline_or_reason",
        ),
    )


class KpiRating(IdMixin, db.Model):
    """A KPI's rating for one published quarter: computed, and the buyer's override if any."""

    __tablename__ = "kpi_ratings"

    kpi_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("contract_kpis.id", ondelete="CASCADE"), nullable=False
    )
    period_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("reporting_periods.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    figure: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False)
    computed: Mapped[str] = mapped_column(String(24), nullable=False)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)
    override: Mapped[str | None] = mapped_column(String(24))
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    kpi: Mapped[ContractKpi] = relationship(back_populates="ratings")
    period: Mapped[ReportingPeriod] = relationship(lazy="joined")
    overridden_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("kpi_id", "period_id"),
        CheckConstraint(one_of("computed", RATINGS), name="computed"),
        CheckConstraint(f"override IS NULL OR {one_of('override', RATINGS)}", name="override"),
        CheckConstraint(
            "(override IS NULL AND override_reason IS NULL AND overridden_by_id IS NULL"
            " AND overridden_at IS NULL)"
            " OR (override IS NOT NULL AND override_reason IS NOT NULL"
            " AND length(trim(override_reason)) > 0 AND overridden_by_id IS NOT NULL"
            " AND overridden_at IS NOT NULL)",
            name="override_needs_reason",
        ),
    )

    @property
    def rating(self) -> str:
        """The rating that stands: the buyer's override, else the computed one."""
        return self.override or self.computed
