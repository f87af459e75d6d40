"""What the metric library, reporting periods and service lines look like from outside.

Dump-only schemas shared by the JSON API, open-data exports and anything else that hands
these records to another system. Identifiers are codes, never database ids. Decimal columns
are written as JSON numbers: the library's bounds and targets have at most six decimals, well
inside what a double holds exactly enough to round-trip.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from marketplace.benchmarks.models import DIRECTIONS, METRIC_STATUSES, PERIOD_STATUSES, UNITS
from marketplace.catalogue.centre_schemas import ServiceLineSchema


def _number(description: str) -> fields.Float:
    return fields.Float(allow_none=True, metadata={"description": description})


class ServiceLineDetailSchema(ServiceLineSchema):
    """A service line as the list of service lines shows it (centres nest only code and name)."""

    description = fields.String(metadata={"description": "What the service line covers."})


class MetricVersionSchema(Schema):
    """One version of a metric's definition; a changed definition is a new version."""

    version = fields.Integer(metadata={"description": "1 for the first definition."})
    is_current = fields.Boolean(
        metadata={"description": "True for the definition new data is measured against."}
    )
    name = fields.String()
    definition = fields.String(metadata={"description": "How the value is worked out."})
    numerator_label = fields.String()
    denominator_label = fields.String()
    unit = fields.String(metadata={"enum": list(UNITS)})
    unit_label = fields.String(metadata={"description": "The unit as people write it, e.g. £."})
    direction = fields.String(
        metadata={"enum": list(DIRECTIONS), "description": "Which way is better."}
    )
    valid_min = _number("Smallest value accepted in an upload, if any.")
    valid_max = _number("Largest value accepted in an upload, if any.")
    decimals = fields.Integer(metadata={"description": "Decimal places values are shown with."})
    scale = fields.Float(
        metadata={"description": "value = numerator ÷ denominator × scale (100 for %)."}
    )
    is_share = fields.Boolean(
        metadata={"description": "The numerator counts part of the denominator."}
    )
    target = _number("The policy target, where there is one.")
    status = fields.String(metadata={"enum": list(METRIC_STATUSES)})
    created_at = fields.DateTime(metadata={"description": "When this version was defined."})


class MetricSchema(MetricVersionSchema):
    """A metric as it is defined today (its current version)."""

    code = fields.String(metadata={"description": "Stable identifier, e.g. `ap_cost_per_invoice`."})
    service_line = fields.String(
        attribute="service_line.code",
        metadata={"description": "Code of the service line the metric measures."},
    )
    reference = fields.String(metadata={"description": "Published reference values and sources."})


class MetricDetailSchema(MetricSchema):
    """A metric's current definition with every version it has had, oldest first."""

    versions = fields.List(fields.Nested(MetricVersionSchema))


class PeriodSchema(Schema):
    code = fields.String(metadata={"description": "The quarter, written YYYY-Qn."})
    label = fields.String(metadata={"description": "The quarter as people write it, e.g. Q1 2026."})
    year = fields.Integer()
    quarter = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date()
    status = fields.String(
        metadata={
            "enum": list(PERIOD_STATUSES),
            "description": "open: accepting data; closed: restatements only; published.",
        }
    )
    closed_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
