"""Refuse requests whose text no database can hold, before any view or CSRF check reads them.

PostgreSQL text cannot contain NUL (U+0000): a NUL in a query string, form field or JSON body
would pass the schemas (it is a valid character to marshmallow) and fail in the database with
a 500, while SQLite stored it. And a multipart part whose name the parser cannot read arrives
with no name at all, which Flask-WTF's CSRF check trips over. Both are refused here with a
clear 422 or 400, the same for the web pages and the API.

Uploaded files are not inspected: their bytes are the ingest service's to judge (an .xlsx is
binary and full of NUL bytes).
"""

from __future__ import annotations

from flask import Flask, request

from marketplace.errors import DomainError, FieldError, ValidationFailed

NUL = "\x00"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class MalformedRequest(DomainError):
    status = 400
    title = "Bad request"


def register(app: Flask) -> None:
    """Register first, so that this runs before the CSRF check reads the form."""
    app.before_request(refuse_unstorable_text)


def refuse_unstorable_text() -> None:
    bad: list[str] = []
    for key, value in request.args.items(multi=True):
        if NUL in key or NUL in value:
            bad.append(key.replace(NUL, "\\0"))
    if request.mimetype in FORM_TYPES:
        if None in request.form or None in request.files:
            raise MalformedRequest(
                "A part of the form has no name the server can read.",
                errors=[FieldError("Send each form field with a plain name.")],
            )
        for key, value in request.form.items(multi=True):
            if NUL in key or NUL in value:
                bad.append(key.replace(NUL, "\\0"))
    elif request.is_json:
        body = request.get_data(cache=True)
        # A NUL byte is not valid JSON; an escaped one decodes to a NUL character.
        if b"\x00" in body or b"\\u0000" in body:
            bad.append("body")
    if bad:
        raise ValidationFailed(
            "Text cannot contain the NUL character (\\0).",
            errors=[
                FieldError("Remove the NUL character (\\0) from this value.", field)
                for field in dict.fromkeys(bad)
            ],
        )
