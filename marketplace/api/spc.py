"""Early warning: a centre's statistical process control chart of one metric."""

from __future__ import annotations

from marketplace.api.common import OPTIONAL_AUTH, api_blueprint, problem_response, viewer
from marketplace.benchmarks import signals, spc_series
from marketplace.benchmarks.spc_schemas import (
    SignalsSchema,
    SpcArgsSchema,
    SpcChartSchema,
    chart_document,
)
from marketplace.benchmarks.visibility import audience_for
from marketplace.catalogue import services as catalogue

bp = api_blueprint(
    "spc",
    __name__,
    description=(
        "Early warning: each centre's figures of a metric as an XmR (statistical process "
        "control) chart, as NHS England's Making Data Count reads them. Public on published "
        "figures; the centre itself and admins also see closed periods."
    ),
)


@bp.route("/centres/<slug>/spc/<metric_code>")
@bp.doc(security=OPTIONAL_AUTH)
@bp.arguments(SpcArgsSchema, location="query", as_kwargs=True)
@bp.response(200, SpcChartSchema)
@problem_response(bp, 404, "No centre you may see has that slug, or no metric that code.")
@problem_response(bp, 422, "The target is not a number.")
def centre_spc(slug: str, metric_code: str, target: float | None = None):
    """A centre's SPC chart of one metric

    The centre's figures in quarter order (quarters without a figure skipped), one segment
    per metric version, each with its mean, process limits (mean ± 2.66 × the average moving
    range, screened) and near limits (two thirds of the way), from 8 points (provisional
    under 12). Each point's `kind` is `common_cause`, or `improvement` / `concern` by the
    metric's direction when it breaks a rule (`rules`): outside the limits, a shift of 7 on
    one side of the mean, a trend of 7 each rising or each falling, or 2 of 3 near a limit.
    `variation` is the latest point's kind; with `target`, `assurance` says whether the
    process will consistently meet it. The method is explained at /methodology.
    """
    who = viewer()
    centre = catalogue.get_public_centre(slug, viewer=who)
    _metric, series = spc_series.metric_series(centre.id, audience_for(who), metric_code)
    chart = None if series is None else series.chart(target)
    return chart_document(centre.slug, metric_code, chart)


@bp.route("/centres/<slug>/signals")
@bp.doc(security=OPTIONAL_AUTH)
@bp.response(200, SignalsSchema)
@problem_response(bp, 404, "No centre you may see has that slug.")
def centre_signals(slug: str):
    """A centre's early-warning summary

    Everything about the centre that a buyer holding it to a contract should look at now,
    each with its evidence in words and a link to it: a suspension; accreditation or a
    certification ending within 60 days; no figures by the last submission deadline; contract
    KPIs rated Requires improvement or Inadequate; metrics whose latest point is special
    cause concern; published figures restated in the last four quarters. Public on published
    figures; the centre itself and admins also see closed periods.
    """
    who = viewer()
    centre = catalogue.get_public_centre(slug, viewer=who)
    found = signals.signals_for(centre, audience_for(who))
    return {"centre": centre.slug, "signals": found}
