"""Small helpers the admin pages share: reading forms, errors for the GOV.UK error summary,
and the confirmation step every action goes through."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, TypeVar

from flask import render_template, request

from marketplace.errors import DomainError, FieldError, ValidationFailed
from marketplace.extensions import db
from marketplace.web import dates, forms

T = TypeVar("T")


def errors_by_field(errors: Iterable[FieldError]) -> dict[str, str]:
    return forms.by_field(errors, default="form")


def summary(errors: Iterable[FieldError]) -> list[dict]:
    # Admin forms put a problem of the whole form beside the element with id "form". A
    # service's problem with a posted date ('valid_until': "must not be in the past") links
    # to the date input's first box, as the GOV.UK pattern asks.
    errors = list(errors)
    anchors = {
        e.field: f"#{dates.anchor(e.field)}"
        for e in errors
        if e.field and dates.anchor(e.field) in request.form
    }
    return forms.error_summary(errors, anchors=anchors, default="#form")


def text(name: str, default: str = "") -> str:
    return (request.form.get(name) or default).strip()


def date_field(name: str, label: str, *, required: bool) -> tuple[date | None, list[FieldError]]:
    """A GOV.UK date input (name-day, name-month, name-year) as a date, or why not."""
    reading = dates.read(request.form, name, label, required=required)
    return reading.value, [reading.error] if reading.error else []


def is_confirmed() -> bool:
    """The second POST of an action, sent from its confirmation page."""
    return request.form.get("confirmed") == "yes"


def rehearse(action: Callable[[], T]) -> T:
    """Run an action inside a savepoint and undo it: the real checks, nothing kept.

    The confirmation page is shown only for an action that would succeed, so an admin never
    confirms something that is then refused for a reason the page could have given.
    """
    savepoint = db.session.begin_nested()
    try:
        return action()
    finally:
        savepoint.rollback()


def confirm_page(
    *,
    title: str,
    rows: list[tuple[str, Any]],
    action_url: str,
    cancel_url: str,
    button: str,
    warning: str | None = None,
    hidden: dict[str, Any] | None = None,
    caption: str | None = None,
):
    """The confirmation step: what will happen, the same values again as hidden fields."""
    pairs = list(hidden.items()) if hidden is not None else list(request.form.items(multi=True))
    values = [(name, value) for name, value in pairs if name not in ("csrf_token", "confirmed")]
    return render_template(
        "admin/confirm.html",
        title=title,
        caption=caption,
        rows=[(label, "" if value is None else str(value)) for label, value in rows],
        action_url=action_url,
        cancel_url=cancel_url,
        button=button,
        warning=warning,
        hidden=values,
    )


def form_page(template: str, errors: list[FieldError] | None = None, **context):
    """An admin form, with a 400 and the error summary when something must be corrected."""
    errors = errors or []
    return (
        render_template(
            template,
            errors=errors_by_field(errors),
            form_errors=summary(errors),
            form=request.form,
            **context,
        ),
        400 if errors else 200,
    )


def failure_errors(error: DomainError) -> list[FieldError]:
    """A refused action as field errors; a refusal without a field is shown for the form."""
    if error.errors:
        return error.errors
    return [FieldError(error.detail, "form")]


def run_action(template: str, context: Callable[[], dict], perform, confirm, done):
    """The shape of every admin action: check it, confirm it, do it.

    First POST: `perform` is rehearsed (run and undone) and `confirm(result)` shows the
    confirmation page. Second POST (confirmed): `perform` runs for real, the view commits
    once, and `done(result)` answers (a redirect). A refusal at either step shows the form
    again with the reason, with the refusal's own status (422, 409…).
    """
    try:
        if not is_confirmed():
            return confirm(rehearse(perform))
        # A savepoint, so a refusal half-way leaves nothing behind but keeps the session.
        with db.session.begin_nested():
            result = perform()
    except DomainError as error:
        page, _ = form_page(template, failure_errors(error), **context())
        return page, error.status
    db.session.commit()
    return done(result)


__all__ = [
    "FieldError",
    "ValidationFailed",
    "confirm_page",
    "date_field",
    "errors_by_field",
    "failure_errors",
    "form_page",
    "is_confirmed",
    "rehearse",
    "run_action",
    "summary",
    "text",
]
