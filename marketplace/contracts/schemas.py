"""What goes in and out of contracts: the KPIs of an award, a rating override, and the API.

The KPI rows are part of the award's form (selection's OutcomeSchema nests KpiInputSchema);
the web form's rows are numbered from 1, and a nested error `kpis.<i>.<field>` belongs to
the form field `kpi_<field>_<i+1>` (form_field).
"""

from __future__ import annotations

import re
from decimal import Decimal

from marshmallow import Schema, fields, validate

from marketplace.contracts.models import MAX_KPIS, RATING_LABELS, RATINGS

KPI_FORM_ROWS = 5
_NESTED = re.compile(r"^kpis\.(\d+)\.(metric|target)$")


class KpiInputSchema(Schema):
    row = fields.Integer(validate=validate.Range(min=1, max=MAX_KPIS))
    metric = fields.String(
        load_default="",
        validate=validate.Length(max=60, error="Choose a metric of the library."),
    )
    target = fields.Decimal(
        load_default=None,
        allow_none=True,
        validate=validate.Range(
            min=Decimal("-1000000000"), max=Decimal("1000000000"), error="Give a sensible target."
        ),
        error_messages={"invalid": "Give the target as a number, like 95 or 4.50."},
    )


def form_field(field: str | None) -> str | None:
    """The outcome form's field for a nested KPI error ('kpis.2.target' -> 'kpi_target_3')."""
    match = _NESTED.match(field or "")
    if match is None:
        return field
    return f"kpi_{match.group(2)}_{int(match.group(1)) + 1}"


def kpi_rows_from_form(form) -> list[dict]:
    """The KPI rows of the outcome form, numbered, blanks left out of each row."""
    rows = []
    for row in range(1, KPI_FORM_ROWS + 1):
        item: dict = {"row": row}
        metric = (form.get(f"kpi_metric_{row}") or "").strip()
        target = (form.get(f"kpi_target_{row}") or "").strip().replace(",", "")
        if metric:
            item["metric"] = metric
        if target:
            item["target"] = target
        rows.append(item)
    return rows


class OverrideSchema(Schema):
    rating = fields.String(
        required=True, validate=validate.OneOf(RATINGS, error="Choose the rating.")
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(
            min=1, max=5000, error="Give the reason for the rating (up to 5,000 characters)."
        ),
    )


OVERRIDE_MESSAGES = {
    "rating": "Choose the rating.",
    "reason": "Give the reason for the rating.",
}


# --- API -------------------------------------------------------------------------------------

RATING_DESCRIPTION = "; ".join(f"`{code}` ({label})" for code, label in RATING_LABELS.items())


class PartySchema(Schema):
    slug = fields.String()
    name = fields.String()


class KpiRatingSchema(Schema):
    period = fields.String(metadata={"description": "The published quarter, YYYY-Qn."})
    figure = fields.Decimal(
        as_string=True,
        allow_none=True,
        metadata={"description": "The centre's figure; null when it published none."},
    )
    computed = fields.String(
        allow_none=True,
        validate=validate.OneOf(RATINGS),
        metadata={
            "description": f"The rating as computed: {RATING_DESCRIPTION}; null when no figure."
        },
    )
    rating = fields.String(
        allow_none=True,
        validate=validate.OneOf(RATINGS),
        metadata={"description": "The rating that stands: the buyer's override, else computed."},
    )
    reason = fields.String(
        allow_none=True, metadata={"description": "The buyer's reason for an override, or null."}
    )


class KpiSchema(Schema):
    metric = fields.String(metadata={"description": "The library metric's code."})
    metric_name = fields.String()
    direction = fields.String(validate=validate.OneOf(("higher", "lower")))
    target = fields.Decimal(as_string=True)
    baseline = fields.Decimal(
        as_string=True,
        allow_none=True,
        metadata={"description": "The centre's latest published figure at award, or null."},
    )
    baseline_period = fields.String(allow_none=True)
    baseline_note = fields.String(
        allow_none=True, metadata={"description": "Why there is no baseline, when there is none."}
    )
    ratings = fields.List(
        fields.Nested(KpiRatingSchema),
        metadata={"description": "Each published quarter of the contract's term, oldest first."},
    )


class ContractSummarySchema(Schema):
    id = fields.String(metadata={"description": "The contract's public id."})
    title = fields.String()
    buyer = fields.Nested(PartySchema, metadata={"description": "The buying organisation."})
    centre = fields.Nested(PartySchema)
    value = fields.Decimal(as_string=True, metadata={"description": "In pounds."})
    starts_on = fields.Date()
    ends_on = fields.Date()
    annual_volumes = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Annual volume per service line code."},
    )
    awarded_at = fields.DateTime()


class ContractSchema(ContractSummarySchema):
    kpis = fields.List(fields.Nested(KpiSchema))
