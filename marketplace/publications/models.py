"""Published artefacts: each version of a centre report, league table or open-data file.

A row is written once, when its file has been rendered and stored, and never changes again
except to be marked superseded when a newer version of the same artefact is published. The
file itself lives in content-addressed storage under its SHA-256 (see storage.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from marketplace.benchmarks.models import ReportingPeriod
from marketplace.catalogue.models import ServiceCentre
from marketplace.db import IdMixin, UTCDateTime, one_of
from marketplace.extensions import db

KINDS = ("centre_report", "league_table", "open_data_csv", "open_data_json")
KIND_LABELS = {
    "centre_report": "Performance report",
    "league_table": "League table",
    "open_data_csv": "Open data (CSV)",
    "open_data_json": "Open data (JSON)",
}
PUBLICATION_STATUSES = ("current", "superseded")
# The subject of the period-wide artefacts (league table and open data).
SECTOR = "sector"


def centre_subject(centre_id: int) -> str:
    return f"centre:{centre_id}"


class Publication(IdMixin, db.Model):
    """One immutable version of one published artefact."""

    __tablename__ = "publications"

    # The public identifier in URLs and the API: random, so versions cannot be enumerated.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    period_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("reporting_periods.id", ondelete="RESTRICT"), nullable=False
    )
    centre_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("service_centres.id", ondelete="RESTRICT"), index=True
    )
    # What the artefact is about: 'centre:<id>' or 'sector'. A plain column (never NULL) so
    # the uniqueness rules below hold for the sector artefacts too.
    subject: Mapped[str] = mapped_column(String(40), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="current")
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    # The file: where storage keeps it, its digest (also the HTTP ETag), size and type.
    storage_key: Mapped[str] = mapped_column(String(200), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    content_type: Mapped[str] = mapped_column(String(80), nullable=False)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    page_count: Mapped[int | None] = mapped_column(Integer)
    # SHA-256 of the canonical JSON of the figures the artefact was built from: publishing
    # again renders only artefacts whose figures changed.
    input_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # Those figures as primitives, kept so the HTML page shows exactly what was published.
    data: Mapped[dict] = deferred(mapped_column(JSON, nullable=False))
    # Version, publication time, author, earlier versions and the note of what changed, exactly
    # as rendered into the file.
    envelope: Mapped[dict] = mapped_column(JSON, nullable=False)
    change_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    published_by: Mapped[str] = mapped_column(String(320), nullable=False)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    render_seconds: Mapped[float | None] = mapped_column(Float)

    period: Mapped[ReportingPeriod] = relationship(lazy="joined")
    centre: Mapped[ServiceCentre | None] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("kind", "period_id", "subject", "version"),
        # At most one current version of each artefact.
        Index(
            "uq_publications_current",
            "kind",
            "period_id",
            "subject",
            unique=True,
            sqlite_where=text("status = 'current'"),
            postgresql_where=text("status = 'current'"),
        ),
        Index("ix_publications_published_at", "published_at"),
        Index("ix_publications_period_kind", "period_id", "kind"),
        CheckConstraint(one_of("kind", KINDS), name="kind"),
        CheckConstraint(one_of("status", PUBLICATION_STATUSES), name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("size_bytes >= 0", name="size_not_negative"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
        CheckConstraint("length(input_hash) = 64", name="input_hash_length"),
        # A centre report names its centre; the sector artefacts name none.
        CheckConstraint(
            "(kind = 'centre_report' AND centre_id IS NOT NULL) "
            "OR (kind <> 'centre_report' AND centre_id IS NULL)",
            name="centre_for_centre_reports",
        ),
        CheckConstraint(
            "(status = 'superseded') = (superseded_at IS NOT NULL)", name="superseded_at"
        ),
    )

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def is_current(self) -> bool:
        return self.status == "current"

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"

    def __repr__(self) -> str:
        return f"<Publication {self.kind} {self.subject} {self.version} {self.status}>"


class PendingRepublication(IdMixin, db.Model):
    """A published period that approved restatements oblige to republish, not yet done.

    Written in the transaction of the approval (one row per period: a second approval before
    the job runs only bumps `generation` and adds its reason, so the period is republished
    once). The job deletes the row when it has republished the generation it read; a job
    that fails midway leaves it, so nothing is lost and a rerun finishes the work.
    """

    __tablename__ = "pending_republications"

    period_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("reporting_periods.id", ondelete="CASCADE"),
        unique=True,
        nullable=False,
    )
    generation: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    reasons: Mapped[str] = mapped_column(Text, nullable=False, default="")
    requested_by: Mapped[str] = mapped_column(String(320), nullable=False)
    first_requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    period: Mapped[ReportingPeriod] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("generation >= 1", name="generation_positive"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )
