"""Jinja filters and globals shared by every page."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from flask import Flask, request
from werkzeug.exceptions import default_exceptions

from marketplace import formatting
from marketplace.web import dates


def format_number(value, decimals: int = 0) -> str:
    """The `number` filter: '15,000', '2.35' (rounded half up, as the reports are)."""
    return formatting.number(value, decimals)


def format_date(value) -> str:
    """The `govdate` filter: '1 December 2026', or a time in London for a moment.

    No date is '' rather than the dash, because templates write `x | govdate or 'Never'`.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return formatting.datetime_text(value)
    if isinstance(value, date):
        return formatting.date_text(value)
    return str(value)


STATUS_TAG_CLASSES = {
    "accredited": "govuk-tag--green",
    "suspended": "govuk-tag--orange",
    "expired": "govuk-tag--grey",
    "applied": "govuk-tag--blue",
    "withdrawn": "govuk-tag--red",
}


def url_with(**changes) -> str:
    """The current URL with some query arguments replaced (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    query = urlencode(args, doseq=True)
    return request.path + (f"?{query}" if query else "")


def is_generic_http_text(status: int, detail: str | None) -> bool:
    """True when an error's detail is only werkzeug's stock English for its status, which
    the error page replaces with its own plain words (a domain error's detail is kept)."""
    exception = default_exceptions.get(status)
    return not detail or (exception is not None and detail == exception.description)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["govdate"] = format_date
    # metric_value and the other macros print figures through this, as the reports do.
    app.jinja_env.globals["figure"] = formatting.figure
    app.jinja_env.globals["status_tag_class"] = STATUS_TAG_CLASSES.get
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["is_generic_http_text"] = is_generic_http_text
    # govukDateInput(date_input(name, values, errors, legend=…, hint=…)) on every form.
    app.jinja_env.globals["date_input"] = dates.component
