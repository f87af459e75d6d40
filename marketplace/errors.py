"""Domain exceptions, and the one place that turns them into an HTML page or problem+json."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, SecurityError

from marketplace import events


@dataclass(frozen=True)
class FieldError:
    """One precise problem: where it is (row and field, if any) and how to fix it."""

    message: str
    field: str | None = None
    row: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])


class ValidationFailed(DomainError):
    status = 422
    title = "The data is not valid"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class PermissionDenied(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class IllegalTransition(Conflict):
    title = "That change is not allowed"


class TooManyAttempts(DomainError):
    status = 429
    title = "Too many attempts"


def wants_problem_json() -> bool:
    return request.path.startswith("/api/")


def problem(status: int, title: str, detail: str, errors: list[dict] | None = None, **extra):
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _reset_session(*, always: bool) -> None:
    """Roll a broken (or, for a server error, any) transaction back before rendering.

    The page and the problem read the database (the signed-in user, for one); a session whose
    flush failed ("database is locked") would raise PendingRollbackError there and leave a
    bare 500. A refusal (DomainError) keeps the session: its view has committed what it
    wants kept, and the request's end discards the rest.
    """
    from marketplace.extensions import db

    try:
        if always or not db.session.is_active:
            db.session.rollback()
    except Exception:  # the page must still render
        db.session.remove()


READS = frozenset(("GET", "HEAD", "OPTIONS"))
REFUSALS = frozenset((401, 403, 404))
# Areas whose every refused page is worth a trace, not only refused writes.
GUARDED_PREFIXES = ("/admin", "/centre/", "/buyer/", "/api/v1/audit-events")


def _note_refusal(status: int, reason: str) -> None:
    """Announce a refused write, a 403 anywhere, or any refusal in a guarded area.

    The receiver (accounts/refusals.py) writes the audit event after rolling back the
    refused request's own work; here we only decide what counts.
    """
    if status not in REFUSALS:
        return
    guarded = request.path.startswith(GUARDED_PREFIXES)
    if request.method in READS and not guarded and status != 403:
        return
    events.access_refused.send(
        None, method=request.method, path=request.path, status=status, reason=reason
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        _note_refusal(error.status, error.detail)
        _reset_session(always=False)
        if wants_problem_json():
            return problem(
                error.status, error.title, error.detail, [e.as_dict() for e in error.errors]
            )
        return (
            render_template(
                "errors/error.html",
                status=error.status,
                title=error.title,
                detail=error.detail,
                errors=error.errors,
                # A refusal that needs its own words (accounts.membership's pending page).
                heading=getattr(error, "heading", None),
            ),
            error.status,
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if isinstance(error, SecurityError):
            # A Host header outside TRUSTED_HOSTS: no URL can be built for it, so no page
            # with links either; a plain answer that names nothing of ours.
            return "Bad request: unknown host.", 400, {"Content-Type": "text/plain"}
        status = error.code or 500
        _reset_session(always=status >= 500)
        title = error.name
        detail = error.description or title
        _note_refusal(status, detail)
        if status == 429:
            title = "Too many attempts"
            detail = (
                "There have been too many attempts from your address. Wait a minute, then "
                "try again."
            )
        if status == 413:
            limit = app.config["MAX_UPLOAD_BYTES"]
            detail = (
                f"The file is too large. Files must be {limit // (1024 * 1024)} MB or smaller; "
                "split the data into smaller files and upload each one."
            )
            if (request.content_length or 0) <= (app.config.get("MAX_CONTENT_LENGTH") or 0):
                # Within the size limit: the form had too many parts or too long a field.
                detail = (
                    "The form has too many parts or a field that is too long. Send one file "
                    "and the form's own fields only."
                )
        if wants_problem_json():
            # flask-smorest attaches marshmallow messages to 422s from its argument parser.
            messages = (
                getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
            )
            errors = _flatten_messages(messages) if messages else []
            if errors:
                detail = "Some of the values sent are not valid: see errors for each one."
            response = problem(status, title, detail, errors)
            if status == 405 and error.get_response().headers.get("Allow"):
                response.headers["Allow"] = error.get_response().headers["Allow"]
            return response
        return (
            render_template(
                "errors/error.html", status=status, title=title, detail=detail, errors=[]
            ),
            status,
        )


# Where webargs found a bad argument; the top level of its messages is keyed by these.
_LOCATIONS = frozenset(
    (
        "query",
        "querystring",
        "json",
        "form",
        "json_or_form",
        "files",
        "headers",
        "cookies",
        "view_args",
        "path",
    )
)


def _flatten_messages(messages: dict) -> list[dict]:
    """Turn webargs' {location: {field: [msg]}} into [{row, field, message}].

    Nested fields read as dotted paths ("sites.0.name"); errors about the whole body
    (marshmallow's "_schema") have no field.
    """
    out: list[dict] = []

    def walk(prefix: str | None, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "_schema":
                    walk(prefix, inner)
                else:
                    walk(str(key) if prefix is None else f"{prefix}.{key}", inner)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    out.append({"row": None, "field": prefix, "message": item})
                else:
                    walk(prefix, item)
        else:
            out.append({"row": None, "field": prefix, "message": str(value)})

    for key, value in messages.items():
        if key in _LOCATIONS and isinstance(value, dict):
            walk(None, value)
        else:
            walk(None, {key: value})
    return out
