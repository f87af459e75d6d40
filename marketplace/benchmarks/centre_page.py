"""The benchmarks area's sections of a centre's public page (catalogue/sections.py)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request
from markupsafe import Markup

from marketplace.benchmarks import latest, signals, spc, spc_chart, spc_series
from marketplace.benchmarks.centre_profile import centre_benchmarks
from marketplace.benchmarks.models import Metric
from marketplace.benchmarks.narrowing_form import filter_form
from marketplace.benchmarks.visibility import audience_for
from marketplace.catalogue.access import sees_unpublished
from marketplace.catalogue.sections import CentreSection, add


def _context(centre, viewer) -> dict:
    audience = audience_for(viewer)
    narrow = filter_form(audience, request.args)
    return {
        "latest": latest.latest_values(centre, viewer=viewer),
        "sees_unpublished": sees_unpublished(viewer, centre),
        "centre_benchmarks": centre_benchmarks(centre, viewer, narrow.peer_filter),
        # Named for this section: every section's context shares the page's namespace.
        "peer_narrow": narrow,
        "peer_audience": audience,
    }


@dataclass(frozen=True)
class EarlyWarning:
    """One metric's SPC chart as the centre page shows it."""

    metric: Metric
    chart: spc.Chart
    svg: Markup
    versions: tuple[int, ...]
    target: float | None  # the metric library's target, which assurance is judged against

    @property
    def variation_label(self) -> str | None:
        return spc.VARIATION_LABELS.get(self.chart.variation)

    @property
    def assurance_label(self) -> str | None:
        return spc.ASSURANCE_LABELS.get(self.chart.assurance)


def early_warnings(centre, viewer) -> list[EarlyWarning]:
    """An SPC chart for every metric the centre reports that this viewer may see (one query)."""
    result = []
    for code, series in spc_series.centre_series(centre.id, audience_for(viewer)).items():
        metric = series.metric
        target = None if metric.target is None else float(metric.target)
        chart = series.chart(target)
        svg = spc_chart.svg(
            chart,
            chart_id=f"spc-{code}",
            title=f"{metric.name}: {centre.name}'s figures as a process control chart",
            unit=metric.unit_label,
            decimals=metric.decimals,
            higher_is_better=metric.higher_is_better,
        )
        result.append(EarlyWarning(metric, chart, svg, series.versions, target))
    return result


def _early_warning_context(centre, viewer) -> dict:
    return {"early_warnings": early_warnings(centre, viewer), "spc": spc}


def _signals_context(centre, viewer) -> dict:
    return {"centre_signals": signals.signals_for(centre, audience_for(viewer))}


def register(app: Flask) -> None:
    add(
        app,
        CentreSection(
            key="signals",
            order=5,
            template="benchmarks/_centre_signals.html",
            contents=(("signals", "Early-warning summary"),),
            context=_signals_context,
        ),
    )
    add(
        app,
        CentreSection(
            key="benchmarks",
            order=10,
            template="benchmarks/_centre_sections.html",
            contents=(
                ("benchmarks", "Latest benchmark values"),
                ("peer-benchmarks", "Benchmarks against peers"),
            ),
            context=_context,
        ),
    )
    add(
        app,
        CentreSection(
            key="early-warning",
            order=15,
            template="benchmarks/_centre_early_warning.html",
            contents=(("early-warning", "Early warning: figures over time"),),
            context=_early_warning_context,
        ),
    )
