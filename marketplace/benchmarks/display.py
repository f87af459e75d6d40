"""Text for figures on the busiest pages, as plain functions the templates call.

The benchmark read model's display text, used by the metric and /compare pages. The same
rules as the `metric_value` and band macros, but a page of 200 cells renders much faster
calling a function than a Jinja macro. Results are plain text (autoescaped). Figures come
from marketplace/formatting.py, so they read exactly as in the published reports.
"""

from __future__ import annotations

from marketplace import formatting
from marketplace.benchmarks.statistics import BAND_LABELS

TREND_TEXT = {"improving": "Improving", "worsening": "Worsening", "steady": "Steady"}


def value_text(value, unit: str, decimals: int) -> str:
    """£4.12, 96.5%, 8.3 days; '–' for no value."""
    return formatting.figure(value, decimals, unit)


def band_text(band: int | None) -> str:
    return "Not shown" if band is None else f"{band}: {BAND_LABELS[band]}"


def percentile_text(percentile: float | None) -> str:
    return formatting.number(percentile, 0)


def trend_text(direction: str | None) -> str:
    return TREND_TEXT.get(direction, "Not enough data")


HELPERS = {
    "value_text": value_text,
    "band_text_plain": band_text,
    "percentile_text_plain": percentile_text,
    "trend_text_plain": trend_text,
}
