"""The review queue for changes to live catalogue entries.

A centre's own users may change their entry at any time, and the change is public at once;
but when the entry is live (listed publicly) the change also waits here until an admin of
the accreditation authority has looked at the before/after comparison and acknowledged it.
Changes to ownership shares and the business model are highlighted: they alter what the
centre is, not just how it describes itself. Admins' own edits need no review. Callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from marketplace import clock, formatting
from marketplace.audit import services as audit
from marketplace.catalogue.access import is_admin, is_listed_publicly
from marketplace.catalogue.models import (
    BUSINESS_MODEL_LABELS,
    CERTIFICATION_LABELS,
    DELIVERY_MODEL_LABELS,
    CentreEditReview,
    ServiceCentre,
)
from marketplace.errors import FieldError, IllegalTransition, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.mail import services as mail

HIGHLIGHTED_FIELDS = (
    "business_model",
    "ownership_employee",
    "ownership_government",
    "ownership_private",
)
FIELD_LABELS = {
    "name": "Name",
    "summary": "Summary",
    "business_model": "Business model",
    "delivery_model": "Delivery model",
    "platform": "Platform or ERP",
    "commentary": "Commentary for reports",
    "ownership_employee": "Ownership: employees (%)",
    "ownership_government": "Ownership: government (%)",
    "ownership_private": "Ownership: private partner (%)",
    "board_workforce": "Board seats: workforce",
    "board_customers": "Board seats: customers or service users",
    "board_government": "Board seats: government",
    "board_private_partner": "Board seats: private partner",
    "board_independent": "Board seats: independent",
    "employees_served": "Employees served",
    "transactions_per_year": "Transactions a year",
    "pricing_model": "Pricing model",
    "pricing_drivers": "Pricing drivers",
    "contact_name": "Contact name",
    "contact_email": "Contact email",
    "contact_phone": "Contact phone",
    "website": "Website",
    "service_lines": "Service lines",
    "sites": "Sites",
    "certifications": "Certifications",
}


def needs_review(centre: ServiceCentre, actor) -> bool:
    return is_listed_publicly(centre) and not is_admin(actor)


def record(centre: ServiceCentre, changed: dict, *, actor, audit_event=None) -> CentreEditReview:
    """Queue a change already applied to a live entry (called by catalogue.editing)."""
    review = CentreEditReview(
        centre=centre,
        audit_event_id=getattr(audit_event, "id", None),
        changes=audit.jsonable(changed),
        highlighted=[name for name in HIGHLIGHTED_FIELDS if name in changed],
        submitted_by_id=getattr(actor, "id", None),
        submitted_by_label=getattr(actor, "email", None) or audit.SYSTEM,
        status="pending",
    )
    db.session.add(review)
    db.session.flush()
    return review


def pending() -> list[CentreEditReview]:
    return list(
        db.session.execute(
            db.select(CentreEditReview)
            .where(CentreEditReview.status == "pending")
            .order_by(CentreEditReview.submitted_at, CentreEditReview.id)
        ).scalars()
    )


def recently_acknowledged(limit: int = 20) -> list[CentreEditReview]:
    return list(
        db.session.execute(
            db.select(CentreEditReview)
            .where(CentreEditReview.status != "pending")
            .order_by(CentreEditReview.acknowledged_at.desc(), CentreEditReview.id.desc())
            .limit(limit)
        ).scalars()
    )


def get(public_id: str) -> CentreEditReview:
    review = db.session.execute(
        db.select(CentreEditReview).where(CentreEditReview.public_id == public_id)
    ).scalar_one_or_none()
    if review is None:
        raise NotFound("There is no such change to review.")
    return review


DECISION_LABELS = {
    "acknowledged": "Acknowledged",
    "reverted": "Reverted",
    "change_requested": "Change requested",
}


def _decide(review: CentreEditReview, status: str, actor, note: str) -> CentreEditReview:
    review = db.session.execute(
        db.select(CentreEditReview)
        .where(CentreEditReview.id == review.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if review.status != "pending":
        label = DECISION_LABELS.get(review.status, review.status).lower()
        raise IllegalTransition(f"This change has already been decided ({label}).")
    review.status = status
    review.acknowledged_by_id = actor.id
    review.acknowledged_at = clock.now()
    review.note = (note or "").strip()
    db.session.flush()
    return review


def _tell_centre(review: CentreEditReview, subject: str, what: str) -> None:
    """E-mail whoever made the change (outbox), in the decision's transaction."""
    address = review.submitted_by_label
    if not address or "@" not in address:
        return
    mail.queue(
        address,
        subject,
        "entry_change_decided",
        review=review,
        what=what,
        rows=diff(review),
    )


def revert(review: CentreEditReview, *, actor, note: str = "") -> CentreEditReview:
    """Restore the entry as it was before the change, in one audited step; tell the centre."""
    from marketplace.catalogue import editing

    review = _decide(review, "reverted", actor, note)
    restored = {
        name: _stored_value(name, change.get("before")) for name, change in review.changes.items()
    }
    # An admin's edit: it restores the entry at once and needs no review of its own.
    editing.update_centre(review.centre, restored, actor=actor)
    _audit_decision("centre.update_reverted", review, actor)
    _tell_centre(
        review,
        f"Your change to {review.centre.name} was reverted",
        "The accreditation authority reverted this change: your entry shows what it showed before.",
    )
    return review


def request_change(review: CentreEditReview, *, actor, note: str = "") -> CentreEditReview:
    """Ask the centre to change its entry; the note (required) says what and why."""
    if not (note or "").strip():
        raise ValidationFailed(
            "Say what the centre should change.",
            errors=[FieldError("Say what the centre should change, and why.", "note")],
        )
    review = _decide(review, "change_requested", actor, note)
    _audit_decision("centre.update_change_requested", review, actor)
    _tell_centre(
        review,
        f"Please change your entry for {review.centre.name}",
        "The accreditation authority asks you to change this part of your entry.",
    )
    return review


def _stored_value(field: str, value: Any) -> Any:
    """A value as the review kept it (JSON) turned back into what the column holds."""
    from datetime import date
    from decimal import Decimal

    from sqlalchemy import Integer, Numeric

    if value is None:
        return None
    if field == "certifications":
        return [
            {**cert, "expires_on": date.fromisoformat(str(cert["expires_on"]))}
            if cert.get("expires_on")
            else cert
            for cert in value
        ]
    column = ServiceCentre.__table__.columns.get(field)
    if column is not None and isinstance(column.type, Numeric):
        return Decimal(str(value))
    if column is not None and isinstance(column.type, Integer):
        return int(value)
    return value


def _audit_decision(action: str, review: CentreEditReview, actor) -> None:
    audit.record(
        action,
        actor=actor,
        organisation_id=review.centre.organisation_id,
        object_type="centre",
        object_id=review.centre.slug,
        detail={
            "review": review.public_id,
            "fields": sorted(review.changes),
            "highlighted": review.highlighted,
            "note": review.note,
        },
    )


def acknowledge(review: CentreEditReview, *, actor, note: str = "") -> CentreEditReview:
    review = _decide(review, "acknowledged", actor, note)
    audit.record(
        "centre.update_acknowledged",
        actor=actor,
        organisation_id=review.centre.organisation_id,
        object_type="centre",
        object_id=review.centre.slug,
        detail={
            "review": review.public_id,
            "fields": sorted(review.changes),
            "highlighted": review.highlighted,
            "note": review.note,
        },
    )
    return review


# --- the comparison an admin reads ---------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    field: str
    label: str
    before: str
    after: str
    highlighted: bool


def _show(field: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(blank)"
    if field == "business_model":
        return BUSINESS_MODEL_LABELS.get(value, str(value))
    if field == "delivery_model":
        return DELIVERY_MODEL_LABELS.get(value, str(value))
    if field == "service_lines":
        return ", ".join(value)
    if field == "sites":
        return "; ".join(
            ", ".join(part for part in (s.get("name"), s.get("town"), s.get("region")) if part)
            for s in value
        )
    if field == "certifications":
        return "; ".join(
            f"{CERTIFICATION_LABELS.get(c.get('scheme'), c.get('scheme'))}"
            f"{' ' + c['reference'] if c.get('reference') else ''}, "
            f"expires {_long_date(c.get('expires_on'))}"
            for c in value
        )
    if field.startswith("ownership_"):
        return f"{_plain_number(value)}%"
    if field.startswith("board_") or field in ("employees_served", "transactions_per_year"):
        try:
            return f"{int(value):,}"
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _long_date(value: Any) -> str:
    """'30 June 2027', as every page writes a date; the review stores ISO text."""
    try:
        return formatting.date_text(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _plain_number(value: Any) -> str:
    """25.00 -> 25, 33.50 -> 33.5: as people write shares."""
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{number.normalize():f}"
    return text


def diff(review: CentreEditReview) -> list[DiffRow]:
    """One row per changed field, highlighted ones first, then in the form's order."""
    order = list(FIELD_LABELS)
    rows = [
        DiffRow(
            field=name,
            label=FIELD_LABELS.get(name, name),
            before=_show(name, change.get("before")),
            after=_show(name, change.get("after")),
            highlighted=name in review.highlighted,
        )
        for name, change in review.changes.items()
    ]
    return sorted(
        rows,
        key=lambda r: (not r.highlighted, order.index(r.field) if r.field in order else 99),
    )
