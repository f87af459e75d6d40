"""The audit trail page for admins (/admin/audit) with filters, and its CSV export."""

from __future__ import annotations

import math
from datetime import date

from flask import Blueprint, Response, render_template, request, stream_with_context
from marshmallow import ValidationError

from marketplace import clock
from marketplace.accounts.auth import role_required
from marketplace.admin.audit_display import page_rows
from marketplace.audit import services
from marketplace.audit.schemas import AuditPageArgsSchema
from marketplace.errors import ValidationFailed
from marketplace.web import dates, forms
from marketplace.web.forms import field_errors

bp = Blueprint("audit", __name__, url_prefix="/admin")
PER_PAGE = 50
# Errors name the query arguments, which are also the ids of the filter controls, so each
# links to its control as '#<field>'; the dates are GOV.UK date inputs whose boxes
# (from-day, from-month, from-year) stay in the URL, so a filtered page can be linked to.
# A link may still give `from`/`to` as YYYY-MM-DD, as the API takes them.
DATES = {"from": "the date to search from", "to": "the date to search to"}


def _readings() -> dict[str, dates.DateReading]:
    return {
        name: dates.read(request.args, name, label, required=False) for name, label in DATES.items()
    }


def _arguments(readings: dict[str, dates.DateReading]) -> dict[str, str]:
    """The query as the schema reads it: each date typed in its boxes as YYYY-MM-DD."""
    args = request.args.to_dict()
    for name, reading in readings.items():
        if not reading.blank or reading.error is not None:
            args[name] = reading.schema_value()
    return args


def _load():
    readings = _readings()
    try:
        args = AuditPageArgsSchema().load(_arguments(readings))
    except ValidationError as error:
        return None, dates.with_date_errors(field_errors(error.messages), readings)
    return args, []


def _values(readings: dict[str, dates.DateReading]) -> dict[str, str]:
    """The filters as the form shows them; a date linked to as YYYY-MM-DD fills its boxes."""
    values = request.args.to_dict()
    for name, reading in readings.items():
        if reading.blank:
            try:
                linked = date.fromisoformat(request.args.get(name, ""))
            except ValueError:
                continue
            values.update(dates.form_values(name, linked))
    return values


@bp.get("/audit")
@role_required("admin")
def index():
    args, errors = _load()
    rows, total, page = [], 0, 1
    if args is not None:
        page = args["page"]
        try:
            rows, total = services.search(args["query"], page=page, per_page=PER_PAGE)
        except ValidationFailed as error:
            errors = dates.with_date_errors(error.errors, _readings())
    pages = max(1, math.ceil(total / PER_PAGE))
    return (
        render_template(
            "admin/audit.html",
            rows=page_rows(rows),
            total=total,
            page=page,
            pages=pages,
            args=request.args,
            values=_values(_readings()),
            errors=forms.by_field(errors),
            form_errors=forms.error_summary(errors, default="#filters"),
        ),
        400 if errors else 200,
    )


@bp.get("/audit.csv")
@role_required("admin")
def export():
    args, errors = _load()
    if errors:
        raise ValidationFailed("Some filters are not valid.", errors=errors)
    query = args["query"]
    services.statement(query)  # refuses bad filters before the download starts
    filename = f"audit-events-{clock.now():%Y%m%d-%H%M%S}.csv"
    return Response(
        stream_with_context(services.csv_chunks(query)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
