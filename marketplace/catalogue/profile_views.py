"""Centre self-service: a centre's own users edit their catalogue entry (/centre/profile).

The page posts to catalogue.editing.update_centre, the service behind PATCH
/api/v1/centres/<slug>, through the same CentreUpdateSchema, so the rules and messages are
the same. A change to a live entry is public at once and also goes to the authority's review
queue (catalogue.reviews), which the page says. Sites and certifications are rows of the form
(catalogue.profile_form): each saved one with a Remove checkbox, then blank rows to add more;
they replace the lists whole, as a PATCH does.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.accounts.auth import role_required
from marketplace.catalogue import profile_form, reviews, services
from marketplace.catalogue.models import (
    BUSINESS_MODEL_LABELS,
    CERTIFICATION_LABELS,
    CERTIFICATION_SCHEMES,
    DELIVERY_MODEL_LABELS,
    ServiceCentre,
)
from marketplace.catalogue.update_schemas import CentreUpdateSchema
from marketplace.errors import FieldError, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.web import forms

bp = Blueprint("centre_profile", __name__, url_prefix="/centre/profile")

GROUPS = {
    "ownership": ("employee", "government", "private_partner"),
    "board_seats": ("workforce", "customers", "government", "private_partner", "independent"),
    "capacity": ("employees_served", "transactions_per_year"),
    "pricing": ("model", "drivers"),
    "contact": ("name", "email", "phone", "website"),
}
PLAIN = ("summary", "business_model", "delivery_model", "platform", "commentary")
NULLABLE = {("capacity", "employees_served"), ("capacity", "transactions_per_year")}
NEW_SITE_ROWS = 2
NEW_CERTIFICATION_ROWS = 2  # fewer when only one or no scheme is left to add
SCHEME_ITEMS = [{"value": "", "text": "Choose a certification"}] + [
    {"value": code, "text": CERTIFICATION_LABELS[code]} for code in CERTIFICATION_SCHEMES
]


def _own_centre() -> ServiceCentre:
    centre = db.session.execute(
        db.select(ServiceCentre).where(
            ServiceCentre.organisation_id == current_user.organisation_id
        )
    ).scalar_one_or_none()
    if centre is None:
        raise NotFound("Your organisation has no catalogue entry yet.")
    return centre


def _payload(form, lists) -> dict:
    """The form's fields as the nested body CentreUpdateSchema reads.

    Flat fields are named group-field; the rows of each list the page showed become that list.
    """
    body: dict = {name: form.get(name, "").strip() for name in PLAIN}
    for group, names in GROUPS.items():
        body[group] = {}
        for name in names:
            value = form.get(f"{group}-{name}", "").strip()
            body[group][name] = None if (group, name) in NULLABLE and value == "" else value
    body["service_lines"] = form.getlist("service_lines")
    for rows in lists:
        body[rows.spec.name] = rows.payload()
    return body


def _rows(centre: ServiceCentre) -> tuple[profile_form.Rows, profile_form.Rows]:
    """The centre's sites and certifications as rows, with blank rows to add new ones."""
    sites = profile_form.from_entries(
        profile_form.SITES,
        [{"name": s.name, "town": s.town, "region": s.region} for s in centre.sites],
        NEW_SITE_ROWS,
    )
    certs = [
        {"scheme": c.scheme, "reference": c.reference, "expires_on": c.expires_on}
        for c in centre.certifications
    ]
    spare = len(CERTIFICATION_SCHEMES) - len(certs)
    certifications = profile_form.from_entries(
        profile_form.CERTIFICATIONS, certs, max(0, min(NEW_CERTIFICATION_ROWS, spare))
    )
    return sites, certifications


def _values(centre: ServiceCentre) -> dict:
    """The entry as form values, for the first view of the page."""
    dumped = {name: getattr(centre, name) or "" for name in PLAIN}
    columns = {
        "ownership": {
            "employee": "ownership_employee",
            "government": "ownership_government",
            "private_partner": "ownership_private",
        },
        "board_seats": {name: f"board_{name}" for name in GROUPS["board_seats"]},
        "capacity": {name: name for name in GROUPS["capacity"]},
        "pricing": {"model": "pricing_model", "drivers": "pricing_drivers"},
        "contact": {
            "name": "contact_name",
            "email": "contact_email",
            "phone": "contact_phone",
            "website": "website",
        },
    }
    for group, mapping in columns.items():
        for name, column in mapping.items():
            value = getattr(centre, column)
            if hasattr(value, "normalize"):
                value = f"{value.normalize():f}"
            dumped[f"{group}-{name}"] = "" if value is None else str(value)
    return dumped


def _anchor(field: str | None, lists=()) -> str:
    if not field:
        return "form"
    for rows in lists:
        found = rows.anchor(field)
        if found:
            return found
    if field == "ownership":
        return "ownership-employee"
    return field.replace(".", "-")


def _render(centre, values, selected_lines, sites, certifications, errors=()):
    errors = list(errors)
    lists = (sites, certifications)
    return (
        render_template(
            "centre/profile_edit.html",
            centre=centre,
            values=values,
            selected_lines=selected_lines,
            service_lines=services.service_lines(),
            business_models=BUSINESS_MODEL_LABELS,
            delivery_models=DELIVERY_MODEL_LABELS,
            sites=sites,
            certifications=certifications,
            scheme_items=SCHEME_ITEMS,
            live=reviews.needs_review(centre, current_user),
            errors={_anchor(e.field, lists): e.message for e in reversed(errors)},
            form_errors=forms.error_summary(
                [FieldError(e.message, _anchor(e.field, lists)) for e in errors]
            ),
        ),
        400 if errors else 200,
    )


@bp.route("", methods=["GET", "POST"])
@role_required("centre")
def edit():
    centre = _own_centre()
    if request.method == "GET":
        sites, certifications = _rows(centre)
        values = {**_values(centre), **sites.form_values(), **certifications.form_values()}
        lines = [line.code for line in centre.service_lines]
        return _render(centre, values, lines, sites, certifications)
    # A page without a list's rows leaves that list as it is.
    posted = [
        profile_form.read(spec, request.form)
        for spec in (profile_form.SITES, profile_form.CERTIFICATIONS)
    ]
    try:
        changes = forms.load(
            CentreUpdateSchema(),
            _payload(request.form, [rows for rows in posted if rows is not None]),
            "Some of the details are not valid.",
        )
        with db.session.begin_nested():  # a refusal half-way leaves nothing behind
            changed = services.update_centre(
                centre, changes, actor=current_user._get_current_object()
            )
    except ValidationFailed as error:
        centre = _own_centre()
        sites, certifications = (
            shown if shown is not None else saved
            for shown, saved in zip(posted, _rows(centre), strict=True)
        )
        values = {**sites.form_values(), **certifications.form_values(), **request.form.to_dict()}
        errors = error.errors
        for rows in posted:
            if rows is not None:
                errors = rows.with_date_errors(errors)
        return _render(
            centre,
            values,
            request.form.getlist("service_lines"),
            sites,
            certifications,
            errors,
        )
    live = reviews.needs_review(centre, current_user)
    db.session.commit()
    if not changed:
        flash("Nothing changed.", "info")
    elif live:
        flash(
            "Your entry is updated and public now. The accreditation authority will review "
            "the change.",
            "success",
        )
    else:
        flash("Your entry is updated.", "success")
    return redirect(url_for("centre_profile.edit"))
