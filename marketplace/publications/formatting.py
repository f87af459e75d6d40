"""What is particular to the published reports: sections, trend words, bands and targets.

How a figure is rounded and written (figure, plain, count, dates) is marketplace/formatting.py,
shared with the web pages and CSV exports, so the open data, the PDF and the pages all hold
exactly the same figures. Those names are re-exported here for the report modules.
"""

from __future__ import annotations

from marketplace.benchmarks.statistics import BAND_LABELS
from marketplace.formatting import (  # noqa: F401 (re-exported for the report modules)
    DASH,
    count,
    date_text,
    datetime_text,
    figure,
    plain,
    rounded,
)

SECTIONS = {
    "volumes": "Volumes",
    "cost": "Cost and unit cost",
    "quality": "Quality and errors",
    "satisfaction": "Satisfaction",
    "service_levels": "Service levels met and missed",
}
# Metrics whose figure is a service level (a share of cases that met a standard) or a
# satisfaction survey result; the rest are placed by unit (see section_for).
SERVICE_LEVEL_CODES = frozenset(
    {"sla_attainment", "invoices_paid_5_days", "invoices_paid_30_days", "calls_answered_30s"}
)
SATISFACTION_CODES = frozenset({"user_satisfaction", "net_promoter_score"})
TREND_WORDS = {
    "improved": ("▲", "Improved"),
    "worsened": ("▼", "Worsened"),
    "unchanged": ("▶", "No change"),
}


def percentile_text(value: float | None) -> str:
    # Also the open data's percentile column, so a machine figure (no separators).
    return DASH if value is None else plain(value, 0)


def band_label(band: int | None) -> str:
    return BAND_LABELS.get(band, "Not banded") if band else "Not banded"


def is_better(a, b, direction: str) -> bool:
    return a > b if direction == "higher" else a < b


def trend(current, previous, decimals: int, direction: str) -> str | None:
    """improved / worsened / unchanged against the previous period, on the published figures."""
    if current is None or previous is None:
        return None
    now, before = rounded(current, decimals), rounded(previous, decimals)
    if now == before:
        return "unchanged"
    return "improved" if is_better(now, before, direction) else "worsened"


def target_met(value, target, decimals: int, direction: str) -> bool | None:
    if value is None or target is None:
        return None
    shown, goal = rounded(value, decimals), rounded(target, decimals)
    return shown == goal or is_better(shown, goal, direction)


def section_for(code: str, unit: str) -> str:
    if code in SERVICE_LEVEL_CODES:
        return "service_levels"
    if code in SATISFACTION_CODES:
        return "satisfaction"
    if unit == "gbp":
        return "cost"
    if unit in ("count", "ratio"):
        return "volumes"
    return "quality"
