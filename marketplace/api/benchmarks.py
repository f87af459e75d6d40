"""Peer benchmarks and comparisons: GET /benchmarks/<metric_code> and GET /compare."""

from __future__ import annotations

import json
from decimal import Decimal

from flask import current_app

from marketplace import formatting
from marketplace.accounts.auth import Unauthenticated
from marketplace.api.common import OPTIONAL_AUTH, api_blueprint, viewer
from marketplace.benchmarks import narrowing
from marketplace.benchmarks.distribution import distribution
from marketplace.benchmarks.visibility import audience_for
from marketplace.catalogue import services as catalogue
from marketplace.selection import compare as comparing
from marketplace.selection import projection as projecting
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
        "confidentiality threshold; signed-in buyers also see validated, unpublished periods. "
        "Signed-in buyers, centres and admins may narrow the peer group (`size_band`, "
        "`business_model`, `delivery_model`, `platform`): the same answer for the narrowed "
        "group, whose statistics are withheld below the threshold for everyone. Narrowing "
        "without signing in is refused with 401."
    ),
)


def _peer_filter(args: dict) -> narrowing.PeerFilter:
    """The narrowing asked for; 401 for the public, who see the standard group only."""
    peer_filter = narrowing.PeerFilter.from_args(args)
    if peer_filter.narrowed and viewer() is None:
        raise Unauthenticated(
            "Narrowing the peer group needs a signed-in buyer, centre or admin: sign in, or "
            "send 'Authorization: Bearer <token>'."
        )
    return peer_filter


def _peer_group(peer_filter: narrowing.PeerFilter, group) -> dict:
    n = None if group is None else group.n
    return {
        "narrowed": peer_filter.narrowed,
        **peer_filter.as_record(),
        "n": n,
        "description": peer_filter.label(n),
        "too_few": getattr(group, "too_few", None),
    }


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
@bp.alt_response(401, response="DEFAULT_ERROR", description="Narrowing without signing in.")
@bp.alt_response(
    422, response="UNPROCESSABLE_CONTENT", description="The period or a filter is malformed."
)
def benchmark(metric_code: str, period: str | None = None, **filters):
    """Peer statistics of one metric in one period

    `n`, `min`, `p25`, `median`, `p75` and `max` of the peer group (linear-interpolation
    quartiles), and each reporting centre's `value`, `percentile` (0–100, 100 = best) and
    `band` (1 = top quartile), so that a client can check the statistics. Without `period`,
    the newest period with figures that the caller may see.

    Signed in, narrow the group with `size_band`, `business_model`, `delivery_model` and
    `platform`: `statistics`, `percentile`, `band` and `in_peer_group` are then the narrowed
    group's, `peer_group` says how it was drawn, and a group smaller than `min_peer_group`
    shows no statistics (`peer_group.too_few` says why).
    """
    peer_filter = _peer_filter(filters)
    audience = audience_for(viewer())
    page = distribution(audience, metric_code, period, with_history=False, peer_filter=peer_filter)
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
    if page.narrowed is not None:
        shown_group = page.narrowed
        visible = shown_group.disclosable and audience.period_visible(page.period)
        stats = shown_group if visible else None
        withheld = not visible
    else:
        shown_group = stats
        withheld = selected is not None and not visible
    return {
        "peer_group": _peer_group(page.peer_filter, shown_group),
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
        "statistics_withheld": withheld,
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
    description="Fewer than 2 different centres or more than 6; weights that are all 0, "
    "name a metric twice or name one outside the comparison; or bad volumes (see errors).",
)
@bp.alt_response(401, response="DEFAULT_ERROR", description="Narrowing without signing in.")
def compare(
    centres: str,
    period: str | None = None,
    weights=None,
    service_lines=None,
    volumes=None,
    current_provider=None,
    current_cost=None,
    **filters,
):
    """Compare 2 to 6 centres in one period

    For each metric, the peer statistics and each centre's value, percentile and band; for
    each centre, the weighted `score` (Σ weight × percentile ÷ Σ weight over the metrics it
    has a percentile for), `coverage` (the share of the weight with data, 0–1) and `rank`
    (ties share a rank). Unit costs are not a pure measure of efficiency across services of
    different complexity (see `caveat`).

    Signed in, narrow every metric's peer group with `size_band`, `business_model`,
    `delivery_model` and `platform` (as for GET /benchmarks). With `volumes`, each centre gets
    a `projected_cost` (annual volume × its latest published unit cost, per driver and in
    total, with the `saving` against `current_provider` or `current_cost` and the
    `price_score`: lowest total = 100, others 100 × lowest ÷ total), and `projection` gives
    the peer p25–median–p75 cost for the same volumes. Money is in £, as strings with two
    decimals (rounded half up) so that no penny is lost to floating point.
    """
    peer_filter = _peer_filter(filters)
    wanted_volumes = projecting.parse_volumes(volumes)
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
        peer_filter=peer_filter,
    )
    projection = None
    if wanted_volumes:
        projection = projecting.project(
            audience,
            comparison.centres,
            wanted_volumes,
            peer_filter=peer_filter,
            current_provider=current_provider or None,
            current_cost=Decimal(current_cost) if current_cost else None,
            known_groups=projecting.comparison_groups(comparison),
        )
    costs = {c.slug: c for c in projection.centres} if projection else {}
    return {
        "period": _period(comparison.period),
        "min_peer_group": audience.threshold,
        "peer_group": _peer_group(peer_filter, None),
        "centres": [
            {
                "slug": centre.slug,
                "name": centre.name,
                "status": centre.status,
                "score": centre.score,
                "coverage": centre.coverage,
                "rank": centre.rank,
                "projected_cost": _projected(costs.get(centre.slug)),
            }
            for centre in comparison.centres
        ],
        "projection": _projection(projection),
        "metrics": [
            {
                "metric": _metric(row.metric),
                "weight": row.weight,
                "peer_group": _peer_group(
                    peer_filter, row.stats if (row.stats_visible or row.narrowed) else None
                ),
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
    catalogue.require_public_centres(slugs, viewer=viewer())


def _money(value) -> str | None:
    return None if value is None else formatting.plain(value, 2)


def _projected(cost) -> dict | None:
    if cost is None:
        return None
    return {
        "total": _money(cost.total),
        "saving": _money(cost.saving),
        "price_score": None if cost.price_score is None else float(cost.price_score),
        "current_provider": cost.is_current,
        "lines": [
            {
                "driver": line.driver.code,
                "volume": line.volume,
                "unit_cost": None if line.unit_cost is None else float(line.unit_cost),
                "period": line.period.code if line.period is not None else None,
                "cost": _money(line.cost),
            }
            for line in cost.lines
        ],
    }


def _projection(projection) -> dict | None:
    if projection is None:
        return None
    return {
        "volumes": projection.volumes,
        "current_provider": projection.current_provider,
        "current_cost": _money(projection.current_cost),
        "peer_ranges": [
            {
                "driver": r.driver.code,
                "volume": r.volume,
                "metric": r.metric.code if r.metric is not None else None,
                "period": r.period.code if r.period is not None else None,
                "peer_group": r.label,
                "n": r.n,
                "p25": _money(r.p25),
                "median": _money(r.median),
                "p75": _money(r.p75),
                "withheld": r.withheld,
            }
            for r in projection.peer_ranges
        ],
        "notes": projection.notes,
    }
