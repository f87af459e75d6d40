"""Alerts raised at once by the changes that can raise them for one centre: an accreditation
change (a suspension) and approved restatements. A publication touches every centre and is
judged by `flask alerts run` instead, outside the publishing transaction."""

from __future__ import annotations

from marketplace import events
from marketplace.alerts import services
from marketplace.catalogue.models import ServiceCentre
from marketplace.extensions import db


def _after_accreditation(event, **_) -> None:
    centre = db.session.get(ServiceCentre, event.centre_id)
    if centre is not None and centre.accreditation_status in services.FOLLOWED_STATUSES:
        services.detect(centre)


def _after_restatements(approved, **_) -> None:
    for centre_id in sorted({item.observation.centre_id for item in approved}):
        services.detect(db.session.get(ServiceCentre, centre_id))


def connect() -> None:
    events.accreditation_changed.connect(_after_accreditation)
    events.restatements_approved.connect(_after_restatements)
