"""Metric library, reporting periods, submissions, observations and peer statistics."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from marketplace import clock
from marketplace.catalogue.models import ServiceCentre, ServiceLine
from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, one_of
from marketplace.extensions import db

UNITS = ("gbp", "count", "days", "percent", "hours", "ratio", "score")
UNIT_LABELS = {
    "gbp": "£",
    "count": "count",
    "days": "days",
    "percent": "%",
    "hours": "hours",
    "ratio": "ratio",
    "score": "score",
}
DIRECTIONS = ("higher", "lower")
METRIC_STATUSES = ("active", "retired")
PERIOD_STATUSES = ("open", "closed", "published")
SUBMISSION_CHANNELS = ("web", "api", "cli", "fixtures")
SUBMISSION_STATUSES = ("accepted", "rejected")
FLAG_STATUSES = ("none", "flagged", "confirmed")


class Metric(IdMixin, TimestampMixin, db.Model):
    """One version of a metric definition; a changed definition is a new row."""

    __tablename__ = "metrics"

    code: Mapped[str] = mapped_column(String(60), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    service_line_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("service_lines.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    definition: Mapped[str] = mapped_column(Text, nullable=False)
    numerator_label: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    denominator_label: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    unit: Mapped[str] = mapped_column(String(20), nullable=False)
    direction: Mapped[str] = mapped_column(String(10), nullable=False)
    valid_min: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    valid_max: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    decimals: Mapped[int] = mapped_column(Integer, nullable=False, default=2)
    # value = numerator / denominator * scale (100 for percentages, 1 otherwise).
    scale: Mapped[Decimal] = mapped_column(Numeric(12, 4), nullable=False, default=1)
    # A share metric counts part of a whole, so its numerator can never exceed its denominator.
    is_share: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    target: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    reference: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="active")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    service_line: Mapped[ServiceLine] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("code", "version"),
        # Exactly one current definition per code.
        Index(
            "uq_metrics_current_code",
            "code",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        CheckConstraint(one_of("unit", UNITS), name="unit"),
        CheckConstraint(one_of("direction", DIRECTIONS), name="direction"),
        CheckConstraint(one_of("status", METRIC_STATUSES), name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("decimals BETWEEN 0 AND 6", name="decimals_range"),
        CheckConstraint("scale > 0", name="scale_positive"),
        CheckConstraint(
            "valid_min IS NULL OR valid_max IS NULL OR valid_min <= valid_max",
            name="valid_range_ordered",
        ),
    )

    @property
    def unit_label(self) -> str:
        return UNIT_LABELS[self.unit]

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"


class ReportingPeriod(IdMixin, db.Model):
    __tablename__ = "reporting_periods"

    code: Mapped[str] = mapped_column(String(7), unique=True, nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    quarter: Mapped[int] = mapped_column(Integer, nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open", index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the authority closed the quarter before its last day had passed: the reason,
    # shown as a "closed early" note wherever the period is listed.
    closed_early_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("year", "quarter"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_range"),
        CheckConstraint("year BETWEEN 2000 AND 2200", name="year_range"),
        CheckConstraint("ends_on > starts_on", name="dates_ordered"),
        CheckConstraint(one_of("status", PERIOD_STATUSES), name="status"),
        CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name="published_at"),
        CheckConstraint(
            "closed_early_reason IS NULL OR length(trim(closed_early_reason)) > 0",
            name="closed_early_reason_not_blank",
        ),
    )

    def has_ended(self, today: date) -> bool:
        """True once the quarter's last day is over (it may be closed and published)."""
        return today > self.ends_on

    @classmethod
    def newest_first(cls) -> tuple:
        """ORDER BY clauses for periods, the newest first (the order people read them in)."""
        return (cls.year.desc(), cls.quarter.desc())

    @property
    def label(self) -> str:
        return f"Q{self.quarter} {self.year}"


class Submission(IdMixin, db.Model):
    """One upload of benchmark data, kept as sent so it can be downloaded again."""

    __tablename__ = "submissions"

    public_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    centre_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("service_centres.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    submitted_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    actor_label: Mapped[str] = mapped_column(String(320), nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    content_type: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    file_format: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    row_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    errors: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    summary: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, nullable=False)

    centre: Mapped[ServiceCentre] = relationship()

    __table_args__ = (
        CheckConstraint(one_of("channel", SUBMISSION_CHANNELS), name="channel"),
        CheckConstraint(one_of("status", SUBMISSION_STATUSES), name="status"),
        CheckConstraint("size_bytes >= 0 AND row_count >= 0", name="sizes_not_negative"),
        # Identical bytes accepted once per centre: a resend finds the first submission.
        Index(
            "uq_submissions_accepted_sha256",
            "centre_id",
            "sha256",
            unique=True,
            sqlite_where=text("status = 'accepted'"),
            postgresql_where=text("status = 'accepted'"),
        ),
    )


class Observation(IdMixin, TimestampMixin, db.Model):
    """The current value of one metric for one centre in one period."""

    __tablename__ = "observations"

    centre_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("service_centres.id", ondelete="RESTRICT"), nullable=False
    )
    metric_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("metrics.id", ondelete="RESTRICT"), nullable=False
    )
    period_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("reporting_periods.id", ondelete="RESTRICT"), nullable=False
    )
    value: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False)
    numerator: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    denominator: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    submission_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("submissions.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Outlier flag from the robust z-score; the centre confirms or corrects it.
    flag_status: Mapped[str] = mapped_column(String(10), nullable=False, default="none")
    flag_score: Mapped[float | None] = mapped_column(Float)
    # Percentile and band are not stored: they are read from the group's PeerStatistic.

    centre: Mapped[ServiceCentre] = relationship()
    metric: Mapped[Metric] = relationship()
    period: Mapped[ReportingPeriod] = relationship()
    submission: Mapped[Submission] = relationship()

    __table_args__ = (
        # On PostgreSQL the key's index carries the value, so the market's signals read
        # every series from the index alone (migration 0016).
        UniqueConstraint("centre_id", "metric_id", "period_id", postgresql_include=["value"]),
        # A peer group's rows, covering what recompute, outlier scoring and the distribution
        # read: they scan whole groups, so the rows come from the index alone (4x on SQLite).
        Index(
            "ix_observations_group_values",
            "metric_id",
            "period_id",
            "centre_id",
            "value",
            "revision",
        ),
        Index("ix_observations_period_centre", "period_id", "centre_id"),
        CheckConstraint("denominator IS NULL OR denominator > 0", name="denominator_positive"),
        CheckConstraint("numerator IS NULL OR numerator >= 0", name="numerator_not_negative"),
        CheckConstraint(one_of("flag_status", FLAG_STATUSES), name="flag_status"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    @property
    def restated(self) -> bool:
        return self.revision > 1


class ObservationRevision(IdMixin, db.Model):
    """A superseded value, kept with who replaced it, when and why."""

    __tablename__ = "observation_revisions"

    observation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("observations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False)
    numerator: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    denominator: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    submission_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("submissions.id", ondelete="RESTRICT"), nullable=False
    )
    superseded_by_submission_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("submissions.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    superseded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    actor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    actor_label: Mapped[str] = mapped_column(String(320), nullable=False)

    __table_args__ = (
        UniqueConstraint("observation_id", "revision"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )


class PeerStatistic(IdMixin, db.Model):
    """Quartiles of one metric in one period over its peer group (see DOMAIN.md)."""

    __tablename__ = "peer_statistics"

    metric_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("metrics.id", ondelete="RESTRICT"), nullable=False
    )
    period_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("reporting_periods.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    )
    n: Mapped[int] = mapped_column(Integer, nullable=False)
    minimum: Mapped[float | None] = mapped_column(Float)
    p25: Mapped[float | None] = mapped_column(Float)
    median: Mapped[float | None] = mapped_column(Float)
    p75: Mapped[float | None] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    # The group's values in ascending order and its centre ids in ascending order, so a
    # percentile, band or membership is a binary search on read, not a stored column to
    # rewrite on every peer whenever one value changes. Native arrays on PostgreSQL (written
    # by the recompute statement, read without JSON parsing); JSON lists on SQLite.
    peer_values: Mapped[list[float]] = mapped_column(
        JSON().with_variant(ARRAY(Float), "postgresql"), nullable=False, default=list
    )
    peer_centre_ids: Mapped[list[int]] = mapped_column(
        JSON().with_variant(ARRAY(Integer), "postgresql"), nullable=False, default=list
    )
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, nullable=False)

    __table_args__ = (
        UniqueConstraint("metric_id", "period_id"),
        CheckConstraint("n >= 0", name="n_not_negative"),
    )


RESTATEMENT_STATUSES = ("pending", "approved", "refused", "superseded")


class PendingRestatement(IdMixin, db.Model):
    """A centre's new figure for a published period, waiting for the authority.

    Published reports, the league table and the open data keep the published figure until an
    admin approves it (benchmarks/restatements.py): approval writes it to the observation
    (keeping the old one as an ObservationRevision, with the centre's reason); refusal keeps
    the published figure and the admin's reason, which the centre sees. A newer restatement
    of the same figure supersedes a pending one.
    """

    __tablename__ = "pending_restatements"

    public_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    observation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("observations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    submission_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("submissions.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    value: Mapped[Decimal] = mapped_column(Numeric(18, 6), nullable=False)
    numerator: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    denominator: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    actor_label: Mapped[str] = mapped_column(String(320), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")

    observation: Mapped[Observation] = relationship()
    submission: Mapped[Submission] = relationship()

    __table_args__ = (
        CheckConstraint(one_of("status", RESTATEMENT_STATUSES), name="status"),
        CheckConstraint("length(trim(reason)) > 0", name="reason_not_blank"),
        CheckConstraint(
            "(status IN ('pending', 'superseded')) = (decided_at IS NULL)", name="decided_at"
        ),
        CheckConstraint(
            "status <> 'refused' OR length(trim(decision_reason)) > 0",
            name="refusal_has_reason",
        ),
        CheckConstraint("denominator IS NULL OR denominator > 0", name="denominator_positive"),
        # At most one restatement of a figure waits at a time.
        Index(
            "uq_pending_restatements_one_pending",
            "observation_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
