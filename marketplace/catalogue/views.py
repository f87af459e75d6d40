"""Public catalogue pages: the centre list and one centre."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from marshmallow import ValidationError

from marketplace.catalogue import sections as centre_sections
from marketplace.catalogue import services
from marketplace.catalogue.filter_schemas import CentreFilterSchema
from marketplace.catalogue.models import BUSINESS_MODEL_LABELS, STATUS_LABELS
from marketplace.errors import FieldError, ValidationFailed
from marketplace.web import forms, pagination

bp = Blueprint("catalogue", __name__)

# Error summary links go to the control that holds the value (sort and paging are links).
FIELD_ANCHORS = {
    "q": "#q",
    "service_line": "#service_line",
    "business_model": "#business_model",
    "status": "#status",
    "sort": "#sort-options",
    "page": "#results",
    "per_page": "#results",
}


@bp.get("/centres")
def centres():
    errors: dict[str, str] = {}
    page = None
    try:
        query = CentreFilterSchema().load(request.args)  # service_line may repeat
        page = services.search_centres(query, viewer=current_user)
    except ValidationError as error:
        errors = _by_field(forms.field_errors(error.messages))
    except ValidationFailed as error:
        errors = _by_field(error.errors)
    args = request.args
    return render_template(
        "catalogue/centres.html",
        page=page,
        args=args,
        errors=errors,
        form_errors=forms.error_summary(
            [FieldError(message, field) for field, message in errors.items()],
            anchors=FIELD_ANCHORS,
            default="#filters",
        ),
        filtered=any(args.get(name) for name in ("q", "service_line", "business_model", "status")),
        sort=args.get("sort") if args.get("sort") in services.SORTS else services.DEFAULT_SORT,
        sorts=services.SORTS,
        service_lines=services.service_lines(),
        business_models=BUSINESS_MODEL_LABELS,
        statuses={code: STATUS_LABELS[code] for code in services.filter_statuses(current_user)},
        pagination=pagination.links(page) if page is not None else None,
        unlisted=services.unlisted_counts(),
    ), (400 if errors else 200)


@bp.get("/centres/<slug>")
def centre(slug: str):
    centre = services.get_public_centre(slug, viewer=current_user)
    # Figures and reports are sections that the areas above add (catalogue/sections.py).
    sections, section_context = centre_sections.for_page(centre, current_user)
    certifications = [(cert, services.certification_state(cert)) for cert in centre.certifications]
    return render_template(
        "catalogue/centre.html",
        centre=centre,
        listed=services.is_listed_publicly(centre),
        certifications=certifications,
        certification_warnings=[cert for cert, state in certifications if state.warns],
        warning_days=services.CERTIFICATION_WARNING_DAYS,
        history=list(reversed(centre.accreditation_events)),
        sections=sections,
        **section_context,
    )


def _by_field(errors) -> dict[str, str]:
    """One message per field (the first), in the order the form shows the fields."""
    out: dict[str, str] = {}
    for error in errors:
        out.setdefault(error.field or "filters", error.message)
    order = list(FIELD_ANCHORS)
    return dict(
        sorted(out.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99)
    )
