"""The accreditation authority's API: the audit trail, and accreditation changes for scripts.

Both are for administrators only: signed in, or with an API token made for an admin
(`flask --app marketplace create-token EMAIL --name NAME`). They run the same services as
the admin pages, so a script and a person get the same checks and leave the same trail.
"""

from __future__ import annotations

import functools

from flask import Response, request, stream_with_context
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import UnsupportedMediaType

from marketplace import clock
from marketplace.admin.services import accreditation as accreditation_service
from marketplace.api.common import (
    REQUIRED_AUTH,
    api_blueprint,
    envelope,
    page_schema,
    problem_response,
    signed_in_user,
)
from marketplace.audit import services as audit
from marketplace.audit.schemas import AuditEventSchema, AuditPageArgsSchema
from marketplace.catalogue import accreditation
from marketplace.catalogue.accreditation import ACTIONS
from marketplace.catalogue.centre_schemas import AccreditationEventSchema
from marketplace.errors import PermissionDenied
from marketplace.extensions import db
from marketplace.web.pagination import Page

bp = api_blueprint(
    "admin_api",
    __name__,
    description=(
        "For the accreditation authority's administrators and their scripts: the audit "
        "trail and accreditation changes."
    ),
)


def problem(status: int, description: str):
    return problem_response(bp, status, description)


def admins_only(view):
    """401 for nobody, 403 for anyone but an admin, before the arguments are looked at."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if signed_in_user().role != "admin":
            raise PermissionDenied("Only the accreditation authority's administrators may do this.")
        return view(*args, **kwargs)

    return wrapped


def _wants_csv(args: dict) -> bool:
    if args.get("format") == "csv":
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv"


@bp.route("/audit-events")
@bp.doc(security=REQUIRED_AUTH)
@bp.arguments(AuditPageArgsSchema, location="query")
@bp.response(200, page_schema(AuditEventSchema, "AuditEventPage"))
@bp.alt_response(
    200,
    success=True,
    # A schema, so that the document lists text/csv beside JSON under 200.
    schema={"type": "string"},
    content_type="text/csv",
    description="A page of events as JSON; with `format=csv` or `Accept: text/csv`, every "
    "matching event as CSV (no paging).",
)
@problem(401, "No valid session or token.")
@problem(403, "Not an administrator, or a session write without its CSRF token.")
@problem(422, "A filter is not valid (see errors), or an unknown organisation.")
@admins_only
def list_audit_events(args):
    """List audit events

    Newest first. Filters combine: `actor` (part of an email address or label), `organisation`
    (slug), `action` (exact, or a prefix ending in `.` or `*`), `object` (`type` or
    `type:id`), `from` and `to` (inclusive days, UTC). CSV returns every match in one
    streamed download with columns occurred_at, actor, organisation, action, object_type,
    object_id, detail (JSON) and ip_address.
    """
    query = args["query"]
    if _wants_csv(args):
        audit.statement(query)  # refuses bad filters before the download starts
        filename = f"audit-events-{clock.now():%Y%m%d-%H%M%S}.csv"
        return Response(
            stream_with_context(audit.csv_chunks(query)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    rows, total = audit.search(query, page=args["page"], per_page=args["per_page"])
    return envelope(
        Page(
            items=[row.as_dict() for row in rows],
            total=total,
            page=args["page"],
            per_page=args["per_page"],
        )
    )


class AccreditationChangeSchema(Schema):
    action = fields.String(
        required=True,
        validate=validate.OneOf(ACTIONS, error="Choose one of: {choices}."),
        metadata={"description": "accredit, suspend, reinstate, withdraw or renew."},
    )
    reason = fields.String(
        load_default="",
        validate=validate.Length(
            max=accreditation.REASON_MAX_LENGTH, error=accreditation.REASON_TOO_LONG
        ),
        metadata={"description": "Required to suspend, reinstate or withdraw."},
    )
    valid_from = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "accredit only; default today."},
    )
    valid_until = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "Required to accredit or renew."},
    )


class AccreditationStateSchema(Schema):
    centre = fields.String(attribute="centre.slug")
    status = fields.Function(
        lambda event: event.centre.status, metadata={"description": "Status today."}
    )
    valid_from = fields.Date(attribute="centre.accredited_from", allow_none=True)
    valid_until = fields.Date(attribute="centre.accredited_until", allow_none=True)
    event = fields.Function(lambda event: AccreditationEventSchema().dump(event))


def _json_body(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not request.is_json:
            raise UnsupportedMediaType("Send the change as JSON (Content-Type: application/json).")
        return view(*args, **kwargs)

    return wrapped


@bp.route("/centres/<slug>/accreditation", methods=["POST"])
@bp.doc(security=REQUIRED_AUTH)
@bp.response(200, AccreditationStateSchema, description="The centre's accreditation now.")
@problem(400, "Malformed JSON.")
@problem(401, "No valid session or token.")
@problem(403, "Not an administrator, or a session write without its CSRF token.")
@problem(404, "There is no centre with that slug.")
@problem(409, "The change is not allowed from the centre's current status.")
@problem(415, "The body is not JSON.")
@problem(422, "A value is missing or not valid (see errors).")
@admins_only
@_json_body
@bp.arguments(AccreditationChangeSchema, location="json")
def change_accreditation(change, slug):
    """Change a centre's accreditation

    Moves the centre through the lifecycle: `accredit` (applied → accredited, with
    `valid_until`), `suspend`, `reinstate`, `withdraw` (with a `reason`) and `renew` (a later
    `valid_until`). Peer statistics of the periods it affects are recomputed in the same
    transaction, and the change is in the accreditation history and the audit trail.
    """
    centre = accreditation_service.get_centre(slug)
    action = change.pop("action")
    event = accreditation.change(centre, action, actor=signed_in_user(), **change)
    db.session.commit()
    return event
