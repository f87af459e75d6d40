"""The metric pages: the library (/metrics) and one metric's peer distribution per period
with each centre's standing (/metrics/<code>)."""

from __future__ import annotations

import math

from flask import Blueprint, render_template, request
from flask_login import current_user

from marketplace.benchmarks import charts, display, narrowing
from marketplace.benchmarks.distribution import distribution
from marketplace.benchmarks.library import metric_library
from marketplace.benchmarks.narrowing_form import filter_form
from marketplace.benchmarks.visibility import audience_for

bp = Blueprint("metric_pages", __name__)

# Box plots drawn on the page; the table below the chart lists every period.
CHART_PERIODS = 8
# Each centre is drawn as a point on the selected period's box up to this many; a national
# group (a thousand centres) is better read from the box and the table.
MAX_POINTS = 200
CENTRES_PER_PAGE = 100


@bp.get("/metrics")
def library():
    return render_template("catalogue/metrics.html", groups=metric_library())


@bp.get("/metrics/<code>")
def metric(code: str):
    audience = audience_for(current_user)
    narrow = filter_form(audience, request.args)
    page = distribution(
        audience, code, request.args.get("period") or None, peer_filter=narrow.peer_filter
    )
    own = page.centres.own
    chart_rows = []
    for row in page.history[:CHART_PERIODS]:
        if not row.visible:
            continue
        selected = page.selected is not None and row is page.selected
        label = row.period.label + (f" v{row.metric.version}" if page.has_version_break else "")
        chart_rows.append(
            charts.BoxRow(
                label=label,
                n=row.stats.n,
                minimum=row.stats.minimum,
                p25=row.stats.p25,
                median=row.stats.median,
                p75=row.stats.p75,
                maximum=row.stats.maximum,
                points=[float(c.value) for c in page.centres if c.in_group]
                # A narrowed group's members are not the box's (the standard group's).
                if selected and page.narrowed is None and len(page.centres) <= MAX_POINTS
                else (),
                highlight=float(own[0].value) if selected and own else None,
            )
        )
    chart = charts.box_plot(
        chart_rows,
        chart_id="distribution-chart",
        title=f"{page.metric.name}: peer distribution by period",
        unit=page.metric.unit_label,
        decimals=page.metric.decimals,
        higher_is_better=page.metric.higher_is_better,
    )
    pages = max(1, math.ceil(len(page.centres) / CENTRES_PER_PAGE))
    try:
        number = min(max(int(request.args.get("page", 1)), 1), pages)
    except ValueError:
        number = 1
    shown = page.centres[(number - 1) * CENTRES_PER_PAGE : number * CENTRES_PER_PAGE]
    return render_template(
        "benchmarks/metric.html",
        narrow=narrow,
        form_errors=narrow.errors,
        standard_description=narrowing.STANDARD_DESCRIPTION,
        shown=shown,
        page_number=number,
        pages=pages,
        first_rank=(number - 1) * CENTRES_PER_PAGE + 1,
        own=own,
        points_drawn=bool(chart_rows) and page.narrowed is None and len(page.centres) <= MAX_POINTS,
        page=page,
        metric=page.metric,
        chart=chart,
        has_chart=bool(chart_rows),
        audience=audience,
        **display.HELPERS,
    ), (400 if narrow.errors else 200)
