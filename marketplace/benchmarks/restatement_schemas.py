"""What a decision on pending restatements takes in, and how a restatement is handed out.

One schema for every door — the admin page's form, the API's JSON body and the CLI's
arguments — so each accepts the same identifiers and the same reason, with the same bounds.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from marketplace.benchmarks.restatements import DECISIONS, REASON_MAX_LENGTH, STATUSES

MAX_CHOSEN = 500  # restatements decided at once; a page of pending ones is far fewer
PUBLIC_ID_MAX_LENGTH = 32


class RestatementDecisionSchema(Schema):
    """Approve or refuse the chosen pending restatements; a refusal needs its reason."""

    decision = fields.String(
        required=True,
        validate=validate.OneOf(DECISIONS, error="Choose whether to approve or refuse."),
        metadata={"description": "approve or refuse."},
    )
    restatements = fields.List(
        fields.String(validate=validate.Length(min=1, max=PUBLIC_ID_MAX_LENGTH)),
        required=True,
        validate=[
            validate.Length(min=1, error="Choose at least one restatement."),
            validate.Length(
                max=MAX_CHOSEN, error=f"Choose at most {MAX_CHOSEN} restatements at once."
            ),
        ],
        metadata={"description": "The ids of the pending restatements decided together."},
    )
    reason = fields.String(
        load_default="",
        validate=validate.Length(
            max=REASON_MAX_LENGTH,
            error=f"The reason must be {REASON_MAX_LENGTH:,} characters or fewer.",
        ),
        metadata={
            "description": "Required to refuse: the centre sees it. Optional when approving: "
            "a note kept with the approval."
        },
    )

    @validates_schema
    def _refusal_has_a_reason(self, data, **_kwargs):
        if data.get("decision") == "refuse" and not (data.get("reason") or "").strip():
            raise ValidationError("Give the reason the centre will see.", "reason")


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
