"""Benchmark figures over the API: a centre's scripts send files; anyone reads what is public.

POST takes the file itself as the body (text/csv, application/json or an .xlsx workbook),
or a multipart form with a `file` part, and runs the same ingest service as the web form
and the CLI, so the same file gets the same answer everywhere.
"""

from __future__ import annotations

import functools

from flask import Response, request
from flask_login import current_user

from marketplace import links
from marketplace.accounts.auth import acting_organisation_id, authenticated_by_token
from marketplace.api.common import (
    OPTIONAL_AUTH,
    REQUIRED_AUTH,
    PageArgsSchema,
    api_blueprint,
    envelope,
    page_schema,
    paginate,
    problem_response,
    signed_in_user,
    viewer,
)
from marketplace.benchmarks import submission_history, submissions
from marketplace.benchmarks.ingest_schemas import (
    ObservationOutSchema,
    ObservationQuerySchema,
    SubmissionArgsSchema,
    SubmissionBodySchema,
    SubmissionOutSchema,
)
from marketplace.benchmarks.parsing import XLSX_TYPE
from marketplace.catalogue import services as catalogue
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db

bp = api_blueprint(
    "submissions",
    __name__,
    description=(
        "Benchmark figures. A centre sends a file of figures (accepted whole or not at all, "
        "with every problem listed) and reads its observations back."
    ),
)

DEFAULT_NAMES = {
    "text/csv": "upload.csv",
    "application/json": "upload.json",
    XLSX_TYPE: "upload.xlsx",
}
FILE_BODY = {
    "description": (
        "The file itself. CSV (UTF-8, comma or semicolon; long layout "
        "`metric,period,value[,numerator,denominator,comment]` or wide layout "
        "`metric,<YYYY-Qn>,…`), an Excel workbook, or JSON "
        '`{"observations": [{"metric": …, "period": "2026-Q1", "value": 4.12}], "reason": …}`. '
        "A multipart form with a `file` part is also accepted."
    ),
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        "application/json": {"schema": SubmissionBodySchema},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


class ObservationQueryArgs(PageArgsSchema, ObservationQuerySchema):
    pass


def problem(status: int, description: str):
    return problem_response(bp, status, description)


def _commit_audit_on_refusal(view):
    """A refusal writes no figures, but its audit event and its rejected submission (the file
    and every error, for the centre's history) must still commit."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except DomainError as error:
            db.session.commit()
            refused = getattr(error, "refused_submission", None)
            if refused is not None:
                # The body lists the first validation.MAX_ERRORS; every error is kept.
                # Two addresses: the API's, for the script that sent the file (its token
                # works there), and the centre page's, for a person signed in.
                api_url = links.absolute_url(
                    "submissions.get_submission_errors",
                    slug=kwargs["slug"],
                    public_id=refused.public_id,
                )
                page_url = links.absolute_url(
                    "centre_submissions.errors_csv", public_id=refused.public_id
                )
                error.detail += (
                    f" Every error is kept with the refused file (submission "
                    f"{refused.public_id}): download them as CSV at {api_url} "
                    f"(signed in on the website: {page_url})"
                )
            raise

    return wrapped


def _file_from_request() -> tuple[bytes, str, str]:
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            from marketplace.errors import FieldError, ValidationFailed

            raise ValidationFailed(
                "The form has no file.",
                errors=[FieldError("Send the file in a part named 'file'.", field="file")],
            )
        return upload.read(), upload.filename or "", upload.mimetype or ""
    content = request.get_data(cache=False)
    mimetype = request.mimetype or ""
    return content, DEFAULT_NAMES.get(mimetype, "upload"), mimetype


@bp.route("/centres/<slug>/submissions", methods=["POST"])
@bp.doc(security=REQUIRED_AUTH, requestBody=FILE_BODY)
@bp.arguments(SubmissionArgsSchema, location="query")
@bp.response(201, SubmissionOutSchema, description="The file was accepted and applied.")
@bp.alt_response(
    200, schema=SubmissionOutSchema, description="Identical file already accepted: no change."
)
@problem(400, "The file could not be read (binary, not UTF-8, damaged workbook).")
@problem(401, "No valid session or token.")
@problem(403, "The token or account is not this centre's; the attempt is audited.")
@problem(404, "No centre you may see has that slug.")
@problem(413, "The file is larger than MAX_UPLOAD_BYTES, or has too many rows.")
@problem(415, "The content type is not CSV, JSON or an Excel workbook.")
@problem(
    422,
    "The file was refused: the first 200 problems are listed in `errors` with row and field; "
    "`detail` says how many there were in all and where the centre's people download every "
    "one (CSV: row, column, value, message).",
)
@_commit_audit_on_refusal
def post_submission(args, slug):
    """Send a file of benchmark figures

    For the centre's own users and their API tokens. The file is checked in full and
    applied whole, or refused with every problem listed (row as a spreadsheet shows it, the
    header being row 1; for JSON, the position in `observations`). Changing a figure of a
    closed or published period needs `reason`. Re-sending identical bytes answers 200 with
    the submission it was accepted as and changes nothing.
    """
    actor = signed_in_user()
    # A hidden (applied or withdrawn) centre is 404 to whoever may not see it, as on GET:
    # a 403 naming it would tell a stranger it exists.
    centre = catalogue.get_public_centre(slug, viewer=viewer())
    submissions.check_can_submit(
        centre,
        actor,
        organisation_id=acting_organisation_id(),
        via="token" if authenticated_by_token() else "session",
    )
    content, filename, content_type = _file_from_request()
    outcome = submissions.submit(
        centre,
        content,
        filename=args.get("filename") or filename,
        content_type=content_type,
        channel="api",
        actor=actor,
        reason=args.get("reason", ""),
    )
    db.session.commit()
    return outcome, 201 if outcome.created else 200


@bp.route("/centres/<slug>/submissions/<public_id>/errors")
@bp.doc(security=REQUIRED_AUTH)
@bp.response(
    200,
    # A schema, so that the document lists text/csv under 200.
    schema={"type": "string"},
    content_type="text/csv",
    description="Every error of the refused file, one a row: row, column, value, message.",
)
@problem(401, "No valid session or token.")
@problem(404, "No refused file of that centre with that reference that you can see.")
def get_submission_errors(slug, public_id):
    """Download every error of a refused file

    For the centre's own users and their API tokens, and admins: the same CSV as the
    centre's page offers (row as a spreadsheet shows it, the header being row 1; the value
    as sent, any formula neutralised). A 422 refusal's `detail` gives this address. Anyone
    else, and an accepted submission, is 404.
    """
    who = signed_in_user()
    centre = catalogue.get_public_centre(slug, viewer=who)
    refused = submission_history.get_refused_submission(public_id, viewer=who)
    if refused.centre_id != centre.id:
        raise NotFound("There is no refused file with that reference that you can see.")
    filename = submission_history.errors_filename(refused)
    return Response(
        submission_history.errors_csv(refused),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/centres/<slug>/observations")
@bp.doc(security=OPTIONAL_AUTH)
@bp.arguments(ObservationQueryArgs, location="query")
@bp.response(200, page_schema(ObservationOutSchema, "ObservationPage"))
@problem(404, "No centre you may see has that slug.")
@problem(422, "A query argument is not valid.")
def list_observations(args, slug):
    """List a centre's observations

    The current figure of each metric and period, newest period first. Everyone sees the
    figures of published periods; the centre's own users, its tokens and admins see all.
    """
    who = viewer()
    centre = catalogue.get_public_centre(slug, viewer=who)
    own = acting_organisation_id() == centre.organisation_id
    sees_everything = own or (who is not None and current_user.role == "admin")
    query = submission_history.observations_for(
        centre, period_code=args.get("period"), sees_everything=sees_everything
    )
    return envelope(paginate(query, args["page"], args["per_page"]))
