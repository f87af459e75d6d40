"""Accreditation as the authority sees it: a centre with its whole history, the actions open
to it, and what needs attention soon. Shared by the admin pages and the admin API. (The
lifecycle change itself is catalogue.accreditation.change; its follow-ups, such as redrawn
peer groups, are receivers of events.accreditation_changed.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import selectinload

from marketplace import clock
from marketplace.catalogue import accreditation
from marketplace.catalogue.models import AccreditationEvent, Certification, ServiceCentre
from marketplace.catalogue.services import certification_state
from marketplace.errors import NotFound
from marketplace.extensions import db

ATTENTION_DAYS = 60
ACTION_LABELS = {
    "accredit": "Accredit",
    "suspend": "Suspend",
    "reinstate": "Reinstate",
    "withdraw": "Withdraw",
    "renew": "Renew",
}
PAST = {
    "accredit": "accredited",
    "suspend": "suspended",
    "reinstate": "reinstated",
    "withdraw": "withdrawn",
    "renew": "renewed",
}


def get_centre(slug: str) -> ServiceCentre:
    centre = db.session.execute(
        db.select(ServiceCentre)
        .where(ServiceCentre.slug == slug)
        .options(
            selectinload(ServiceCentre.accreditation_events),
            selectinload(ServiceCentre.certifications),
        )
    ).scalar_one_or_none()
    if centre is None:
        raise NotFound(f"There is no service centre '{slug}'.")
    return centre


def all_centres() -> list[ServiceCentre]:
    return list(db.session.execute(db.select(ServiceCentre).order_by(ServiceCentre.name)).scalars())


@dataclass(frozen=True)
class Attention:
    """A centre whose accreditation or a certification ends within the window (or has)."""

    centre: ServiceCentre
    what: str
    ends_on: date
    days_left: int


def needing_attention(day: date | None = None, within: int = ATTENTION_DAYS) -> list[Attention]:
    """Accreditations and certifications ending within `within` days, soonest first.

    Accreditations already lapsed ('expired') are listed too: they need renewing or
    withdrawing. Applied and withdrawn centres have nothing to renew.
    """
    day = day or clock.today()
    horizon = day + timedelta(days=within)
    items: list[Attention] = []
    centres = db.session.execute(
        db.select(ServiceCentre).where(
            ServiceCentre.accreditation_status.in_(("accredited", "suspended")),
            ServiceCentre.accredited_until <= horizon,
        )
    ).scalars()
    for centre in centres:
        items.append(
            Attention(
                centre,
                "Accreditation",
                centre.accredited_until,
                (centre.accredited_until - day).days,
            )
        )
    certifications = db.session.execute(
        db.select(Certification)
        .join(Certification.centre)
        .where(
            ServiceCentre.accreditation_status.in_(("applied", "accredited", "suspended")),
            Certification.expires_on <= horizon,
        )
        .options(selectinload(Certification.centre))
    ).scalars()
    for cert in certifications:
        state = certification_state(cert, day)
        items.append(Attention(cert.centre, cert.label, cert.expires_on, state.days_left))
    return sorted(items, key=lambda item: (item.ends_on, item.centre.name, item.what))


def history(centre: ServiceCentre) -> list[AccreditationEvent]:
    """Newest first, as an admin reads it."""
    return sorted(centre.accreditation_events, key=lambda e: e.id, reverse=True)


def allowed_actions(centre: ServiceCentre) -> list[str]:
    return accreditation.allowed_actions(centre)
