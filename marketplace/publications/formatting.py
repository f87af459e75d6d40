"""How published figures are written: one rounding and one style for reports and open data.

A figure is rounded once, half away from zero, to its metric's decimals, and that rounded
number is what the PDF, the HTML page, the league table, the CSV and the JSON all show —
so the open data holds exactly the figures in the reports.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from marketplace.benchmarks.statistics import BAND_LABELS

DASH = "–"
UNIT_SUFFIXES = {"percent": "%", "days": " days", "hours": " hours"}
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


def rounded(value, decimals: int) -> Decimal | None:
    if value is None:
        return None
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def plain(value, decimals: int) -> str:
    """A machine-readable figure: rounded, no separators ('' when there is none)."""
    number = rounded(value, decimals)
    return "" if number is None else f"{number:.{decimals}f}"


def figure(value, decimals: int, unit: str) -> str:
    """A figure for people: '£5.83', '95.2%', '8.3 days', '15,000'."""
    number = rounded(value, decimals)
    if number is None:
        return DASH
    text = f"{abs(number):,.{decimals}f}"
    sign = "−" if number < 0 else ""
    if unit == "gbp":
        return f"{sign}£{text}"
    return f"{sign}{text}{UNIT_SUFFIXES.get(unit, '')}"


def count(value) -> str:
    return DASH if value is None else f"{Decimal(value):,.0f}"


def percentile_text(value: float | None) -> str:
    return DASH if value is None else f"{rounded(value, 0):.0f}"


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


def date_text(day) -> str:
    return f"{day.day} {day:%B %Y}"


def datetime_text(moment) -> str:
    return f"{moment.day} {moment:%B %Y at %H:%M} UTC"
