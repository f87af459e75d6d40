"""The accreditation authority's API: the audit trail, and accreditation changes for scripts.

Both are for administrators only: signed in, or with an API token made for an admin
(`flask --app marketplace create-token EMAIL --name NAME`). They run the same services as
the admin pages, so a script and a person get the same checks and leave the same trail.
"""

from __future__ import annotations

import functools

from apispec.ext.marshmallow import resolver
from flask import Response, request, stream_with_context
from marshmallow import Schema, fields
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
from marketplace.catalogue.accreditation_schemas import CHANGE_SCHEMAS, load_change
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


def _change_body() -> dict:
    """The OpenAPI request body: one closed schema per action, chosen by `action`."""
    refs = {
        action: f"#/components/schemas/{resolver(schema)}"
        for action, schema in CHANGE_SCHEMAS.items()
    }
    return {
        "required": True,
        "description": "One body per action; `action` says which.",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": list(CHANGE_SCHEMAS.values()),
                    "discriminator": {"propertyName": "action", "mapping": refs},
                }
            }
        },
    }


@bp.route("/centres/<slug>/accreditation", methods=["POST"])
@bp.doc(security=REQUIRED_AUTH, requestBody=_change_body())
@bp.response(200, AccreditationStateSchema, description="The centre's accreditation now.")
@problem(400, "Malformed JSON.")
@problem(401, "No valid session or token.")
@problem(403, "Not an administrator, or a session write without its CSRF token.")
@problem(404, "There is no centre with that slug.")
@problem(
    409,
    "The centre's state does not allow it: the action is not open from its status today, "
    "or a renewal's `valid_until` does not extend the validity it has (see errors).",
)
@problem(415, "The body is not JSON.")
@problem(
    422,
    "The body does not fit its action (see errors), or `valid_until` is before today or "
    "before `valid_from`.",
)
@admins_only
@_json_body
def change_accreditation(slug):
    """Change a centre's accreditation

    Moves the centre through the lifecycle: `accredit` (applied → accredited, with
    `valid_until`), `suspend`, `reinstate`, `withdraw` (with a `reason`) and `renew` (a later
    `valid_until`). Each action has its own body; a field it does not take is refused. Peer
    statistics of the periods it affects are recomputed in the same transaction, and the
    change is in the accreditation history and the audit trail.
    """
    centre = accreditation_service.get_centre(slug)
    change = load_change(request.get_json())
    action = change.pop("action")
    event = accreditation.change(centre, action, actor=signed_in_user(), **change)
    db.session.commit()
    return event
