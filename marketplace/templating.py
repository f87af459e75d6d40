"""Jinja filters and globals shared by every page."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlencode

from flask import Flask, request


def format_number(value, decimals: int = 0) -> str:
    if value is None:
        return "–"
    number = Decimal(str(value))
    return f"{number:,.{decimals}f}"


def format_date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%-d %B %Y at %H:%M UTC")
    if isinstance(value, date):
        return value.strftime("%-d %B %Y")
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


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["govdate"] = format_date
    app.jinja_env.globals["status_tag_class"] = STATUS_TAG_CLASSES.get
    app.jinja_env.globals["url_with"] = url_with
