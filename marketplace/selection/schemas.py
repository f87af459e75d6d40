"""What goes in and out of comparisons and evaluations: forms, query arguments and the API.

Form schemas turn posted fields into the plain data the services take; errors come back as
FieldErrors keyed by the form field, so pages can show an error summary that links to them.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, fields, validate

from marketplace.benchmarks.models import DIRECTIONS, PERIOD_STATUSES, UNITS
from marketplace.catalogue.models import SERVICE_LINE_CODES
from marketplace.contracts.schemas import KpiInputSchema
from marketplace.errors import FieldError, ValidationFailed
from marketplace.selection.models import OUTCOME_KINDS
from marketplace.web import forms

# --- forms -----------------------------------------------------------------------------------


class EvaluationDetailsSchema(Schema):
    # Blank titles and periods are reported by the service, together with its own checks.
    title = fields.String(
        load_default="",
        validate=validate.Length(max=200, error="Keep the title under 200 characters."),
    )
    needs = fields.String(
        load_default="",
        validate=validate.Length(max=5000, error="Keep the needs under 5,000 characters."),
    )
    period = fields.String(load_default="")
    service_lines = fields.List(fields.String(), load_default=list)
    centres = fields.List(fields.String(), load_default=list)


class OutcomeSchema(Schema):
    kind = fields.String(
        required=True, validate=validate.OneOf(OUTCOME_KINDS, error="Choose the outcome.")
    )
    centre = fields.String(load_default=None, allow_none=True)
    rationale = fields.String(
        required=True,
        validate=validate.Length(
            min=1, max=10000, error="Give the rationale (up to 10,000 characters)."
        ),
    )
    # The contract basics of an award (the service requires them for an award only).
    contract_value = fields.Decimal(
        load_default=None,
        places=2,
        validate=validate.Range(min=0, max=Decimal("999999999999"), error="Give the value in £."),
        error_messages={"invalid": "Give the contract value in pounds, like 1250000."},
    )
    contract_starts_on = fields.Date(
        load_default=None, error_messages={"invalid": "Give the start date as YYYY-MM-DD."}
    )
    contract_ends_on = fields.Date(
        load_default=None, error_messages={"invalid": "Give the end date as YYYY-MM-DD."}
    )
    annual_volumes = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(
            validate=validate.Range(min=0, max=10**12),
            error_messages={"invalid": "Give each annual volume as a whole number."},
        ),
        load_default=dict,
    )
    # The contract's KPIs (at least three for an award; the contracts service checks them).
    kpis = fields.List(
        fields.Nested(KpiInputSchema), load_default=list, validate=validate.Length(max=20)
    )


MESSAGES = {
    "title": "Give the evaluation a title.",
    "period": "Choose the period whose figures you will evaluate.",
    "kind": "Choose the outcome.",
    "rationale": "Give the rationale for the outcome.",
}


def load_form(schema: Schema, data: dict, detail: str) -> dict:
    """Load with a schema, or raise ValidationFailed with one FieldError per field."""
    # A blank field is an unanswered one: the schema's defaults and required checks apply.
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    cleaned = {k: v for k, v in cleaned.items() if v not in ("", None)}
    return forms.load(schema, cleaned, detail, messages=MESSAGES)


def _decimal(raw: str) -> Decimal | None:
    try:
        number = Decimal(raw.strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def weights_from_form(form) -> tuple[dict, dict, str]:
    """weight:<code> -> weights; score:<code>:<slug> -> scores (blank = no score yet)."""
    weights: dict[str, Decimal] = {}
    scores: dict[str, dict[str, Decimal | None]] = {}
    problems: list[FieldError] = []
    for key in form:
        raw = (form.get(key) or "").strip()
        if key.startswith("weight:"):
            code = key.split(":", 1)[1]
            number = _decimal(raw) if raw else Decimal(0)
            if number is None:
                problems.append(FieldError("Enter the weight as a number, like 2 or 0.5.", key))
            else:
                weights[code] = number
        elif key.startswith("score:") and key.count(":") == 2:
            _prefix, code, slug = key.split(":")
            number = _decimal(raw) if raw else None
            if raw and number is None:
                problems.append(FieldError("Enter the score as a number from 0 to 100.", key))
            else:
                scores.setdefault(code, {})[slug] = number
    if problems:
        raise ValidationFailed("The weights and scores could not be saved.", errors=problems)
    return weights, scores, (form.get("new_criterion") or "").strip()


# --- API -------------------------------------------------------------------------------------


# The periods the database holds (its CHECK: years 2000 to 2200).
PERIOD_PATTERN = r"^(?:2[01]\d\d|2200)-Q[1-4]$"
_LINES = "|".join(SERVICE_LINE_CODES)


class BenchmarkArgsSchema(Schema):
    period = fields.String(
        metadata={
            "description": "The quarter, YYYY-Qn; the newest visible one when left out.",
            "pattern": PERIOD_PATTERN,
        }
    )


class CompareArgsSchema(Schema):
    centres = fields.String(
        required=True,
        metadata={
            "description": "2 to 6 centre slugs, comma-separated.",
            "pattern": r"^[a-z0-9-]+(?:,[a-z0-9-]+){1,5}$",
        },
    )
    period = fields.String(
        metadata={
            "description": "The quarter, YYYY-Qn; the newest visible one when left out.",
            "pattern": PERIOD_PATTERN,
        }
    )
    weights = fields.String(
        metadata={
            "pattern": r"^[a-z0-9_]+:\d+(?:\.\d+)?(?:,[a-z0-9_]+:\d+(?:\.\d+)?)*$",
            "description": "Weights per metric, `code:weight,code:weight` (numbers ≥ 0). "
            "Metrics left out get weight 0. Without it every metric weighs 1.",
        }
    )
    service_lines = fields.String(
        metadata={
            "description": "Only the metrics of these service lines (comma-separated).",
            "pattern": f"^(?:{_LINES})(?:,(?:{_LINES}))*$",
        }
    )


class StatisticsSchema(Schema):
    n = fields.Integer(metadata={"description": "Centres in the peer group."})
    min = fields.Float(attribute="minimum")
    p25 = fields.Float(metadata={"description": "Lower quartile (linear interpolation)."})
    median = fields.Float()
    p75 = fields.Float(metadata={"description": "Upper quartile (linear interpolation)."})
    max = fields.Float(attribute="maximum")


class PeriodRefSchema(Schema):
    code = fields.String()
    label = fields.String()
    status = fields.String(metadata={"enum": list(PERIOD_STATUSES)})
    published = fields.Boolean(
        metadata={"description": "False: validated figures, not yet published."}
    )


class MetricRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    version = fields.Integer()
    unit = fields.String(metadata={"enum": list(UNITS)})
    direction = fields.String(metadata={"enum": list(DIRECTIONS)})
    decimals = fields.Integer()


class CentreValueSchema(Schema):
    centre = fields.String(metadata={"description": "The centre's slug."})
    name = fields.String()
    value = fields.Float(metadata={"description": "The centre's value, in the metric's unit."})
    percentile = fields.Float(
        allow_none=True, metadata={"description": "0–100, 100 = best; null when withheld."}
    )
    band = fields.Integer(
        allow_none=True, metadata={"description": "Quartile band, 1 = best; null when withheld."}
    )
    in_peer_group = fields.Boolean()


class BenchmarkSchema(Schema):
    metric = fields.Nested(MetricRefSchema)
    period = fields.Nested(PeriodRefSchema, allow_none=True)
    min_peer_group = fields.Integer(
        metadata={"description": "Groups smaller than this have their statistics withheld."}
    )
    statistics = fields.Nested(
        StatisticsSchema,
        allow_none=True,
        metadata={"description": "null when there is no group or it is too small to show."},
    )
    statistics_withheld = fields.Boolean()
    centres = fields.List(
        fields.Nested(CentreValueSchema),
        metadata={"description": "Each reporting centre, best first, to check the figures."},
    )


class CompareCentreSchema(Schema):
    centre = fields.String(attribute="slug")
    name = fields.String()
    status = fields.String()
    score = fields.Float(
        allow_none=True,
        metadata={"description": "Σ weight × percentile ÷ Σ weight over metrics with data."},
    )
    coverage = fields.Float(metadata={"description": "Share of the total weight with data, 0–1."})
    rank = fields.Integer(allow_none=True, metadata={"description": "Ties share a rank."})


class CompareCellSchema(Schema):
    centre = fields.String()
    value = fields.Float(allow_none=True)
    percentile = fields.Float(allow_none=True)
    band = fields.Integer(allow_none=True)


class CompareRowSchema(Schema):
    metric = fields.Nested(MetricRefSchema)
    weight = fields.Float()
    statistics = fields.Nested(StatisticsSchema, allow_none=True)
    values = fields.List(fields.Nested(CompareCellSchema))


class ComparisonSchema(Schema):
    period = fields.Nested(PeriodRefSchema, allow_none=True)
    min_peer_group = fields.Integer()
    centres = fields.List(fields.Nested(CompareCentreSchema))
    metrics = fields.List(fields.Nested(CompareRowSchema))
    caveat = fields.String()
