"""The catalogue: service lines, service centres and their accreditation history."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace import clock
from marketplace.accounts.models import Organisation
from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, one_of
from marketplace.extensions import db

# DOMAIN.md's six service lines, which the metric library loads: the closed vocabulary the
# API documents (the schemas check codes against the database).
SERVICE_LINE_CODES = ("finance", "payroll", "hr", "procurement", "ict", "customer")
BUSINESS_MODELS = ("public_in_house", "joint_venture", "employee_owned_mutual", "private")
BUSINESS_MODEL_LABELS = {
    "public_in_house": "Public in-house",
    "joint_venture": "Joint venture",
    "employee_owned_mutual": "Employee-owned mutual",
    "private": "Private",
}
DELIVERY_MODELS = ("virtual", "integrated_centres")
DELIVERY_MODEL_LABELS = {
    "virtual": "Virtual",
    "integrated_centres": "Integrated delivery centres",
}
STORED_STATUSES = ("applied", "accredited", "suspended", "withdrawn")
STATUSES = (*STORED_STATUSES, "expired")
STATUS_LABELS = {
    "applied": "Applied",
    "accredited": "Accredited",
    "suspended": "Suspended",
    "withdrawn": "Withdrawn",
    "expired": "Expired",
}
ACCREDITATION_ACTIONS = ("apply", "accredit", "suspend", "reinstate", "withdraw", "renew")
CERTIFICATION_SCHEMES = ("iso27001", "cyber_essentials_plus", "iso9001", "iso22301", "isae3402")
CERTIFICATION_LABELS = {
    "iso27001": "ISO/IEC 27001",
    "cyber_essentials_plus": "Cyber Essentials Plus",
    "iso9001": "ISO 9001",
    "iso22301": "ISO 22301",
    "isae3402": "ISAE 3402 / SOC 1",
}

centre_service_lines = Table(
    "centre_service_lines",
    db.metadata,
    Column(
        "centre_id",
        Integer,
        ForeignKey("service_centres.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "service_line_id",
        Integer,
        ForeignKey("service_lines.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class ServiceLine(IdMixin, db.Model):
    __tablename__ = "service_lines"

    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ServiceCentre(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "service_centres"

    organisation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("organisations.id", ondelete="RESTRICT"), unique=True, nullable=False
    )
    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    business_model: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    ownership_employee: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    ownership_government: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    ownership_private: Mapped[Decimal] = mapped_column(Numeric(5, 2), nullable=False)
    board_workforce: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    board_customers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    board_government: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    board_private_partner: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    board_independent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    delivery_model: Mapped[str] = mapped_column(String(40), nullable=False)
    platform: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    employees_served: Mapped[int | None] = mapped_column(Integer)
    transactions_per_year: Mapped[int | None] = mapped_column(Integer)
    pricing_model: Mapped[str] = mapped_column(Text, nullable=False, default="")
    pricing_drivers: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    contact_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    contact_email: Mapped[str] = mapped_column(String(320), nullable=False, default="")
    contact_phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    website: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    # Plain text the centre writes for its published reports; always escaped on output.
    commentary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Stored lifecycle state; 'expired' is derived from accredited_until and the clock.
    accreditation_status: Mapped[str] = mapped_column(
        String(20), nullable=False, default="applied", index=True
    )
    accredited_from: Mapped[date | None] = mapped_column(Date)
    accredited_until: Mapped[date | None] = mapped_column(Date)

    organisation: Mapped[Organisation] = relationship()
    service_lines: Mapped[list[ServiceLine]] = relationship(
        secondary=centre_service_lines, order_by="ServiceLine.position"
    )
    sites: Mapped[list[CentreSite]] = relationship(
        back_populates="centre", cascade="all, delete-orphan", order_by="CentreSite.position"
    )
    certifications: Mapped[list[Certification]] = relationship(
        back_populates="centre", cascade="all, delete-orphan", order_by="Certification.expires_on"
    )
    accreditation_events: Mapped[list[AccreditationEvent]] = relationship(
        back_populates="centre", order_by="AccreditationEvent.id"
    )

    __table_args__ = (
        CheckConstraint(one_of("business_model", BUSINESS_MODELS), name="business_model"),
        CheckConstraint(one_of("delivery_model", DELIVERY_MODELS), name="delivery_model"),
        CheckConstraint(one_of("accreditation_status", STORED_STATUSES), name="status"),
        CheckConstraint(
            "ownership_employee >= 0 AND ownership_government >= 0 AND ownership_private >= 0",
            name="ownership_not_negative",
        ),
        # Decimal shares may be stored as floating point by SQLite, hence the tolerance.
        CheckConstraint(
            "abs(ownership_employee + ownership_government + ownership_private - 100) < 0.005",
            name="ownership_sums_to_100",
        ),
        CheckConstraint(
            "board_workforce >= 0 AND board_customers >= 0 AND board_government >= 0 "
            "AND board_private_partner >= 0 AND board_independent >= 0",
            name="board_seats_not_negative",
        ),
        CheckConstraint(
            "employees_served IS NULL OR employees_served >= 0", name="employees_not_negative"
        ),
        CheckConstraint(
            "transactions_per_year IS NULL OR transactions_per_year >= 0",
            name="transactions_not_negative",
        ),
        CheckConstraint(
            "accreditation_status NOT IN ('accredited', 'suspended') OR "
            "(accredited_from IS NOT NULL AND accredited_until IS NOT NULL)",
            name="accredited_has_dates",
        ),
        CheckConstraint(
            "accredited_until IS NULL OR accredited_from IS NULL "
            "OR accredited_until >= accredited_from",
            name="accreditation_dates_ordered",
        ),
    )

    def status_on(self, day: date | None = None) -> str:
        """The lifecycle status a person sees on a day: 'expired' once validity has lapsed."""
        day = day or clock.today()
        if (
            self.accreditation_status == "accredited"
            and self.accredited_until is not None
            and self.accredited_until < day
        ):
            return "expired"
        return self.accreditation_status

    @property
    def status(self) -> str:
        return self.status_on()

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def business_model_label(self) -> str:
        return BUSINESS_MODEL_LABELS[self.business_model]

    @property
    def delivery_model_label(self) -> str:
        return DELIVERY_MODEL_LABELS[self.delivery_model]

    @property
    def board_seats(self) -> dict[str, int]:
        return {
            "workforce": self.board_workforce,
            "customers": self.board_customers,
            "government": self.board_government,
            "private_partner": self.board_private_partner,
            "independent": self.board_independent,
        }

    def offers(self, service_line_code: str) -> bool:
        return any(line.code == service_line_code for line in self.service_lines)


class CentreSite(IdMixin, db.Model):
    __tablename__ = "centre_sites"

    centre_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("service_centres.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    town: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    region: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    centre: Mapped[ServiceCentre] = relationship(back_populates="sites")

    __table_args__ = (UniqueConstraint("centre_id", "name"),)


class Certification(IdMixin, db.Model):
    __tablename__ = "certifications"

    centre_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("service_centres.id", ondelete="CASCADE"), nullable=False, index=True
    )
    scheme: Mapped[str] = mapped_column(String(40), nullable=False)
    reference: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    expires_on: Mapped[date] = mapped_column(Date, nullable=False)

    centre: Mapped[ServiceCentre] = relationship(back_populates="certifications")

    __table_args__ = (
        UniqueConstraint("centre_id", "scheme"),
        CheckConstraint(one_of("scheme", CERTIFICATION_SCHEMES), name="scheme"),
    )

    @property
    def label(self) -> str:
        return CERTIFICATION_LABELS[self.scheme]

    def days_left(self, day: date | None = None) -> int:
        return (self.expires_on - (day or clock.today())).days


class AccreditationEvent(IdMixin, db.Model):
    """One step in a centre's accreditation history; never updated or deleted."""

    __tablename__ = "accreditation_events"

    centre_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("service_centres.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # The day the change took effect (peer groups are drawn as at a period's last day).
    effective_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    actor_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    actor_label: Mapped[str] = mapped_column(String(320), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, nullable=False)

    centre: Mapped[ServiceCentre] = relationship(back_populates="accreditation_events")

    __table_args__ = (
        CheckConstraint(one_of("action", ACCREDITATION_ACTIONS), name="action"),
        CheckConstraint(one_of("to_status", STORED_STATUSES), name="to_status"),
        CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from",
            name="validity_ordered",
        ),
    )


# Acknowledged (seen, kept), reverted (the previous entry restored in one audited step) or
# change requested (the centre is asked to change it); acknowledged_at is when it was decided.
REVIEW_STATUSES = ("pending", "acknowledged", "reverted", "change_requested")


class CentreEditReview(IdMixin, db.Model):
    """A centre user's change to a live catalogue entry, waiting for the authority to look.

    The change took effect when it was made; the review records that an admin has seen the
    before/after comparison. Rows are never deleted; acknowledging sets the last three columns.
    """

    __tablename__ = "centre_edit_reviews"

    public_id: Mapped[str] = mapped_column(
        String(22), unique=True, nullable=False, default=lambda: secrets.token_urlsafe(12)
    )
    centre_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("service_centres.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    # The centre.update audit event the change wrote, so the review and the trail agree.
    audit_event_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("audit_events.id", ondelete="RESTRICT")
    )
    changes: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # Fields an admin must look at first (ownership shares, business model).
    highlighted: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    submitted_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    submitted_by_label: Mapped[str] = mapped_column(String(320), nullable=False)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending", index=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")

    centre: Mapped[ServiceCentre] = relationship()

    __table_args__ = (
        CheckConstraint(one_of("status", REVIEW_STATUSES), name="status"),
        CheckConstraint("(status = 'pending') = (acknowledged_at IS NULL)", name="acknowledged_at"),
    )
