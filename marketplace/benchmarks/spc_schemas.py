"""What early warning looks like from outside: GET /centres/<slug>/spc/<code> (a chart) and
GET /centres/<slug>/signals (the summary).

Dump-only, in exactly the shape CONTRACT.md names; the query arguments are parsed here too.
"""

from __future__ import annotations

from marshmallow import Schema, fields

from marketplace.benchmarks import signals, spc


def _limit(description: str) -> fields.Float:
    return fields.Float(
        allow_none=True,
        metadata={"description": f"{description}; null in a segment of fewer than 8 points."},
    )


class SpcArgsSchema(Schema):
    target = fields.Float(
        allow_nan=False,
        metadata={
            "description": "A target (say a contract KPI's) to judge assurance against, in "
            "the metric's unit."
        },
    )


class SpcPointSchema(Schema):
    period = fields.String(metadata={"description": "The quarter, YYYY-Qn."})
    value = fields.Float()
    kind = fields.String(
        metadata={
            "enum": list(spc.KINDS),
            "description": "Special cause by the metric's direction.",
        }
    )
    rules = fields.List(
        fields.String(metadata={"enum": list(spc.RULES)}),
        metadata={"description": "The special-cause rules the point breaks; empty if none."},
    )


class SpcSegmentSchema(Schema):
    points = fields.List(fields.Nested(SpcPointSchema), metadata={"description": "Oldest first."})
    mean = fields.Float(allow_none=True, metadata={"description": "The mean of the segment."})
    upper = _limit("The upper process limit, mean + 2.66 × amR")
    lower = _limit("The lower process limit, mean − 2.66 × amR")
    near_upper = _limit("The upper near limit, mean + ⅔ × 2.66 × amR")
    near_lower = _limit("The lower near limit, mean − ⅔ × 2.66 × amR")
    provisional = fields.Boolean(
        metadata={"description": "True when the limits come from 8 to 11 points."}
    )


class SpcChartSchema(Schema):
    centre = fields.String(metadata={"description": "The centre's slug."})
    metric = fields.String(metadata={"description": "The metric's code."})
    segments = fields.List(
        fields.Nested(SpcSegmentSchema),
        metadata={"description": "One per metric version the series spans, oldest first."},
    )
    variation = fields.String(
        allow_none=True,
        metadata={
            "enum": [*spc.KINDS, None],
            "description": "The latest point's kind; null when its segment has no limits.",
        },
    )
    assurance = fields.String(
        allow_none=True,
        metadata={
            "enum": [*spc.ASSURANCES, None],
            "description": "Against `target`, by the latest segment's limits; null without one.",
        },
    )


def chart_document(centre_slug: str, metric_code: str, chart: spc.Chart | None) -> dict:
    """The chart as SpcChartSchema dumps it (None: the centre has no visible figures)."""
    segments = [] if chart is None else chart.segments
    return {
        "centre": centre_slug,
        "metric": metric_code,
        "segments": [
            {
                "points": [
                    {"period": p.period, "value": p.value, "kind": p.kind, "rules": list(p.rules)}
                    for p in segment.points
                ],
                "mean": segment.mean,
                "upper": segment.limits.upper if segment.limits else None,
                "lower": segment.limits.lower if segment.limits else None,
                "near_upper": segment.limits.near_upper if segment.limits else None,
                "near_lower": segment.limits.near_lower if segment.limits else None,
                "provisional": segment.provisional,
            }
            for segment in segments
        ],
        "variation": None if chart is None else chart.variation,
        "assurance": None if chart is None else chart.assurance,
    }


class SignalSchema(Schema):
    kind = fields.String(
        metadata={"enum": list(signals.KINDS), "description": "What the signal is about."}
    )
    label = fields.String(metadata={"description": "The kind, in words."})
    metric = fields.String(
        allow_none=True, metadata={"description": "The metric's code, where it is about one."}
    )
    period = fields.String(
        allow_none=True, metadata={"description": "The quarter (YYYY-Qn), where it is about one."}
    )
    detail = fields.String(metadata={"description": "The evidence, in plain words."})
    link = fields.String(
        allow_none=True, metadata={"description": "The path of the evidence on this site."}
    )


class SignalsSchema(Schema):
    centre = fields.String(metadata={"description": "The centre's slug."})
    signals = fields.List(
        fields.Nested(SignalSchema),
        metadata={
            "description": "Suspension, accreditation or certifications ending within 60 "
            "days, a missed submission deadline, contract KPIs rated Requires improvement or "
            "Inadequate, metrics whose latest point is special cause concern, and published "
            "figures restated in the last four quarters; empty when there is nothing to see."
        },
    )
