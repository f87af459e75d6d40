"""The review queue for changes to live catalogue entries.

A centre's own users may change their entry at any time, and the change is public at once;
but when the entry is live (listed publicly) the change also waits here until an admin of
the accreditation authority has looked at the before/after comparison and acknowledged it.
Changes to ownership shares and the business model are highlighted: they alter what the
centre is, not just how it describes itself. Admins' own edits need no review. Callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketplace import clock
from marketplace.audit import services as audit
from marketplace.catalogue.access import is_admin, is_listed_publicly
from marketplace.catalogue.models import (
    BUSINESS_MODEL_LABELS,
    CERTIFICATION_LABELS,
    DELIVERY_MODEL_LABELS,
    CentreEditReview,
    ServiceCentre,
)
from marketplace.errors import IllegalTransition, NotFound
from marketplace.extensions import db

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
            .where(CentreEditReview.status == "acknowledged")
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


def acknowledge(review: CentreEditReview, *, actor, note: str = "") -> CentreEditReview:
    review = db.session.execute(
        db.select(CentreEditReview)
        .where(CentreEditReview.id == review.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if review.status != "pending":
        raise IllegalTransition("This change has already been acknowledged.")
    review.status = "acknowledged"
    review.acknowledged_by_id = actor.id
    review.acknowledged_at = clock.now()
    review.note = (note or "").strip()
    db.session.flush()
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
            f"{' ' + c['reference'] if c.get('reference') else ''}, expires {c.get('expires_on')}"
            for c in value
        )
    return str(value)


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
