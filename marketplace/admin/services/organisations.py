"""Organisations as the authority manages them: departments, ALBs under a department, and
centres (an organisation and its catalogue entry, which starts as an application)."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from sqlalchemy import func

from marketplace.accounts import services as accounts
from marketplace.accounts.models import ApiToken, Organisation, User
from marketplace.audit import services as audit
from marketplace.catalogue.accreditation import record_application
from marketplace.catalogue.models import ServiceCentre, ServiceLine
from marketplace.errors import FieldError, NotFound, ValidationFailed
from marketplace.extensions import db

# Words that are pages under /admin/centres/ and /admin/organisations/.
RESERVED_SLUGS = ("new",)
KIND_LABELS = {
    "department": "Department",
    "alb": "Arm's-length body",
    "centre": "Service centre",
    "authority": "Accreditation authority",
}


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:80].rstrip("-")


def _slug_for(values: dict) -> str:
    slug = values.get("slug") or slugify(values["name"])
    if not slug:
        raise ValidationFailed(
            "The organisation needs an identifier.",
            errors=[FieldError("Enter an identifier of letters and digits.", "slug")],
        )
    if slug in RESERVED_SLUGS:
        raise ValidationFailed(
            f"'{slug}' is reserved.",
            errors=[FieldError(f"'{slug}' names a page; choose another identifier.", "slug")],
        )
    if accounts.get_organisation_or_none(slug) is not None:
        raise ValidationFailed(
            f"'{slug}' is already used.",
            errors=[
                FieldError(f"The identifier '{slug}' is already used; choose another.", "slug")
            ],
        )
    return slug


def list_organisations(kind: str | None = None) -> list[Organisation]:
    statement = db.select(Organisation).order_by(Organisation.kind, Organisation.name)
    if kind:
        statement = statement.where(Organisation.kind == kind)
    return list(db.session.execute(statement).scalars())


def departments() -> list[Organisation]:
    return list_organisations("department")


def get(slug: str) -> Organisation:
    return accounts.get_organisation(slug)


def members(org: Organisation) -> list[User]:
    return list(
        db.session.execute(
            db.select(User).where(User.organisation_id == org.id).order_by(User.email)
        ).scalars()
    )


def token_count(org: Organisation) -> int:
    return db.session.execute(
        db.select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.organisation_id == org.id, ApiToken.revoked_at.is_(None))
    ).scalar_one()


def create_department(values: dict, *, actor) -> Organisation:
    return accounts.create_organisation(
        slug=_slug_for(values), name=values["name"], kind="department", actor=actor
    )


def create_alb(values: dict, *, actor) -> Organisation:
    if not values.get("parent"):
        raise ValidationFailed(
            "An arm's-length body needs a parent department.",
            errors=[FieldError("Choose the department that sponsors this body.", "parent")],
        )
    try:
        parent = accounts.get_organisation(values["parent"])
    except NotFound:
        parent = None
    if parent is None or parent.kind != "department":
        raise ValidationFailed(
            "An arm's-length body needs a parent department.",
            errors=[FieldError("Choose the department that sponsors this body.", "parent")],
        )
    return accounts.create_organisation(
        slug=_slug_for(values),
        name=values["name"],
        kind="alb",
        parent_slug=parent.slug,
        actor=actor,
    )


def create_centre(values: dict, *, actor) -> ServiceCentre:
    """A centre's organisation and its catalogue entry, with the same slug, as an application.

    The entry is not public until the centre is accredited; its own users (invited next)
    complete it themselves.
    """
    shares = [
        values[k] for k in ("ownership_employee", "ownership_government", "ownership_private")
    ]
    total = sum(shares, Decimal(0))
    if total != 100:
        raise ValidationFailed(
            "The ownership shares do not add up.",
            errors=[
                FieldError(
                    "Ownership shares must add up to 100%. "
                    f"These add up to {total.normalize():f}%.",
                    "ownership_employee",
                )
            ],
        )
    lines = {
        line.code: line
        for line in db.session.execute(
            db.select(ServiceLine).where(ServiceLine.code.in_(values["service_lines"]))
        ).scalars()
    }
    unknown = [code for code in values["service_lines"] if code not in lines]
    if unknown:
        raise ValidationFailed(
            "Unknown service lines.",
            errors=[FieldError(f"Not a service line: {', '.join(unknown)}.", "service_lines")],
        )
    slug = _slug_for(values)
    org = accounts.create_organisation(slug=slug, name=values["name"], kind="centre", actor=actor)
    centre = ServiceCentre(
        organisation=org,
        slug=slug,
        name=values["name"],
        summary=values.get("summary", ""),
        business_model=values["business_model"],
        delivery_model=values["delivery_model"],
        ownership_employee=shares[0],
        ownership_government=shares[1],
        ownership_private=shares[2],
        service_lines=[lines[code] for code in values["service_lines"]],
        accreditation_status="applied",
    )
    db.session.add(centre)
    db.session.flush()
    audit.record(
        "centre.created",
        actor=actor,
        organisation_id=org.id,
        object_type="centre",
        object_id=slug,
        detail={
            "name": centre.name,
            "business_model": centre.business_model,
            "service_lines": values["service_lines"],
        },
    )
    record_application(centre, actor=actor)
    return centre
