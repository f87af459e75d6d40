"""What goes in and out of comparisons and evaluations: forms, query arguments and the API.

Form schemas turn posted fields into the plain data the services take; errors come back as
FieldErrors keyed by the form field, so pages can show an error summary that links to them.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from marketplace.benchmarks.drivers import DRIVER_CODES, MAX_VOLUME
from marketplace.benchmarks.models import DIRECTIONS, PERIOD_STATUSES, UNITS
from marketplace.benchmarks.narrowing import SIZE_BANDS
from marketplace.benchmarks.narrowing_schemas import PeerFilterFields
from marketplace.catalogue.models import SERVICE_LINE_CODES
from marketplace.contracts.schemas import KpiInputSchema
from marketplace.errors import FieldError, ValidationFailed
from marketplace.selection.decisions import CONTRACT_ENDS_BEFORE_START
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
    # Why the criteria change after the weights were sealed (the service requires it then).
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=5000, error="Keep the reason under 5,000 characters."),
    )


class ScoreEntrySchema(Schema):
    """One (criterion, centre) of the scores form; the service checks how they combine."""

    score = fields.Decimal(
        load_default=None,
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(min=0, max=100, error="Enter a score from 0 to 100."),
        error_messages={"invalid": "Enter the score as a number from 0 to 100."},
    )
    rationale = fields.String(
        load_default="",
        validate=validate.Length(max=5000, error="Keep the rationale under 5,000 characters."),
    )
    not_scored = fields.Boolean(load_default=False)
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=5000, error="Keep the reason under 5,000 characters."),
    )


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

    # Run even when other fields are wrong, so the dates' order is reported with them at
    # once; the service checks it again (with the rest of an award) for any other caller.
    @validates_schema(skip_on_field_errors=False)
    def ends_after_it_starts(self, data, **kwargs):
        starts, ends = data.get("contract_starts_on"), data.get("contract_ends_on")
        if starts is not None and ends is not None and ends <= starts:
            raise ValidationError(CONTRACT_ENDS_BEFORE_START, "contract_ends_on")


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


def weight_problems(names: dict, weights: dict, new_criterion: str) -> list[FieldError]:
    """The problems of weights read as numbers (criterion code -> name in `names`)."""
    errors: list[FieldError] = []
    for code, weight in weights.items():
        if code not in names:
            errors.append(FieldError(f"'{code}' is not a criterion here.", f"weight:{code}"))
        elif weight is None or not weight.is_finite() or weight < 0 or weight > 1000:
            errors.append(
                FieldError(f"Enter a weight from 0 to 1000 for {names[code]}.", f"weight:{code}")
            )
    if len(new_criterion) > 200:
        errors.append(FieldError("Keep the criterion name under 200 characters.", "new"))
    return errors


def weights_from_form(form, names=None) -> tuple[dict, str, str]:
    """weight:<code> -> weights; the new criterion's name; the reason for a change.

    A weight that is not a number is reported with every other problem of the form at once
    (`names`, criterion code -> name, lets the services check the rest: ranges, the name's
    length), so the buyer never fixes one wave of errors to be shown the next.
    """
    weights: dict[str, Decimal] = {}
    problems: list[FieldError] = []
    names = names or {}
    for key in form:
        raw = (form.get(key) or "").strip()
        if key.startswith("weight:"):
            code = key.split(":", 1)[1]
            number = _decimal(raw) if raw else Decimal(0)
            if number is None:
                name = names.get(code)
                what = f"the weight for {name}" if name else "the weight"
                problems.append(FieldError(f"Enter {what} as a number, like 2 or 0.5.", key))
            else:
                weights[code] = number
    if problems:
        problems += weight_problems(names, weights, (form.get("new_criterion") or "").strip())
        order = {key: i for i, key in enumerate(form)}
        problems.sort(key=lambda e: order.get(e.field, len(order)))
        raise ValidationFailed("The weights could not be saved.", errors=problems)
    return (
        weights,
        (form.get("new_criterion") or "").strip(),
        (form.get("reason") or "").strip(),
    )


SCORE_PARTS = ("score", "rationale", "not_scored", "reason")


def scores_from_form(form, criteria=None, centres=None) -> dict[tuple[str, str], dict]:
    """score:/rationale:/not_scored:/reason:<code>:<slug> -> entries by (code, slug).

    Each entry goes through ScoreEntrySchema; its errors are reported under its own field,
    each naming its centre and criterion (`criteria`: code -> name, `centres`: slug -> name),
    since the form repeats the same inputs for every centre.
    """
    criteria, centres = criteria or {}, centres or {}
    raw: dict[tuple[str, str], dict] = {}
    for key in form:
        part, _sep, rest = key.partition(":")
        if part in SCORE_PARTS and rest.count(":") == 1:
            code, slug = rest.split(":")
            raw.setdefault((code, slug), {})[part] = form.get(key) or ""
    entries: dict[tuple[str, str], dict] = {}
    problems: list[FieldError] = []
    for (code, slug), values in raw.items():
        score = (values.get("score") or "").strip().replace(",", "")
        data = {
            "score": score or None,
            "rationale": values.get("rationale", ""),
            "not_scored": bool(values.get("not_scored")),
            "reason": values.get("reason", ""),
        }
        errors = ScoreEntrySchema().validate(data)
        for name, messages in errors.items():
            where = f"{centres.get(slug, slug)}, {criteria.get(code, code)}: "
            problems.append(FieldError(where + messages[0], f"{name}:{code}:{slug}"))
        if not errors:
            entries[code, slug] = ScoreEntrySchema().load(data)
    if problems:
        raise ValidationFailed("The scores could not be saved.", errors=problems)
    return entries


# --- API -------------------------------------------------------------------------------------


# The periods the database holds (its CHECK: years 2000 to 2200).
PERIOD_PATTERN = r"^(?:2[01]\d\d|2200)-Q[1-4]$"
_LINES = "|".join(SERVICE_LINE_CODES)


class BenchmarkArgsSchema(PeerFilterFields):
    period = fields.String(
        metadata={
            "description": "The quarter, YYYY-Qn; the newest visible one when left out.",
            "pattern": PERIOD_PATTERN,
        }
    )


_DRIVERS = "|".join(DRIVER_CODES)
# One driver's annual volume, a whole number from 1 to 1,000,000,000 (drivers.MIN_VOLUME to
# MAX_VOLUME), so that the document refuses what parse_volumes refuses.
_VOLUME_ITEM = f"(?:{_DRIVERS}):(?:[1-9][0-9]{{0,8}}|1000000000)"


class ProjectionInputSchema(Schema):
    """What savings are measured against: the /compare form's and the API's fields."""

    current_provider = fields.String(
        validate=validate.Length(max=100),
        metadata={
            "description": "With `volumes`: the compared centre (slug) that provides the "
            "service now; each centre's `saving` is then against its projected cost."
        },
    )
    current_cost = fields.String(
        validate=validate.Regexp(
            r"^[0-9]{1,12}(?:\.[0-9]{1,2})?$",
            error="Give the current annual cost in pounds, like 1250000 or 1250000.50.",
        ),
        metadata={
            "description": "With `volumes`, instead of `current_provider`: today's annual "
            "cost in £ (up to two decimals), against which each centre's `saving` is worked out.",
            "pattern": r"^[0-9]{1,12}(?:\.[0-9]{1,2})?$",
        },
    )


def load_projection_input(data) -> dict:
    """current_provider / current_cost from a form: blank is unset; Decimal £ out."""
    cleaned = {k: (data.get(k) or "").strip() for k in ("current_provider", "current_cost")}
    loaded = forms.load(
        ProjectionInputSchema(),
        {
            k: v.replace(",", "").removeprefix("£") if k == "current_cost" else v
            for k, v in cleaned.items()
            if v
        },
        "The current cost could not be read.",
    )
    cost = loaded.get("current_cost")
    return {
        "current_provider": loaded.get("current_provider"),
        "current_cost": Decimal(cost) if cost else None,
    }


class CompareArgsSchema(PeerFilterFields, ProjectionInputSchema):
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
    volumes = fields.String(
        validate=validate.Length(max=400),
        metadata={
            "description": "Annual volumes per cost driver, `driver:n,driver:n` (whole numbers "
            f"1 to {MAX_VOLUME:,}); drivers: {', '.join(DRIVER_CODES)}. Adds each centre's "
            "`projected_cost` (volume × its latest published unit cost) and the peer range "
            "for the same volumes (`projection`). Anyone may ask.",
            "pattern": f"^{_VOLUME_ITEM}(?:,{_VOLUME_ITEM})*$",
        },
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


class PeerGroupSchema(Schema):
    """How the peer group was narrowed; null fields were not narrowed."""

    narrowed = fields.Boolean(metadata={"description": "False: the standard peer group."})
    size_band = fields.String(allow_none=True, metadata={"enum": list(SIZE_BANDS)})
    business_model = fields.String(allow_none=True)
    delivery_model = fields.String(allow_none=True)
    platform = fields.String(allow_none=True)
    n = fields.Integer(
        allow_none=True, metadata={"description": "Centres in the group (null: no group)."}
    )
    description = fields.String(
        metadata={"description": "The group in words, as the pages show it beside its figures."}
    )
    too_few = fields.String(
        allow_none=True,
        metadata={
            "description": "Why a narrowed group shows no statistics: it has fewer centres "
            "than the confidentiality threshold."
        },
    )


class BenchmarkSchema(Schema):
    peer_group = fields.Nested(PeerGroupSchema)
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


_MONEY = {"description": "£, two decimals, rounded half up (a string: no penny lost)."}


def _money(description: str) -> fields.String:
    return fields.String(
        allow_none=True,
        metadata={**_MONEY, "description": f"{description} {_MONEY['description']}"},
    )


class CostLineSchema(Schema):
    driver = fields.String(metadata={"enum": list(DRIVER_CODES)})
    volume = fields.Integer(metadata={"description": "The annual volume given."})
    unit_cost = fields.Float(
        allow_none=True,
        metadata={"description": "The centre's latest published unit cost (null: none)."},
    )
    period = fields.String(
        allow_none=True, metadata={"description": "The period that unit cost was published for."}
    )
    cost = _money("volume × unit cost (per £1,000 for spend);")


class ProjectedCostSchema(Schema):
    total = _money("Sum of the lines; null unless every driver has a unit cost.")
    saving = _money("Current cost − total (negative: dearer); null without a current cost.")
    price_score = fields.Float(
        allow_none=True,
        metadata={"description": "Lowest total = 100, others 100 × lowest ÷ total (2 places)."},
    )
    current_provider = fields.Boolean(metadata={"description": "The buyer's current provider."})
    lines = fields.List(fields.Nested(CostLineSchema))


class PeerRangeSchema(Schema):
    driver = fields.String(metadata={"enum": list(DRIVER_CODES)})
    volume = fields.Integer()
    metric = fields.String(allow_none=True, metadata={"description": "The unit-cost metric."})
    period = fields.String(
        allow_none=True, metadata={"description": "The newest published period with a group."}
    )
    peer_group = fields.String(metadata={"description": "The group's definition, with n."})
    n = fields.Integer(allow_none=True)
    p25 = _money("Volume × the group's lower quartile;")
    median = _money("Volume × the group's median;")
    p75 = _money("Volume × the group's upper quartile;")
    withheld = fields.String(
        allow_none=True, metadata={"description": "Why the range is not shown."}
    )


class ProjectionSchema(Schema):
    volumes = fields.Dict(keys=fields.String(), values=fields.Integer())
    current_provider = fields.String(allow_none=True)
    current_cost = _money("The annual cost savings are measured against;")
    peer_ranges = fields.List(fields.Nested(PeerRangeSchema))
    notes = fields.List(fields.String())


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
    projected_cost = fields.Nested(
        ProjectedCostSchema,
        allow_none=True,
        metadata={"description": "With `volumes`: the centre's projected annual cost."},
    )


class CompareCellSchema(Schema):
    centre = fields.String()
    value = fields.Float(allow_none=True)
    percentile = fields.Float(allow_none=True)
    band = fields.Integer(allow_none=True)


class CompareRowSchema(Schema):
    metric = fields.Nested(MetricRefSchema)
    weight = fields.Float()
    peer_group = fields.Nested(PeerGroupSchema)
    statistics = fields.Nested(StatisticsSchema, allow_none=True)
    values = fields.List(fields.Nested(CompareCellSchema))


class ComparisonSchema(Schema):
    period = fields.Nested(PeriodRefSchema, allow_none=True)
    min_peer_group = fields.Integer()
    peer_group = fields.Nested(PeerGroupSchema)
    centres = fields.List(fields.Nested(CompareCentreSchema))
    projection = fields.Nested(
        ProjectionSchema, allow_none=True, metadata={"description": "null without `volumes`."}
    )
    metrics = fields.List(fields.Nested(CompareRowSchema))
    caveat = fields.String()
