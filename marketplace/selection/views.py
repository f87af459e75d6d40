"""The /compare page and its CSV export (thin: parse, call compare, render)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask_login import current_user
from markupsafe import Markup, escape

from marketplace.benchmarks import display, drivers, readings, signals
from marketplace.benchmarks.models import Metric
from marketplace.benchmarks.narrowing_form import filter_form
from marketplace.benchmarks.visibility import audience_for
from marketplace.catalogue.models import ServiceCentre, ServiceLine
from marketplace.catalogue.services import PUBLIC_STATUSES
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.selection import basket
from marketplace.selection import compare as comparing
from marketplace.selection import projection as projecting
from marketplace.selection.compare_view import table_rows
from marketplace.selection.csvexport import csv_response
from marketplace.selection.exports import comparison_rows
from marketplace.selection.schemas import load_projection_input
from marketplace.web import forms

bp = Blueprint("selection", __name__)


def _asked() -> dict:
    return {
        "slugs": comparing.split_list(request.args.getlist("centres")),
        "period_code": (request.args.get("period") or "").strip() or None,
        "service_lines": comparing.split_list(request.args.getlist("service_lines")),
        "metric_codes": comparing.split_list(request.args.getlist("metrics")),
    }


def _centre_choices():
    return db.session.execute(
        db.select(ServiceCentre.slug, ServiceCentre.name)
        .where(ServiceCentre.accreditation_status.in_(PUBLIC_STATUSES))
        .order_by(ServiceCentre.name)
    ).all()


def _line_and_metric_choices():
    lines = db.session.execute(
        db.select(ServiceLine.code, ServiceLine.name).order_by(
            ServiceLine.position, ServiceLine.code
        )
    ).all()
    metrics = db.session.execute(
        db.select(Metric.code, Metric.name, ServiceLine.name.label("line"))
        .join(Metric.service_line)
        .where(Metric.is_current.is_(True), Metric.status == "active")
        .order_by(ServiceLine.position, ServiceLine.code, Metric.position, Metric.code)
    ).all()
    return lines, metrics


def _projection_asked() -> tuple[dict, dict, list]:
    """The volumes form: {driver: volume}, the current provider or cost, and any errors."""
    volumes: dict = {}
    current: dict = {"current_provider": None, "current_cost": None}
    errors = []
    try:
        volumes = projecting.volumes_from_form(request.args)
    except ValidationFailed as error:
        errors += error.errors
    try:
        current = load_projection_input(request.args)
    except ValidationFailed as error:
        errors += error.errors
    return volumes, current, errors


def _compare_with_projection(audience, asked, narrow, volumes, current, *, with_trend=True):
    comparison = comparing.compare(
        audience,
        asked["slugs"],
        asked["period_code"],
        service_lines=asked["service_lines"],
        metric_codes=asked["metric_codes"],
        with_trend=with_trend,
        peer_filter=narrow.peer_filter,
    )
    projection = None
    if volumes:
        projection = projecting.project(
            audience,
            comparison.centres,
            volumes,
            peer_filter=narrow.peer_filter,
            known_groups=projecting.comparison_groups(comparison),
            **current,
        )
    return comparison, projection


@bp.get("/compare")
def compare():
    audience = audience_for(current_user)
    asked = _asked()
    narrow = filter_form(audience, request.args)
    volumes, current, volume_errors = _projection_asked()
    # The comparison basket follows the address; a bare /compare shows the basket's centres.
    if "centres" in request.args:
        basket.keep(basket.from_address(asked["slugs"]))
    elif not request.args and basket.current():
        return redirect(basket.compare_url(basket.current()))
    comparison = projection = None
    form_errors = list(narrow.errors) + forms.error_summary(volume_errors)
    status = 400 if form_errors else 200
    # Fewer than two centres is a comparison still being set up, not a mistake: the page
    # offers the choice again (the API, which has no form, answers 422).
    if len(asked["slugs"]) >= comparing.MIN_CENTRES:
        try:
            comparison, projection = _compare_with_projection(
                audience, asked, narrow, volumes, current
            )
        except ValidationFailed as error:
            form_errors += forms.error_summary(
                error.errors, default="#centres", detail=error.detail
            )
            status = 400
    lines, metrics = _line_and_metric_choices()
    if comparison is not None and len(comparison.centres) >= comparing.MAX_CENTRES:
        # The comparison is full: the form offers only to untick, so the list of every
        # centre (a thousand, nationally) is neither read nor drawn.
        centres = [(c.slug, c.name) for c in comparison.centres]
        centre_options = Markup("")
    else:
        centres = _centre_choices()
        chosen = set(asked["slugs"])
        # A thousand options: joined here (each value and name escaped) rather than looped
        # in the template, which costs several milliseconds a page.
        centre_options = Markup(  # noqa: S704 - every slug and name is escaped
            "".join(
                f'<option value="{escape(slug)}">{escape(name)}</option>\n'
                for slug, name in centres
                if slug not in chosen
            )
        )
    rows = table_rows(comparison) if comparison is not None and comparison.period else []
    return (
        render_template(
            "selection/compare.html",
            comparison=comparison,
            centre_signals=_centre_signals(comparison, audience),
            asked=asked,
            centre_choices=centres,
            centre_options=centre_options,
            **display.HELPERS,
            line_choices=lines,
            metric_choices=metrics,
            period_choices=comparison.periods if comparison else readings.visible_periods(audience),
            form_errors=form_errors,
            rows=rows,
            audience=audience,
            narrow=narrow,
            projection=projection,
            drivers=drivers.DRIVERS,
            volumes_asked=volumes,
            current_asked=current,
            min_centres=comparing.MIN_CENTRES,
            max_centres=comparing.MAX_CENTRES,
        ),
        status,
    )


def _centre_signals(comparison, audience) -> list[tuple]:
    """(column, its signals today) for each compared centre: the early-warning summary the
    viewer may see on the centre's page (benchmarks.signals)."""
    if comparison is None:
        return []
    found = {
        c.id: c
        for c in db.session.execute(
            db.select(ServiceCentre).where(ServiceCentre.id.in_([c.id for c in comparison.centres]))
        ).scalars()
    }
    summaries = signals.signals_for_many([found[c.id] for c in comparison.centres], audience)
    return [(column, summaries[column.id]) for column in comparison.centres]


@bp.get("/compare.csv")
def compare_csv():
    audience = audience_for(current_user)
    asked = _asked()
    narrow = filter_form(audience, request.args)
    volumes, current, errors = _projection_asked()
    if errors or narrow.errors:
        raise ValidationFailed("The comparison could not be exported.", errors=errors)
    comparison, projection = _compare_with_projection(
        audience, asked, narrow, volumes, current, with_trend=False
    )
    period = comparison.period.code if comparison.period else "no-period"
    return csv_response(comparison_rows(comparison, projection), f"comparison-{period}.csv")
