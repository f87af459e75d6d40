"""Peer benchmarks and comparisons: GET /benchmarks/<metric_code> and GET /compare."""

from __future__ import annotations

import json

from flask import current_app

from marketplace.api.common import OPTIONAL_AUTH, api_blueprint, viewer
from marketplace.benchmarks.distribution import distribution
from marketplace.benchmarks.visibility import audience_for
from marketplace.catalogue import services as catalogue
from marketplace.selection import compare as comparing
from marketplace.selection.schemas import (
    BenchmarkArgsSchema,
    BenchmarkSchema,
    CompareArgsSchema,
    ComparisonSchema,
)

bp = api_blueprint(
    "peer_benchmarks",
    __name__,
    description=(
        "Peer statistics per metric and period, and centres compared side by side. The public "
        "sees published periods only and no statistic from a group smaller than the "
        "confidentiality threshold; signed-in buyers also see validated, unpublished periods."
    ),
)


def _period(period) -> dict | None:
    if period is None:
        return None
    return {
        "code": period.code,
        "label": period.label,
        "status": period.status,
        "published": period.status == "published",
    }


def _metric(metric) -> dict:
    return {
        "code": metric.code,
        "name": metric.name,
        "version": metric.version,
        "unit": metric.unit,
        "direction": metric.direction,
        "decimals": metric.decimals,
    }


@bp.route("/benchmarks/<metric_code>")
@bp.doc(security=OPTIONAL_AUTH)
@bp.arguments(BenchmarkArgsSchema, location="query", as_kwargs=True)
@bp.response(200, BenchmarkSchema)
@bp.alt_response(404, response="NOT_FOUND", description="No such metric, or period not visible.")
@bp.alt_response(422, response="UNPROCESSABLE_CONTENT", description="The period is malformed.")
def benchmark(metric_code: str, period: str | None = None):
    """Peer statistics of one metric in one period

    `n`, `min`, `p25`, `median`, `p75` and `max` of the peer group (linear-interpolation
    quartiles), and each reporting centre's `value`, `percentile` (0–100, 100 = best) and
    `band` (1 = top quartile), so that a client can check the statistics. Without `period`,
    the newest period with figures that the caller may see.
    """
    audience = audience_for(viewer())
    page = distribution(audience, metric_code, period, with_history=False)
    # A national group has a thousand centres: the body is built here as plain data, in the
    # exact shape BenchmarkSchema documents (a test dumps it through the schema and compares),
    # because dumping a thousand items through marshmallow would cost more than the goal.
    # Unsorted keys in the document's own order: sorting a thousand objects' keys is waste.
    return current_app.response_class(
        json.dumps(benchmark_document(page, audience), separators=(",", ":")),
        mimetype="application/json",
    )


def benchmark_document(page, audience) -> dict:
    selected = page.selected
    visible = selected is not None and selected.visible
    stats = selected.stats if visible else None
    return {
        "metric": _metric(selected.metric if selected else page.metric),
        "period": _period(page.period),
        "min_peer_group": audience.threshold,
        "statistics": None
        if stats is None
        else {
            "n": stats.n,
            "min": stats.minimum,
            "p25": stats.p25,
            "median": stats.median,
            "p75": stats.p75,
            "max": stats.maximum,
        },
        "statistics_withheld": selected is not None and not visible,
        "centres": [
            {
                "centre": row.slug,
                "name": row.name,
                "value": float(row.value),
                "percentile": row.percentile,
                "band": row.band,
                "in_peer_group": row.in_group,
            }
            for row in page.centres
        ],
    }


@bp.route("/compare")
@bp.doc(security=OPTIONAL_AUTH)
@bp.arguments(CompareArgsSchema, location="query", as_kwargs=True)
@bp.response(200, ComparisonSchema)
@bp.alt_response(
    404,
    response="NOT_FOUND",
    description="A centre named is not one you may see (as at GET /centres/{slug}), or the "
    "period is not visible.",
)
@bp.alt_response(
    422,
    response="UNPROCESSABLE_CONTENT",
    description="Fewer than 2 different centres or more than 6, or weights that are all 0, "
    "name a metric twice or name one outside the comparison (see errors).",
)
def compare(centres: str, period: str | None = None, weights=None, service_lines=None):
    """Compare 2 to 6 centres in one period

    For each metric, the peer statistics and each centre's value, percentile and band; for
    each centre, the weighted `score` (Σ weight × percentile ÷ Σ weight over the metrics it
    has a percentile for), `coverage` (the share of the weight with data, 0–1) and `rank`
    (ties share a rank). Unit costs are not a pure measure of efficiency across services of
    different complexity (see `caveat`).
    """
    audience = audience_for(viewer())
    slugs = comparing.split_list(centres)
    _found_each(slugs)
    comparison = comparing.compare(
        audience,
        slugs,
        period,
        service_lines=comparing.split_list(service_lines),
        weights=comparing.parse_weights(weights),
        with_trend=False,
    )
    return {
        "period": _period(comparison.period),
        "min_peer_group": audience.threshold,
        "centres": comparison.centres,
        "metrics": [
            {
                "metric": _metric(row.metric),
                "weight": row.weight,
                "statistics": row.stats if row.stats_visible else None,
                "values": [
                    {
                        "centre": centre.slug,
                        "value": cell.value,
                        "percentile": cell.percentile,
                        "band": cell.band,
                    }
                    for centre, cell in zip(comparison.centres, row.cells, strict=True)
                ],
            }
            for row in comparison.rows
        ],
        "caveat": comparison.caveat,
    }


def _found_each(slugs: list[str]) -> None:
    """A centre that does not exist, or that the caller may not see, is not found (404), as
    at GET /centres/{slug}: the request is well formed, the centre is missing. (How many
    centres may be compared stays the comparison's own 422.)"""
    if len(slugs) > comparing.MAX_CENTRES:
        return
    for slug in slugs:
        catalogue.get_public_centre(slug, viewer=viewer())
