"""marshmallow schemas for benchmark submissions: the JSON body in, and what the API returns.

Cells are loaded as raw values on purpose: the plain-English checks for numbers, periods and
metric codes live in validation.py and are shared by CSV, Excel and JSON, so the same mistake
gets the same message whatever the format.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

#: The one bound on a submission's reason, whichever door it comes through.
REASON_MAX_LENGTH = 2000
REASON_TOO_LONG = f"Keep the reason to {REASON_MAX_LENGTH:,} characters or fewer."


def _reason_length() -> validate.Length:
    return validate.Length(max=REASON_MAX_LENGTH, error=REASON_TOO_LONG)


class ObservationInSchema(Schema):
    """One row of a JSON submission (the same columns as the long CSV layout)."""

    class Meta:
        unknown = RAISE

    metric = fields.Raw(
        required=True,
        metadata={"description": "Metric code, e.g. ap_cost_per_invoice", "type": "string"},
        error_messages={"required": "Give the metric code, for example ap_cost_per_invoice."},
    )
    period = fields.Raw(
        required=True,
        metadata={"description": "Reporting period, YYYY-Qn", "type": "string"},
        error_messages={"required": "Give the period, written like 2026-Q1."},
    )
    value = fields.Raw(
        load_default=None,
        allow_none=True,
        metadata={"description": "The figure, as a number", "type": "number"},
    )
    numerator = fields.Raw(load_default=None, allow_none=True, metadata={"type": "number"})
    denominator = fields.Raw(load_default=None, allow_none=True, metadata={"type": "number"})
    comment = fields.Raw(load_default=None, allow_none=True, metadata={"type": "string"})


class SubmissionBodySchema(Schema):
    class Meta:
        unknown = RAISE

    observations = fields.List(
        fields.Nested(ObservationInSchema),
        required=True,
        validate=validate.Length(min=1, error="Send at least one observation."),
        error_messages={"required": "Send a list named 'observations'."},
    )
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=_reason_length(),
        metadata={"description": "Why values of a closed or published period are restated"},
    )


class SubmissionArgsSchema(Schema):
    """Query arguments of POST /centres/<slug>/submissions (the body is the file itself)."""

    reason = fields.String(
        load_default="",
        validate=_reason_length(),
        metadata={"description": "Required when the file restates a closed or published period"},
    )
    filename = fields.String(
        load_default="", validate=validate.Length(max=255), metadata={"description": "Kept"}
    )


class UploadReasonSchema(Schema):
    """The reason that travels with a file: the web form, the CLI and submit() load it here."""

    class Meta:
        unknown = EXCLUDE

    reason = fields.String(load_default="", allow_none=True, validate=_reason_length())


class ChangeSchema(Schema):
    metric = fields.String()
    period = fields.String()
    old = fields.String(allow_none=True, metadata={"description": "Previous value, if any"})
    new = fields.String()
    restated = fields.Boolean(metadata={"description": "A closed or published value changed"})


class FlagSchema(Schema):
    metric = fields.String()
    period = fields.String()
    value = fields.String()
    score = fields.Float(metadata={"description": "Robust z-score on the log scale"})


class SubmissionOutSchema(Schema):
    """A SubmissionOutcome: the submission, whether it was new, what it changed and flagged."""

    id = fields.String(attribute="submission.public_id")
    centre = fields.String(attribute="submission.centre.slug")
    status = fields.String(attribute="submission.status")
    channel = fields.String(attribute="submission.channel")
    filename = fields.String(attribute="submission.filename")
    file_format = fields.String(attribute="submission.file_format")
    sha256 = fields.String(attribute="submission.sha256")
    size_bytes = fields.Integer(attribute="submission.size_bytes")
    rows = fields.Integer(attribute="submission.row_count")
    reason = fields.String(attribute="submission.reason")
    submitted_by = fields.String(attribute="submission.actor_label")
    created_at = fields.DateTime(attribute="submission.created_at")
    created = fields.Boolean(
        metadata={"description": "false: this identical file was already accepted; no change"}
    )
    counts = fields.Function(
        lambda o: {
            key: o.submission.summary.get(key, 0)
            for key in ("created", "updated", "unchanged", "restated")
        },
        metadata={"description": "Figures new, changed, unchanged and restated"},
    )
    changes = fields.List(fields.Nested(ChangeSchema))
    flags = fields.List(fields.Nested(FlagSchema))


DECIMAL_STRING = {"type": "string", "format": "decimal", "example": "4.120000"}


class ObservationOutSchema(Schema):
    metric = fields.Function(lambda o: o.metric.code)
    metric_version = fields.Function(lambda o: o.metric.version)
    period = fields.Function(lambda o: o.period.code)
    # Exact decimals travel as strings ("4.120000"); the document must say so, or clients
    # generated from it expect numbers.
    value = fields.Decimal(as_string=True, metadata=DECIMAL_STRING)
    numerator = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    denominator = fields.Decimal(as_string=True, allow_none=True, metadata=DECIMAL_STRING)
    comment = fields.String()
    revision = fields.Integer()
    restated = fields.Boolean()
    flag_status = fields.String()
    flag_score = fields.Float(allow_none=True)
    percentile = fields.Float(allow_none=True)
    band = fields.Integer(allow_none=True)
    submission = fields.Function(lambda o: o.submission.public_id)
    updated_at = fields.DateTime()


class ObservationQuerySchema(Schema):
    period = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{4}-Q[1-4]$", error="Write the period like 2026-Q1."),
    )
