"""What a decision on pending restatements takes in, and how a restatement is handed out.

The same schemas on every door — the admin page's form, the API's JSON body and the CLI's
arguments — so each accepts the same identifiers and the same reason, with the same bounds.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from marketplace.benchmarks.restatements import REASON_MAX_LENGTH, STATUSES
from marketplace.errors import FieldError, ValidationFailed

MAX_CHOSEN = 500  # restatements decided at once; a page of pending ones is far fewer
PUBLIC_ID_MAX_LENGTH = 32


# Characters input_guard refuses in any text (NUL, the C0 controls XML 1.0 cannot carry,
# U+FFFE, U+FFFF), then: at least one character that is not white space.
_UNSTORABLE = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ufffe\\uffff"
NOT_BLANK_TEXT = f"^[^{_UNSTORABLE}]*[^\\s{_UNSTORABLE}][^{_UNSTORABLE}]*$"
REFUSAL_NEEDS_A_REASON = "Give the reason the centre will see."
REASON_TOO_LONG = f"The reason must be {REASON_MAX_LENGTH:,} characters or fewer."


def _chosen() -> fields.List:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=PUBLIC_ID_MAX_LENGTH)),
        required=True,
        validate=[
            validate.Length(min=1, error="Choose at least one restatement."),
            validate.Length(
                max=MAX_CHOSEN, error=f"Choose at most {MAX_CHOSEN} restatements at once."
            ),
        ],
        error_messages={"required": "Choose at least one restatement."},
        metadata={"description": "The ids of the pending restatements decided together."},
    )


class RestatementApprovalSchema(Schema):
    """Approve the chosen pending restatements, with an optional note."""

    restatements = _chosen()
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=REASON_MAX_LENGTH, error=REASON_TOO_LONG),
        metadata={"description": "An optional note kept with the approval."},
    )


class RestatementRefusalSchema(Schema):
    """Refuse the chosen pending restatements: the reason, which the centre sees, is required."""

    restatements = _chosen()
    reason = fields.String(
        required=True,
        validate=[
            validate.Length(max=REASON_MAX_LENGTH, error=REASON_TOO_LONG),
            # Something other than spaces, in text the server can store (the pattern goes
            # into the API's document instead of the general text pattern).
            validate.Regexp(NOT_BLANK_TEXT, error=REFUSAL_NEEDS_A_REASON),
        ],
        error_messages={"required": REFUSAL_NEEDS_A_REASON, "null": REFUSAL_NEEDS_A_REASON},
        metadata={"description": "Why: the centre sees this reason."},
    )


# The schema of each decision, the same for the admin page, the API and the CLI.
DECISION_SCHEMAS = {"approve": RestatementApprovalSchema, "refuse": RestatementRefusalSchema}


def decision_schema(decision: str) -> Schema:
    """The schema for 'approve' or 'refuse'; ValidationFailed for anything else."""
    if decision not in DECISION_SCHEMAS:
        message = "Choose whether to approve or refuse."
        raise ValidationFailed(message, errors=[FieldError(message, "decision")])
    return DECISION_SCHEMAS[decision]()


class RestatementListArgsSchema(Schema):
    status = fields.String(
        load_default="pending",
        validate=validate.OneOf(STATUSES, error="Choose one of: {choices}."),
        metadata={"description": "pending (the default), approved, refused or superseded."},
    )


def _plain(value) -> str:
    return "" if value is None else format(value.normalize(), "f")


class RestatementSchema(Schema):
    """A restatement as the API hands it out: identifiers are slugs and codes."""

    id = fields.String(attribute="public_id")
    status = fields.String(metadata={"enum": list(STATUSES)})
    centre = fields.Function(lambda r: r.observation.centre.slug)
    centre_name = fields.Function(lambda r: r.observation.centre.name)
    metric = fields.Function(lambda r: r.observation.metric.code)
    metric_name = fields.Function(lambda r: r.observation.metric.name)
    period = fields.Function(lambda r: r.observation.period.code)
    published_value = fields.Function(
        lambda r: _plain(r.observation.value),
        metadata={"description": "The figure as published (the current one once approved)."},
    )
    restated_value = fields.Function(lambda r: _plain(r.value))
    reason = fields.String(metadata={"description": "The centre's reason for the restatement."})
    sent_at = fields.DateTime(attribute="created_at")
    sent_by = fields.String(attribute="actor_label")
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(
        metadata={"description": "The refusal's reason, or the approval's note."}
    )
