"""Restatements of published figures waiting for the authority, for admins and their scripts.

The same service and schemas as the admin page (/admin/restatements) and the CLI: a decision
covers the restatements chosen together, so approving several of one period republishes that period
once — one new version of each affected report, the league table and the open data.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from marketplace.api.admin import _json_body, admins_only
from marketplace.api.common import (
    REQUIRED_AUTH,
    PageArgsSchema,
    api_blueprint,
    envelope,
    page_schema,
    problem_response,
    signed_in_user,
)
from marketplace.benchmarks import restatements as service
from marketplace.benchmarks.restatement_schemas import (
    RestatementApprovalSchema,
    RestatementListArgsSchema,
    RestatementRefusalSchema,
    RestatementSchema,
)
from marketplace.extensions import db
from marketplace.web.pagination import Page

bp = api_blueprint(
    "restatements_api",
    __name__,
    description=(
        "For the accreditation authority's administrators: restatements of published figures, "
        "approved (and republished) or refused."
    ),
)


def problem(status: int, description: str):
    return problem_response(bp, status, description)


class RestatementPageArgsSchema(PageArgsSchema, RestatementListArgsSchema):
    pass


class DecidedSchema(Schema):
    data = fields.List(
        fields.Nested(RestatementSchema),
        metadata={"description": "The restatements decided, now approved or refused."},
    )


@bp.route("/restatements")
@bp.doc(security=REQUIRED_AUTH)
@bp.arguments(RestatementPageArgsSchema, location="query")
@bp.response(200, page_schema(RestatementSchema, "RestatementPage"))
@problem(401, "No valid session or token.")
@problem(403, "Not an administrator.")
@problem(422, "A filter is not valid (see errors).")
@admins_only
def list_restatements(args):
    """List restatements

    Oldest first; by default those still `pending`. `status` may also be `approved`, `refused`
    or `superseded` (replaced by a later restatement of the same figure before a decision).
    """
    items, total = service.listed(args["status"], page=args["page"], per_page=args["per_page"])
    return envelope(Page(items=items, total=total, page=args["page"], per_page=args["per_page"]))


def _decided(decision: str, body: dict) -> dict:
    items = service.decide(
        decision, body["restatements"], actor=signed_in_user(), reason=body["reason"]
    )
    db.session.commit()
    return {"data": items}


@bp.route("/restatements/approve", methods=["POST"])
@bp.doc(security=REQUIRED_AUTH)
@bp.response(200, DecidedSchema)
@problem(400, "Malformed JSON.")
@problem(401, "No valid session or token.")
@problem(403, "Not an administrator, or a session write without its CSRF token.")
@problem(404, "One of the restatements chosen does not exist.")
@problem(409, "One of the restatements chosen was decided already.")
@problem(415, "The body is not JSON.")
@problem(422, "A value is missing or not valid (see errors).")
@admins_only
@_json_body
@bp.arguments(RestatementApprovalSchema, location="json")
def approve_restatements(body):
    """Approve restatements

    `{"restatements": [id, …], "reason": "an optional note"}`. Applies the restated figures
    and republishes each affected period once, however many of its restatements are approved
    together: one new version of each affected report, the league table and the open data.
    All or nothing: if one chosen restatement cannot be approved, none is.
    """
    return _decided("approve", body)


@bp.route("/restatements/refuse", methods=["POST"])
@bp.doc(security=REQUIRED_AUTH)
@bp.response(200, DecidedSchema)
@problem(400, "Malformed JSON.")
@problem(401, "No valid session or token.")
@problem(403, "Not an administrator, or a session write without its CSRF token.")
@problem(404, "One of the restatements chosen does not exist.")
@problem(409, "One of the restatements chosen was decided already.")
@problem(415, "The body is not JSON.")
@problem(422, "A value is missing or not valid, such as a blank reason (see errors).")
@admins_only
@_json_body
@bp.arguments(RestatementRefusalSchema, location="json")
def refuse_restatements(body):
    """Refuse restatements

    `{"restatements": [id, …], "reason": "…"}`. The published figures stay as they are; the
    centre sees the reason (required, up to 2,000 characters). All or nothing.
    """
    return _decided("refuse", body)
