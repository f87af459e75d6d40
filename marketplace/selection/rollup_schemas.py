"""What the roll-up API takes and gives (GET /api/v1/organisations/<slug>/rollup)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from marketplace.contracts.models import RATINGS
from marketplace.contracts.schemas import RATING_DESCRIPTION, PartySchema
from marketplace.selection.schemas import PERIOD_PATTERN


class RollupArgsSchema(Schema):
    period = fields.String(
        validate=validate.Regexp(PERIOD_PATTERN, error="Give the quarter as YYYY-Qn."),
        metadata={
            "description": "A published quarter, YYYY-Qn; the newest published when left out.",
            "pattern": PERIOD_PATTERN,
        },
    )


class OrganisationRefSchema(PartySchema):
    kind = fields.String(validate=validate.OneOf(("department", "alb")))


class RollupPeriodSchema(Schema):
    code = fields.String(metadata={"description": "YYYY-Qn."})
    label = fields.String()


class RollupContractSchema(Schema):
    id = fields.String(metadata={"description": "The contract's public id."})
    title = fields.String()
    organisation = fields.Nested(PartySchema, metadata={"description": "The buyer."})
    centre = fields.Nested(PartySchema)
    value = fields.Decimal(as_string=True, metadata={"description": "In pounds."})
    starts_on = fields.Date()
    ends_on = fields.Date()


class UnitCostRowSchema(Schema):
    contract = fields.String(metadata={"description": "The contract's public id."})
    title = fields.String()
    centre = fields.Nested(PartySchema)
    organisation = fields.Nested(PartySchema)
    volume = fields.Integer(metadata={"description": "The contract's annual volume of the line."})
    unit_cost = fields.Decimal(
        as_string=True,
        allow_none=True,
        metadata={"description": "The centre's published figure; null when none (not counted)."},
    )
    annual_cost = fields.Decimal(
        as_string=True,
        allow_none=True,
        metadata={"description": "volume ÷ per × unit cost, £ rounded half up to 2 dp."},
    )


class UnitCostSchema(Schema):
    service_line = fields.String()
    service_line_name = fields.String()
    metric = fields.String(allow_none=True, metadata={"description": "The unit-cost metric."})
    metric_name = fields.String(allow_none=True)
    decimals = fields.Integer()
    driver = fields.String(allow_none=True, metadata={"description": "The cost driver's code."})
    driver_label = fields.String(allow_none=True)
    volume = fields.Integer(metadata={"description": "Σ annual volume of every contract."})
    weighted_volume = fields.Integer(
        metadata={"description": "Σ annual volume of the contracts with a unit cost."}
    )
    average = fields.Decimal(
        as_string=True,
        allow_none=True,
        metadata={
            "description": "Σ volume × unit cost ÷ Σ volume, £ rounded half up to 2 dp; "
            "null when no contract has a published unit cost."
        },
    )
    contracts = fields.Integer(metadata={"description": "Contracts counted in the average."})
    note = fields.String(allow_none=True, metadata={"description": "Why a figure is missing."})
    behind = fields.List(fields.Nested(UnitCostRowSchema))


class RatingShareSchema(Schema):
    rating = fields.String(validate=validate.OneOf(RATINGS))
    label = fields.String()
    count = fields.Integer(metadata={"description": "Contracts whose rating stands at this."})
    volume = fields.Integer(metadata={"description": "Their annual volume of the KPI's line."})
    share = fields.Decimal(
        as_string=True,
        allow_none=True,
        metadata={"description": "% of the weighted volume, 1 dp; null when no volume."},
    )


class KpiRowSchema(Schema):
    contract = fields.String()
    title = fields.String()
    centre = fields.Nested(PartySchema)
    organisation = fields.Nested(PartySchema)
    volume = fields.Integer(
        allow_none=True, metadata={"description": "Annual volume of the KPI's line, or null."}
    )
    target = fields.Decimal(as_string=True)
    figure = fields.Decimal(as_string=True, allow_none=True)
    computed = fields.String(allow_none=True, validate=validate.OneOf(RATINGS))
    rating = fields.String(
        allow_none=True,
        validate=validate.OneOf(RATINGS),
        metadata={"description": f"The rating that stands: {RATING_DESCRIPTION}; null unrated."},
    )
    rating_label = fields.String()
    overridden = fields.Boolean()


class KpiRollupSchema(Schema):
    metric = fields.String()
    metric_name = fields.String()
    service_line = fields.String(allow_none=True)
    rated = fields.Integer()
    unrated = fields.Integer(metadata={"description": "KPIs with no rating for the quarter."})
    weighted_volume = fields.Integer()
    ratings = fields.List(fields.Nested(RatingShareSchema))
    behind = fields.List(fields.Nested(KpiRowSchema))


class RollupSchema(Schema):
    organisation = fields.Nested(OrganisationRefSchema)
    covers = fields.List(
        fields.Nested(OrganisationRefSchema),
        metadata={"description": "The organisation and, for a department, its ALBs."},
    )
    period = fields.Nested(
        RollupPeriodSchema, allow_none=True, metadata={"description": "null: none published."}
    )
    contracts = fields.List(fields.Nested(RollupContractSchema))
    unit_costs = fields.List(fields.Nested(UnitCostSchema))
    kpis = fields.List(fields.Nested(KpiRollupSchema))
