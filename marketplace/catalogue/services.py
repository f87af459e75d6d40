"""Catalogue use-cases: find centres, read one, and what the public may see of them.

Who may see what is decided in access.py; changing an entry lives in editing.py. Both are
re-exported here so callers (views, API, CLI) need only this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_
from sqlalchemy.orm import selectinload

from marketplace import clock
from marketplace.catalogue.access import (  # noqa: F401 - re-exported for callers
    HIDDEN_STATUSES,
    PUBLIC_FILTER_STATUSES,
    PUBLIC_STATUSES,
    can_edit,
    can_see,
    filter_statuses,
    is_admin,
    is_listed_publicly,
    is_own_centre,
    sees_unpublished,
)
from marketplace.catalogue.editing import update_centre  # noqa: F401 - re-exported
from marketplace.catalogue.models import (
    CentreSite,
    Certification,
    ServiceCentre,
    ServiceLine,
    centre_service_lines,
)
from marketplace.errors import FieldError, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.web.pagination import MAX_PAGE, Page  # noqa: F401 - re-exported

CERTIFICATION_WARNING_DAYS = 60

# sort key -> label; a leading '-' means descending. Ties are broken by name, then id.
SORTS = {
    "name": "Name (A to Z)",
    "-name": "Name (Z to A)",
    "status": "Accreditation status",
    "-employees_served": "Employees served (most first)",
    "employees_served": "Employees served (fewest first)",
    "-transactions_per_year": "Transactions a year (most first)",
    "transactions_per_year": "Transactions a year (fewest first)",
    "accredited_until": "Accreditation ends (soonest first)",
    "-accredited_until": "Accreditation ends (latest first)",
}
DEFAULT_SORT = "name"
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class CentreQuery:
    """What someone asked the catalogue for; built by CentreFilterSchema from query args."""

    service_line: tuple[str, ...] = ()  # every one of these lines (the filter is repeatable)
    business_model: str | None = None
    status: str | None = None
    q: str | None = None
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def __post_init__(self):
        if isinstance(self.service_line, str):  # one line named as a plain string
            object.__setattr__(self, "service_line", (self.service_line,))

    def is_filtered(self) -> bool:
        return any((self.service_line, self.business_model, self.status, self.q))


# --- searching -----------------------------------------------------------------------------


def _status_condition(status: str, day: date):
    lapsed = and_(ServiceCentre.accredited_until.is_not(None), ServiceCentre.accredited_until < day)
    if status == "accredited":
        return and_(ServiceCentre.accreditation_status == "accredited", ~lapsed)
    if status == "expired":
        return and_(ServiceCentre.accreditation_status == "accredited", lapsed)
    return ServiceCentre.accreditation_status == status


def _status_rank(day: date):
    """Accredited today first, then suspended, expired, applied, withdrawn."""
    return case(
        (_status_condition("accredited", day), 1),
        (ServiceCentre.accreditation_status == "suspended", 2),
        (ServiceCentre.accreditation_status == "accredited", 3),
        (ServiceCentre.accreditation_status == "applied", 4),
        else_=5,
    )


def _text_condition(term: str):
    """One word of free text, matched case-insensitively anywhere in the searchable fields."""
    town_matches = (
        db.select(CentreSite.id)
        .where(CentreSite.centre_id == ServiceCentre.id)
        .where(CentreSite.town.icontains(term, autoescape=True))
        .exists()
    )
    return or_(
        ServiceCentre.name.icontains(term, autoescape=True),
        ServiceCentre.summary.icontains(term, autoescape=True),
        ServiceCentre.platform.icontains(term, autoescape=True),
        town_matches,
    )


def _conditions(query: CentreQuery, viewer, day: date) -> list:
    if query.status and query.status not in filter_statuses(viewer):
        raise ValidationFailed(
            "That status cannot be listed.",
            errors=[
                FieldError(
                    "Applied and withdrawn centres are not listed publicly. Choose accredited, "
                    "expired or suspended.",
                    field="status",
                )
            ],
        )
    conditions = [
        _status_condition(query.status, day)
        if query.status
        else ServiceCentre.accreditation_status.in_(PUBLIC_STATUSES)
    ]
    # A centre must offer every line asked for: one EXISTS per line.
    for code in query.service_line:
        conditions.append(ServiceCentre.service_lines.any(ServiceLine.code == code))
    if query.business_model:
        conditions.append(ServiceCentre.business_model == query.business_model)
    for term in (query.q or "").split():
        conditions.append(_text_condition(term))
    return conditions


def _ordering(sort: str, day: date) -> list:
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    if key == "name":
        primary = ServiceCentre.name
    elif key == "status":
        primary = _status_rank(day)
    else:
        primary = getattr(ServiceCentre, key)
    primary = primary.desc() if descending else primary.asc()
    if key in ("employees_served", "transactions_per_year", "accredited_until"):
        primary = primary.nulls_last()  # centres that have not said go last either way
    tie_break = ServiceCentre.name.desc() if key == "name" and descending else ServiceCentre.name
    return [primary, tie_break, ServiceCentre.id]


def search_centres(query: CentreQuery, *, viewer=None) -> Page:
    """One page of the catalogue. Three queries whatever the page size: count, rows, lines."""
    if query.sort not in SORTS:
        raise ValidationFailed(
            "That sort order is not available.",
            errors=[FieldError(f"Sort by one of: {', '.join(SORTS)}.", field="sort")],
        )
    day = clock.today()
    conditions = _conditions(query, viewer, day)
    total = db.session.execute(
        db.select(func.count()).select_from(ServiceCentre).where(*conditions)
    ).scalar_one()
    rows = (
        db.session.execute(
            db.select(ServiceCentre)
            .where(*conditions)
            .order_by(*_ordering(query.sort, day))
            .limit(query.per_page)
            .offset((query.page - 1) * query.per_page)
            .options(selectinload(ServiceCentre.service_lines), selectinload(ServiceCentre.sites))
        )
        .scalars()
        .all()
    )
    return Page(items=list(rows), total=total, page=query.page, per_page=query.per_page)


def unlisted_counts() -> dict[str, int]:
    """How many centres the public list leaves out, by status (applied, withdrawn)."""
    rows = db.session.execute(
        db.select(ServiceCentre.accreditation_status, func.count(ServiceCentre.id))
        .where(ServiceCentre.accreditation_status.not_in(PUBLIC_STATUSES))
        .group_by(ServiceCentre.accreditation_status)
    ).all()
    return {status: count for status, count in rows}


def service_lines() -> list[ServiceLine]:
    return list(
        db.session.execute(db.select(ServiceLine).order_by(ServiceLine.position, ServiceLine.code))
        .scalars()
        .all()
    )


def service_line_codes() -> list[str]:
    return [line.code for line in service_lines()]


# --- one centre ----------------------------------------------------------------------------


def get_centre(slug: str) -> ServiceCentre | None:
    return db.session.execute(
        db.select(ServiceCentre)
        .where(ServiceCentre.slug == slug)
        .options(
            selectinload(ServiceCentre.service_lines),
            selectinload(ServiceCentre.sites),
            selectinload(ServiceCentre.certifications),
            selectinload(ServiceCentre.accreditation_events),
        )
    ).scalar_one_or_none()


def get_public_centre(slug: str, viewer=None) -> ServiceCentre:
    """The centre's catalogue entry, as long as this viewer may see it."""
    centre = get_centre(slug)
    _refuse_unseen(slug, centre, viewer)
    return centre


def _refuse_unseen(slug: str, centre: ServiceCentre | None, viewer) -> None:
    if centre is None or not can_see(viewer, centre):
        # The same answer for hidden and missing, so hidden centres cannot be discovered.
        raise NotFound(f"There is no service centre '{slug}' in the catalogue.")


def require_public_centres(slugs: list[str], viewer=None) -> None:
    """NotFound, as get_public_centre answers, for the first slug this viewer may not see.

    One query for all of them and no related rows: a check, where get_public_centre's
    eager loads cost a comparison of six centres some thirty queries.
    """
    found = {
        centre.slug: centre
        for centre in db.session.execute(
            db.select(ServiceCentre).where(ServiceCentre.slug.in_(sorted(set(slugs))))
        ).scalars()
    }
    for slug in slugs:
        _refuse_unseen(slug, found.get(slug), viewer)


def public_counts() -> dict:
    """Figures for the home page: centres listed, accredited today, and per service line."""
    day = clock.today()
    listed, accredited = db.session.execute(
        db.select(
            func.count(ServiceCentre.id),
            func.count(case((_status_condition("accredited", day), ServiceCentre.id))),
        ).where(ServiceCentre.accreditation_status.in_(PUBLIC_STATUSES))
    ).one()
    per_line = db.session.execute(
        db.select(ServiceLine, func.count(ServiceCentre.id))
        .outerjoin(centre_service_lines, centre_service_lines.c.service_line_id == ServiceLine.id)
        .outerjoin(
            ServiceCentre,
            and_(
                ServiceCentre.id == centre_service_lines.c.centre_id,
                ServiceCentre.accreditation_status.in_(PUBLIC_STATUSES),
            ),
        )
        .group_by(ServiceLine.id)
        .order_by(ServiceLine.position, ServiceLine.code)
    ).all()
    return {
        "centres": listed,
        "accredited": accredited,
        "service_lines": [
            {"code": line.code, "name": line.name, "centres": count} for line, count in per_line
        ],
    }


# --- certifications ------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificationState:
    code: str  # 'expired', 'expiring' or 'valid'
    days_left: int

    @property
    def warns(self) -> bool:
        return self.code != "valid"

    @property
    def message(self) -> str:
        if self.code == "expired":
            days = -self.days_left
            return f"Expired {days} day{'s' if days != 1 else ''} ago"
        if self.days_left == 0:
            return "Expires today"
        if self.code == "expiring":
            return f"Expires in {self.days_left} day{'s' if self.days_left != 1 else ''}"
        return "Valid"


def certification_state(
    certification: Certification, day: date | None = None
) -> CertificationState:
    days_left = certification.days_left(day or clock.today())
    if days_left < 0:
        return CertificationState("expired", days_left)
    if days_left <= CERTIFICATION_WARNING_DAYS:
        return CertificationState("expiring", days_left)
    return CertificationState("valid", days_left)


def expiring_certifications(
    centre: ServiceCentre | None = None,
    *,
    within_days: int = CERTIFICATION_WARNING_DAYS,
    day: date | None = None,
) -> list[Certification]:
    """Certifications already expired or expiring within the window, soonest first.

    For one centre, or across every centre listed publicly (for the authority's follow-up).
    """
    day = day or clock.today()
    statement = (
        db.select(Certification)
        .where(Certification.expires_on <= day + timedelta(days=within_days))
        .order_by(Certification.expires_on, Certification.id)
        .options(selectinload(Certification.centre))
    )
    if centre is not None:
        statement = statement.where(Certification.centre_id == centre.id)
    else:
        statement = statement.join(Certification.centre).where(
            ServiceCentre.accreditation_status.in_(PUBLIC_STATUSES)
        )
    return list(db.session.execute(statement).scalars().all())


# --- benchmarks and the metric library as the catalogue shows them -------------------------
# benchmarks sits above catalogue in the layering, so its models are imported where used.
