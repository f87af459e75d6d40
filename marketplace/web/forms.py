"""Loading what a person or a client sent through a marshmallow schema, and showing what was
wrong with it.

One error type leaves here: ValidationFailed with one FieldError per problem, in the order
the schema declares its fields (which is the order a form shows them), so a page can list
every problem at once and the API can return them as `errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from marshmallow import Schema, ValidationError

from marketplace.errors import FieldError, ValidationFailed

DEFAULT_DETAIL = "Some of the values are not valid."


def field_errors(messages, prefix: str | None = None) -> list[FieldError]:
    """marshmallow's nested {field: [message]} as a flat list of FieldErrors ('sites.0.name')."""
    out: list[FieldError] = []
    if isinstance(messages, dict):
        for key, inner in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            out.extend(field_errors(inner, name))
    elif isinstance(messages, list):
        for item in messages:
            out.extend(field_errors(item, prefix))
    else:
        out.append(FieldError(str(messages), field=prefix))
    return out


def in_field_order(errors: list[FieldError], schema: Schema) -> list[FieldError]:
    """The errors sorted by the schema's field order (stable; unknown fields last)."""
    order = {name: index for index, name in enumerate(schema.fields)}

    def position(error: FieldError) -> int:
        top = (error.field or "").split(".", 1)[0]
        return order.get(top, len(order))

    return sorted(errors, key=position)


def load(
    schema: Schema,
    data,
    detail: str = DEFAULT_DETAIL,
    *,
    messages: Mapping[str, str] | None = None,
):
    """Load `data` with `schema`, or raise ValidationFailed listing every problem.

    `messages` replaces marshmallow's generic "Missing data…"/"Field may not be null."
    wording for a field with a sentence that says what to do.
    """
    try:
        return schema.load(data)
    except ValidationError as error:
        errors = in_field_order(field_errors(error.messages), schema)
        if messages:
            errors = [_plain(e, messages) for e in errors]
        failed = ValidationFailed(detail, errors=errors)
        # What did load, so that a form can run its service's checks on it too and report
        # every problem at once (selection's outcome form).
        failed.valid_data = error.valid_data if isinstance(error.valid_data, dict) else {}
        raise failed from None


def _plain(error: FieldError, messages: Mapping[str, str]) -> FieldError:
    generic = error.message.startswith(("Missing data", "Field may not"))
    if generic and error.field in messages:
        return FieldError(messages[error.field], error.field)
    return error


def error_summary(
    errors: Iterable[FieldError],
    *,
    anchors: Mapping[str, str] | None = None,
    default: str = "#main-content",
    detail: str | None = None,
) -> list[dict]:
    """The items of a GOV.UK error summary: each message linked to the control that holds
    the value (`anchors` maps a field to its control's '#id'; otherwise '#<field>'); a
    problem that belongs to no field links to `default`. With no field errors, `detail`
    (when given) is the one item."""
    anchors = anchors or {}
    items = [
        {"text": error.message, "href": _anchor(error.field, anchors, default)} for error in errors
    ]
    if not items and detail:
        items.append({"text": detail, "href": default})
    return items


def _anchor(field: str | None, anchors: Mapping[str, str], default: str) -> str:
    if not field:
        return default
    return anchors.get(field) or f"#{field}"


def by_field(errors: Iterable[FieldError], default: str = "form") -> dict[str, str]:
    """The first message of each field (problems of no field under `default`), for the
    error message beside each control."""
    out: dict[str, str] = {}
    for error in errors:
        out.setdefault(error.field or default, error.message)
    return out
