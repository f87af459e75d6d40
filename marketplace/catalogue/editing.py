"""Changing a centre's catalogue entry (PATCH by its own users or an admin)."""

from __future__ import annotations

from decimal import Decimal

from marketplace import events
from marketplace.audit import services as audit
from marketplace.catalogue import reviews
from marketplace.catalogue.access import can_edit, is_admin
from marketplace.catalogue.models import CentreSite, Certification, ServiceCentre, ServiceLine
from marketplace.errors import FieldError, PermissionDenied, ValidationFailed
from marketplace.extensions import db

# Plain columns a PATCH may set (CentreUpdateSchema flattens its groups into these names).
EDITABLE_COLUMNS = (
    "name",
    "summary",
    "business_model",
    "delivery_model",
    "platform",
    "commentary",
    "ownership_employee",
    "ownership_government",
    "ownership_private",
    "board_workforce",
    "board_customers",
    "board_government",
    "board_private_partner",
    "board_independent",
    "employees_served",
    "transactions_per_year",
    "pricing_model",
    "pricing_drivers",
    "contact_name",
    "contact_email",
    "contact_phone",
    "website",
)
EDITABLE_LISTS = ("service_lines", "sites", "certifications")
OWNERSHIP_COLUMNS = ("ownership_employee", "ownership_government", "ownership_private")


def update_centre(centre: ServiceCentre, changes: dict, *, actor) -> dict[str, dict]:
    """Apply changes loaded by CentreUpdateSchema; audit the fields that really changed.

    Returns what really changed ({field: {"before": …, "after": …}}; empty if nothing did).

    Only the centre's own users and admins may change an entry, and only admins rename one.
    Lists (service lines, sites, certifications) are replaced as a whole.
    """
    if not can_edit(actor, centre):
        raise PermissionDenied(
            "Only the centre's own users and the accreditation authority can change this entry."
        )
    unknown = sorted(set(changes) - set(EDITABLE_COLUMNS) - set(EDITABLE_LISTS))
    if unknown:
        raise ValidationFailed(
            "Some fields cannot be changed.",
            errors=[FieldError("This field cannot be changed.", field=name) for name in unknown],
        )
    if "name" in changes and changes["name"] != centre.name and not is_admin(actor):
        raise PermissionDenied(
            "Only the accreditation authority can rename a centre.",
            errors=[FieldError("Ask the accreditation authority to rename the centre.", "name")],
        )
    shares = {col: changes.get(col, getattr(centre, col)) for col in OWNERSHIP_COLUMNS}
    total = sum((Decimal(str(value)) for value in shares.values()), Decimal(0))
    if total != 100:
        raise ValidationFailed(
            "The ownership shares do not add up.",
            errors=[
                FieldError(
                    f"Ownership shares must add up to 100%. These add up to "
                    f"{total.normalize():f}%.",
                    field="ownership",
                )
            ],
        )

    changed: dict[str, dict] = {}
    for column in EDITABLE_COLUMNS:
        if column in changes and changes[column] != getattr(centre, column):
            changed[column] = {"before": getattr(centre, column), "after": changes[column]}
            setattr(centre, column, changes[column])
    if "service_lines" in changes:
        _replace_service_lines(centre, changes["service_lines"], changed)
    if "sites" in changes:
        _replace_sites(centre, changes["sites"], changed)
    if "certifications" in changes:
        _replace_certifications(centre, changes["certifications"], changed)
    if not changed:
        return changed
    db.session.flush()
    event = audit.record(
        "centre.update",
        actor=actor,
        organisation_id=centre.organisation_id,
        object_type="centre",
        object_id=centre.slug,
        detail={"changed": changed},
    )
    # A live entry changes at once, and the authority reviews the change afterwards.
    if reviews.needs_review(centre, actor):
        reviews.record(centre, changed, actor=actor, audit_event=event)
    # Service lines decide peer-group membership: the benchmarks area redraws them.
    events.centre_edited.send(centre, changed=changed)
    return changed


def _replace_service_lines(centre: ServiceCentre, codes: list[str], changed: dict) -> None:
    before = [line.code for line in centre.service_lines]
    if sorted(before) == sorted(codes):
        return
    lines = {line.code: line for line in db.session.execute(db.select(ServiceLine)).scalars()}
    unknown = [code for code in codes if code not in lines]
    if unknown:
        raise ValidationFailed(
            "Some service lines are not known.",
            errors=[
                FieldError(
                    f"Not a service line: {', '.join(unknown)}. Choose from: {', '.join(lines)}.",
                    field="service_lines",
                )
            ],
        )
    centre.service_lines = [lines[code] for code in codes]
    changed["service_lines"] = {
        "before": before,
        "after": [line.code for line in centre.service_lines],
    }


def _replace_sites(centre: ServiceCentre, sites: list[dict], changed: dict) -> None:
    def as_dict(site) -> dict:
        return {"name": site.name, "town": site.town, "region": site.region}

    before = [as_dict(site) for site in centre.sites]
    after = [
        {"name": s["name"].strip(), "town": s.get("town", ""), "region": s.get("region", "")}
        for s in sites
    ]
    if before == after:
        return
    # Reuse rows by name: deleting and re-inserting a name in one flush trips its unique key.
    existing = {site.name.casefold(): site for site in centre.sites}
    kept = []
    for position, values in enumerate(after):
        site = existing.pop(values["name"].casefold(), None) or CentreSite()
        site.name, site.town, site.region = values["name"], values["town"], values["region"]
        site.position = position
        kept.append(site)
    centre.sites = kept
    changed["sites"] = {"before": before, "after": after}


def _replace_certifications(centre: ServiceCentre, certs: list[dict], changed: dict) -> None:
    def as_dict(cert) -> dict:
        return {"scheme": cert.scheme, "reference": cert.reference, "expires_on": cert.expires_on}

    before = sorted((as_dict(cert) for cert in centre.certifications), key=_by_scheme)
    after = sorted(
        (
            {
                "scheme": c["scheme"],
                "reference": c.get("reference", ""),
                "expires_on": c["expires_on"],
            }
            for c in certs
        ),
        key=_by_scheme,
    )
    if before == after:
        return
    existing = {cert.scheme: cert for cert in centre.certifications}
    kept = []
    for values in after:
        cert = existing.pop(values["scheme"], None) or Certification(scheme=values["scheme"])
        cert.reference, cert.expires_on = values["reference"], values["expires_on"]
        kept.append(cert)
    centre.certifications = kept
    changed["certifications"] = {"before": before, "after": after}


def _by_scheme(values: dict) -> str:
    return values["scheme"]
