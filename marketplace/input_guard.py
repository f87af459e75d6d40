"""Refuse hostile input with a clear 4xx, before any view, CSRF check or database reads it.

PostgreSQL text cannot contain NUL (U+0000): a NUL in a query string, form field or JSON body
would pass the schemas (it is a valid character to marshmallow) and fail in the database with
a 500, while SQLite stored it. And a multipart part whose name the parser cannot read arrives
with no name at all, which Flask-WTF's CSRF check trips over. Both are refused here with a
clear 422 or 400, the same for the web pages and the API.

Uploaded files are not inspected: their bytes are the ingest service's to judge (an .xlsx is
binary and full of NUL bytes); the ingest service calls the same checks (`text_problem`,
`load_json`, `bounded_decimal`) on what it reads.

The one place for input no schema can judge:
- text: NUL, the other control characters XML 1.0 cannot carry (they would break the Atom
  feed and the PDFs) and lone surrogates (UTF-16 halves, which no database can encode) are
  refused with a message naming the field (`text_problem`, also the marshmallow validator
  `valid_text`);
- JSON: nested deeper than MAX_JSON_DEPTH, or numbers Python cannot read (a 5,000-digit
  integer), is a 400, not a RecursionError or ValueError;
- numbers: `bounded_decimal` refuses more digits or a larger exponent than any column holds,
  so `1e1000000` is a message, not decimal.Overflow;
- route numbers: the `int` URL converter refuses values beyond a 32-bit integer column (404);
- a last net (`register`): RecursionError, decimal.Overflow and UnicodeEncodeError raised
  while reading a request become a 400 problem rather than a 500.
"""

from __future__ import annotations

import decimal
import json
import re

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from marketplace.errors import DomainError, FieldError, ValidationFailed

NUL = "\x00"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MAX_JSON_DEPTH = 32
# The largest id or version number any integer column holds (PostgreSQL integer).
MAX_ROUTE_INT = 2**31 - 1
# Characters XML 1.0 cannot carry (all C0 controls but tab, LF and CR; U+FFFE, U+FFFF) and
# lone surrogates, which no UTF-8 database can store.
UNCARRIABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The same rule as JSON Schema says it (ECMA-262 and Python read it alike), for the OpenAPI
# document's free-text fields. Surrogates are left out: JSON Schema strings are code points.
_CARRIABLE = "[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ufffe\\uffff]"
TEXT_PATTERN = f"^{_CARRIABLE}*$"
# What str.strip() removes (str.isspace), spelt out so that both regex dialects agree.
_WHITESPACE = (
    "\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029"
    "\\u202f\\u205f\\u3000"
)
# Text that is not blank once trimmed: at least one character neither space nor control.
NON_BLANK_TEXT_PATTERN = (
    f"^{_CARRIABLE}*[^\\u0000-\\u0008\\u000e-\\u001b\\ufffe\\uffff{_WHITESPACE}]{_CARRIABLE}*$"
)


class MalformedRequest(DomainError):
    status = 400
    title = "Bad request"


def text_problem(value: str) -> str | None:
    """How to fix text no database, XML feed or PDF can carry; None when it is fine."""
    found = UNCARRIABLE.search(value)
    if found is None:
        return None
    char = found.group()
    if char == NUL:
        return "Remove the NUL character (\\0) from this value."
    return (
        f"Remove the invisible character U+{ord(char):04X} from this value: it cannot be "
        "stored or published."
    )


def valid_text(value) -> None:
    """A marshmallow validator: the same refusal for every schema's text fields."""
    from marshmallow import ValidationError

    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise ValidationError(problem)


class MalformedJSON(DomainError):
    status = 400
    title = "The JSON could not be read"


def load_json(text: str | bytes, **kwargs):
    """json.loads with a depth limit and a plain 400 for anything it cannot read."""
    try:
        data = json.loads(text, **kwargs)
    except RecursionError:
        data = _too_deep()
    except json.JSONDecodeError as error:
        raise _bad_json(
            f"The JSON could not be read: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except (ValueError, UnicodeError) as error:  # e.g. an integer of 5,000 digits
        raise _bad_json(f"The JSON could not be read: {error}.") from None
    _check_depth(data)
    return data


def _bad_json(message: str) -> MalformedJSON:
    return MalformedJSON(message, errors=[FieldError(message, field="body")])


def _too_deep():
    raise _bad_json(
        f"The JSON is nested too deeply: at most {MAX_JSON_DEPTH} levels of lists and objects."
    )


def _check_depth(data) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                _too_deep()
            inner = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in inner if isinstance(item, dict | list))


def json_text_problems(data) -> list[FieldError]:
    """Every string (key or value) of a loaded JSON document that text_problem refuses."""
    found: list[FieldError] = []
    stack = [("body", data)]
    while stack and len(found) < 20:
        where, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                found.append(FieldError(problem, where))
        elif isinstance(value, dict):
            for key, inner in value.items():
                problem = text_problem(key)
                if problem:
                    found.append(FieldError(problem, where))
                stack.append((f"{where}.{key}" if where != "body" else str(key), inner))
        elif isinstance(value, list):
            stack.extend((f"{where}.{i}", inner) for i, inner in enumerate(value))
    return found


# Any figure has at most this many significant digits and this large an exponent; more is
# hostile or a mistake, and refused before decimal arithmetic can overflow on it.
MAX_DIGITS = 40
MAX_EXPONENT = 30


def bounded_decimal(number: decimal.Decimal) -> str | None:
    """Why a Decimal is not a figure any column holds, or None when it is fine."""
    if not number.is_finite():
        return "must be a finite number"
    _sign, digits, exponent = number.as_tuple()
    if len(digits) > MAX_DIGITS or abs(exponent) > MAX_EXPONENT + MAX_DIGITS:
        return f"has too many digits: write at most {MAX_DIGITS} digits, without an exponent"
    if number.adjusted() > MAX_EXPONENT:
        return "is far too large to be a figure"
    return None


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` that no longer matches a number beyond the integer columns: a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROUTE_INT)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str):
        if len(value) > 12:  # int() of thousands of digits is slow and then refused
            from werkzeug.routing import ValidationError

            raise ValidationError()
        return super().to_python(value)


class HostileInput(DomainError):
    status = 400
    title = "Bad request"


def register(app: Flask) -> None:
    """Register first, so that this runs before the CSRF check reads the form."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(ignore_multiple_ranges)
    app.before_request(refuse_unstorable_text)

    # The last net: what a parser raises on hostile input is answered like a DomainError
    # (through errors.py's handler, so pages and problem+json look the same).
    @app.errorhandler(RecursionError)
    def _too_deep_error(_error):
        return app.handle_user_exception(
            HostileInput("The request is nested too deeply to be read.")
        )

    @app.errorhandler(decimal.Overflow)
    @app.errorhandler(decimal.InvalidOperation)
    def _number_error(_error):
        return app.handle_user_exception(
            ValidationFailed(
                "A number in the request is too large or has too many digits.",
                errors=[FieldError("Write each number with at most 40 digits, no exponent.")],
            )
        )

    @app.errorhandler(UnicodeEncodeError)
    def _unicode_error(_error):
        return app.handle_user_exception(
            ValidationFailed(
                "The request contains text that is not valid Unicode (a lone surrogate).",
                errors=[FieldError("Send text as valid UTF-8.")],
            )
        )


def ignore_multiple_ranges() -> None:
    """A Range header asking for several ranges is ignored (RFC 9110 allows a server to),
    so the whole file comes back 200 rather than a 416 for a request nothing was wrong with."""
    if "," in request.environ.get("HTTP_RANGE", ""):
        del request.environ["HTTP_RANGE"]


def refuse_unstorable_text() -> None:
    bad: dict[str, str] = {}

    def check(key: str, value: str) -> None:
        problem = text_problem(key) or text_problem(value)
        if problem:
            bad.setdefault(UNCARRIABLE.sub(_shown, key), problem)

    for key, value in request.args.items(multi=True):
        check(key, value)
    if request.mimetype in FORM_TYPES:
        if None in request.form or None in request.files:
            raise MalformedRequest(
                "A part of the form has no name the server can read.",
                errors=[FieldError("Send each form field with a plain name.")],
            )
        for key, value in request.form.items(multi=True):
            check(key, value)
    elif request.is_json:
        body = request.get_data(cache=True)
        # A NUL byte is not valid JSON; an escaped one decodes to a NUL character.
        if b"\x00" in body:
            bad["body"] = text_problem(NUL)
        elif body.strip():
            for error in json_text_problems(load_json(body)):
                bad.setdefault(error.field or "body", error.message)
    if bad:
        only_nul = all("NUL" in message for message in bad.values())
        raise ValidationFailed(
            "Text cannot contain the NUL character (\\0)."
            if only_nul
            else "Some text contains characters that cannot be stored or published.",
            errors=[FieldError(message, field) for field, message in bad.items()],
        )


def _shown(match: re.Match) -> str:
    return "\\0" if match.group() == NUL else f"\\u{ord(match.group()):04x}"
