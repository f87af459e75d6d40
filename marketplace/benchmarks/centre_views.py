"""The centre's own area for benchmark data (/centre/submissions): upload, history, flags.

Only people with the centre role see these pages, and only their own centre's submissions:
another centre's submission id is simply not found.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.accounts.auth import role_required
from marketplace.audit import services as audit
from marketplace.benchmarks import (
    periods,
    restatements,
    submissions,
    templates_export,
    validation,
)
from marketplace.benchmarks import submission_history as history
from marketplace.benchmarks.ingest_schemas import REASON_MAX_LENGTH
from marketplace.errors import DomainError, FieldError, NotFound
from marketplace.extensions import db
from marketplace.web import pagination

bp = Blueprint("centre_submissions", __name__, url_prefix="/centre/submissions")

FILE_MIMETYPES = {
    "json": "application/json",
    "csv_long": "text/csv",
    "csv_wide": "text/csv",
    "xlsx_long": templates_export.XLSX_MIMETYPE,
    "xlsx_wide": templates_export.XLSX_MIMETYPE,
}


def _me():
    return current_user._get_current_object()


def _my_centre():
    centre = submissions.centre_for_organisation(current_user.organisation_id)
    if centre is None:
        raise NotFound("Your organisation has no entry in the catalogue yet, so it has no data.")
    return centre


def _summary_errors(errors: list[FieldError]) -> list[dict]:
    """GOV.UK error summary items: each says where (row, column) and links to the file field."""
    items = []
    for error in errors:
        where = []
        if error.row:
            where.append(f"Row {error.row}")
        if error.field and error.field != "file":
            where.append(f"column ‘{error.field}’")
        prefix = (", ".join(where) + ": ") if where else ""
        if error.field == "reason":
            items.append({"text": error.message, "href": "#reason"})
            continue
        items.append({"text": prefix + error.message, "href": "#file"})
    return items


@bp.get("")
@role_required("centre")
def index():
    centre = _my_centre()
    # The current quarter is always open, even if nobody opened it (audited, committed).
    current = periods.ensure_current(actor_label=audit.SYSTEM)
    db.session.commit()
    page = pagination.page_number(request.args.get("page"))
    listing = history.list_submissions(centre, page=page)
    return render_template(
        "centre/submissions.html",
        centre=centre,
        listing=listing,
        current=current,
        deadline=periods.submission_deadline(current),
        period=templates_export.open_period(),
        flagged=len(history.flagged_observations(centre)),
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required("centre")
def new():
    centre = _my_centre()
    errors: list[FieldError] = []
    detail = None
    refused = None
    status = 200
    reason = request.form.get("reason", "") if request.method == "POST" else ""
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            # The same schema (and so the same 2,000-character bound) as the API and CLI.
            submissions.load_reason(reason)
        except DomainError as error:
            errors, detail, status = list(error.errors), error.detail, error.status
        if errors:
            pass
        elif upload is None or not upload.filename:
            errors = [FieldError("Select a file to upload.", field="file")]
            status = 400
        else:
            content = upload.read()
            try:
                outcome = submissions.submit(
                    centre,
                    content,
                    filename=upload.filename,
                    content_type=upload.mimetype or "",
                    channel="web",
                    actor=_me(),
                    reason=reason,
                )
            except DomainError as error:
                # None of its figures are kept; the refused file is in the history (with
                # every error) and the refusal on the audit record.
                db.session.commit()
                errors = error.errors or [FieldError(error.detail, field="file")]
                detail = error.detail
                status = error.status
                refused = getattr(error, "refused_submission", None)
            else:
                db.session.commit()
                sub = outcome.submission
                if outcome.created:
                    flash(_accepted_message(outcome), "success")
                else:
                    flash(
                        "You sent exactly this file before, so nothing was changed. This is the "
                        "submission it was accepted as.",
                        "info",
                    )
                return redirect(url_for(".show", public_id=sub.public_id))
    return (
        render_template(
            "centre/submissions_new.html",
            centre=centre,
            reason=reason,
            detail=detail,
            errors=errors,
            refused=refused,
            refused_count=history.error_count(refused) if refused is not None else 0,
            form_errors=_summary_errors(errors),
            period=templates_export.open_period(),
            reason_max=REASON_MAX_LENGTH,
        ),
        status,
    )


def _accepted_message(outcome) -> str:
    summary = outcome.submission.summary
    parts = [f"Your file was accepted: {summary.get('created', 0)} new figures"]
    parts.append(f"{summary.get('updated', 0)} changed")
    parts.append(f"{summary.get('unchanged', 0)} unchanged")
    text = ", ".join(parts) + "."
    if summary.get("pending"):
        text += (
            f" {summary['pending']} restated figure{'s' if summary['pending'] != 1 else ''} of "
            "published periods wait for the authority's approval: the published figures stay "
            "until then."
        )
    if outcome.flags:
        text += (
            f" {len(outcome.flags)} figure{'s' if len(outcome.flags) != 1 else ''} "
            "look unusual against their peer groups: please confirm or correct them."
        )
    return text


@bp.get("/<public_id>")
@role_required("centre")
def show(public_id: str):
    centre = _my_centre()
    sub = history.get_submission(centre, public_id)
    return render_template(
        "centre/submissions_show.html",
        centre=centre,
        submission=sub,
        summary=sub.summary or {},
        error_count=history.error_count(sub),
        max_listed=validation.MAX_ERRORS,
        changes=submissions.changes_of(sub),
        restatements={
            (r.observation.metric.code, r.observation.period.code): r
            for r in restatements.for_submission(sub.id)
        },
        flag_states=history.flag_states(centre, sub),
    )


@bp.get("/<public_id>/errors.csv")
@role_required("centre", "admin")
def errors_csv(public_id: str):
    """Every error of a refused file, for its centre's people and the authority's admins."""
    sub = history.get_refused_submission(public_id, viewer=_me())
    response = Response(history.errors_csv(sub), mimetype="text/csv")
    response.headers["Content-Disposition"] = _attachment(history.errors_filename(sub))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<public_id>/file")
@role_required("centre")
def download(public_id: str):
    centre = _my_centre()
    sub = history.get_submission(centre, public_id)
    # Served as stored, byte for byte, and always as a download (never rendered here).
    filename = sub.filename or f"submission-{sub.public_id}"
    response = Response(sub.content, mimetype=FILE_MIMETYPES.get(sub.file_format, "text/plain"))
    response.headers["Content-Disposition"] = _attachment(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _attachment(filename: str) -> str:
    ascii_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[:120]
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@bp.get("/template.<file_format>")
@role_required("centre")
def template(file_format: str):
    centre = _my_centre()
    layout = request.args.get("layout", "long")
    if file_format not in templates_export.FORMATS or layout not in templates_export.LAYOUTS:
        abort(404)
    built = templates_export.build(centre, layout, file_format)
    response = Response(built.content, mimetype=built.mimetype)
    response.headers["Content-Disposition"] = _attachment(built.filename)
    return response


@bp.get("/flags")
@role_required("centre")
def flags():
    centre = _my_centre()
    return render_template(
        "centre/submissions_flags.html",
        centre=centre,
        observations=history.flagged_observations(centre),
    )


@bp.post("/flags/confirm")
@role_required("centre")
def confirm_flag():
    centre = _my_centre()
    metric = request.form.get("metric", "")
    period = request.form.get("period", "")
    observation = history.confirm_flag(centre, metric, period, actor=_me())
    db.session.commit()
    flash(
        f"You confirmed {observation.metric.code} for {observation.period.code} "
        f"({observation.value.normalize():f}) is correct.",
        "success",
    )
    return redirect(url_for(".flags"))
