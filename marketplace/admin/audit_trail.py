"""The audit trail page for admins (/admin/audit) with filters, and its CSV export."""

from __future__ import annotations

import math

from flask import Blueprint, Response, render_template, request, stream_with_context
from marshmallow import ValidationError

from marketplace import clock
from marketplace.accounts.auth import role_required
from marketplace.admin.audit_display import page_rows
from marketplace.audit import services
from marketplace.audit.schemas import AuditPageArgsSchema
from marketplace.errors import ValidationFailed
from marketplace.web import forms
from marketplace.web.forms import field_errors

bp = Blueprint("audit", __name__, url_prefix="/admin")
PER_PAGE = 50
# Errors name the query arguments (`from`, `to`: the schema's data keys), which are also
# the ids of the filter controls, so each links to its control as '#<field>'.


def _load():
    try:
        args = AuditPageArgsSchema().load(request.args.to_dict())
    except ValidationError as error:
        return None, field_errors(error.messages)
    return args, []


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
            errors = error.errors
    pages = max(1, math.ceil(total / PER_PAGE))
    return (
        render_template(
            "admin/audit.html",
            rows=page_rows(rows),
            total=total,
            page=page,
            pages=pages,
            args=request.args,
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
