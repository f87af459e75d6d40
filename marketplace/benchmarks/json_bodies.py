"""Reading a JSON body of observations (the API's other way to send figures) into raw rows.

Numbers are kept as the text they were written in, so they are judged exactly like a CSV
cell; the shape is checked by SubmissionBodySchema and its errors are numbered by row.
"""

from __future__ import annotations

from marketplace import input_guard
from marketplace.benchmarks.parsing import ParsedFile, RawRow, decode_text, refuse
from marketplace.errors import FieldError, ValidationFailed


def parse_json(content: bytes) -> ParsedFile:
    from marshmallow import ValidationError

    from marketplace.benchmarks.ingest_schemas import SubmissionBodySchema

    text = decode_text(content)
    try:
        # Depth-limited; numbers stay text (judged by validation.py, digits bounded there).
        data = input_guard.load_json(text, parse_float=str, parse_int=str)
    except input_guard.MalformedJSON as error:
        raise refuse(error.detail) from None
    try:
        body = SubmissionBodySchema().load(data if isinstance(data, dict) else {"_": data})
    except ValidationError as error:
        raise ValidationFailed(
            "The JSON body is not in the expected shape.",
            errors=json_shape_errors(error.messages),
        ) from None
    rows = (
        RawRow(
            row=index,
            metric=item.get("metric"),
            period=item.get("period"),
            value=item.get("value"),
            numerator=item.get("numerator"),
            denominator=item.get("denominator"),
            comment=item.get("comment"),
        )
        for index, item in enumerate(body["observations"], start=1)
    )
    return ParsedFile("json", rows, [], reason=body.get("reason"))


def json_shape_errors(messages: dict) -> list[FieldError]:
    """marshmallow's {observations: {0: {value: [..]}}} as row-numbered field errors."""
    out: list[FieldError] = []
    for key, inner in messages.items():
        if key == "observations" and isinstance(inner, dict):
            for index, fields in sorted(inner.items(), key=lambda kv: str(kv[0])):
                row = int(index) + 1 if str(index).isdigit() else None
                if isinstance(fields, dict):
                    for name, msgs in fields.items():
                        for msg in msgs if isinstance(msgs, list) else [msgs]:
                            out.append(FieldError(str(msg), field=str(name), row=row))
                else:
                    for msg in fields if isinstance(fields, list) else [fields]:
                        out.append(FieldError(str(msg), field="observations", row=row))
        else:
            for msg in inner if isinstance(inner, list) else [inner]:
                out.append(FieldError(str(msg), field=None if key == "_" else str(key)))
    return out
