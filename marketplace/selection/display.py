"""Text for figures on the busiest pages, as plain functions the templates call.

The same rules as the `metric_value` and band macros, but a page of 200 cells renders much
faster calling a function than a Jinja macro. Results are plain text (autoescaped).
"""

from __future__ import annotations

from marketplace.benchmarks.statistics import BAND_LABELS
from marketplace.templating import format_number

TREND_TEXT = {"improving": "Improving", "worsening": "Worsening", "steady": "Steady"}


def value_text(value, unit: str, decimals: int) -> str:
    """£4.12, 96.5%, 8.3 days; '–' for no value."""
    if value is None:
        return "–"
    number = format_number(value, decimals)
    if unit == "gbp":
        return f"£{number}"
    if unit == "percent":
        return f"{number}%"
    if unit in ("count", "ratio", "score"):
        return number
    return f"{number} {unit}"


def band_text(band: int | None) -> str:
    return "Not shown" if band is None else f"{band}: {BAND_LABELS[band]}"


def percentile_text(percentile: float | None) -> str:
    return "–" if percentile is None else format_number(percentile, 0)


def trend_text(direction: str | None) -> str:
    return TREND_TEXT.get(direction, "Not enough data")


HELPERS = {
    "value_text": value_text,
    "band_text_plain": band_text,
    "percentile_text_plain": percentile_text,
    "trend_text_plain": trend_text,
}
