"""Who may see and change what in the catalogue.

DOMAIN.md: applied and withdrawn centres are not listed publicly. So:
- Everyone sees accredited, expired and suspended centres, in the list and on their pages.
- An admin sees every centre's page and may list applied or withdrawn centres by asking for
  that status; without a status filter an admin gets the same list as the public, so the
  list reads the same for everyone.
- A centre's own users see (and may edit) their own entry whatever its status.
- Buyers, admins and the centre itself see validated benchmark data before it is published.
"""

from __future__ import annotations

from marketplace.catalogue.models import ServiceCentre

# Stored statuses shown to the public ('expired' is stored as 'accredited').
PUBLIC_STATUSES = ("accredited", "suspended")
# Statuses a person can filter the public list by, in the order the filter offers them.
PUBLIC_FILTER_STATUSES = ("accredited", "expired", "suspended")
HIDDEN_STATUSES = ("applied", "withdrawn")


def is_authenticated(viewer) -> bool:
    # Accepts None, Flask-Login's anonymous user, or a User.
    return viewer is not None and bool(getattr(viewer, "is_authenticated", False))


def _role(viewer) -> str | None:
    return getattr(viewer, "role", None) if is_authenticated(viewer) else None


def is_admin(viewer) -> bool:
    return _role(viewer) == "admin"


def is_buyer(viewer) -> bool:
    """A buyer who is a member of its organisation (not waiting for approval to join)."""
    return _role(viewer) == "buyer" and viewer.acts_as_buyer


def is_own_centre(viewer, centre: ServiceCentre) -> bool:
    return _role(viewer) == "centre" and viewer.organisation_id == centre.organisation_id


def can_edit(viewer, centre: ServiceCentre) -> bool:
    return is_admin(viewer) or is_own_centre(viewer, centre)


def is_listed_publicly(centre: ServiceCentre) -> bool:
    return centre.accreditation_status in PUBLIC_STATUSES


def can_see(viewer, centre: ServiceCentre) -> bool:
    return is_listed_publicly(centre) or can_edit(viewer, centre)


def filter_statuses(viewer) -> tuple[str, ...]:
    """The statuses this viewer may filter the list by."""
    if is_admin(viewer):
        return (*PUBLIC_FILTER_STATUSES, *HIDDEN_STATUSES)
    return PUBLIC_FILTER_STATUSES


def sees_unpublished(viewer, centre: ServiceCentre) -> bool:
    """Buyers, admins and the centre itself see validated data before it is published."""
    return is_buyer(viewer) or can_edit(viewer, centre)
