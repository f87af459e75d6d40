"""Catalogue queries and changes. (Filled out by the catalogue work.)"""

from __future__ import annotations

from sqlalchemy import func

from marketplace.catalogue.models import ServiceCentre
from marketplace.extensions import db

PUBLIC_STATUSES = ("accredited", "suspended")


def public_counts() -> dict:
    total = db.session.execute(
        db.select(func.count(ServiceCentre.id)).where(
            ServiceCentre.accreditation_status.in_(PUBLIC_STATUSES)
        )
    ).scalar_one()
    return {"centres": total}
