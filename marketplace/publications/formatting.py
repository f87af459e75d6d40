"""What is particular to the published reports: sections, trend words, bands and targets.

How a figure is rounded and written (figure, plain, count, dates) is marketplace/formatting.py,
shared with the web pages and CSV exports, so the open data, the PDF and the pages all hold
exactly the same figures. Those names are re-exported here for the report modules.
"""

from __future__ import annotations

import re

from marketplace.benchmarks.statistics import BAND_LABELS
from marketplace.formatting import (  # noqa: F401 (re-exported for the report modules)
    DASH,
    count,
    date_text,
    datetime_text,
    figure,
    plain,
    rounded,
    unit_name,
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
# The word says whether the figure got better or worse, whichever direction is better; the
# arrow says which way the figure moved, and its text alternative (the SVG's <title>, the PDF
# figure's /Alt) says what that movement means: a cost that fell is "Improved", drawn ▼.
TREND_WORDS = {
    "improved": "Improved",
    "worsened": "Worsened",
    "unchanged": "No change",
}
NO_TARGET = "No target"
MOVEMENTS = {"up": "up from", "down": "down from", "level": "the same as"}
# Abbreviations in the metric library's labels, written out in prose.
_SPELLED_OUT = (
    (re.compile(r"\bFTEs\b"), "full-time equivalents"),
    (re.compile(r"\bFTE\b"), "full-time equivalent"),
)


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


def movement(current, previous, decimals: int) -> str | None:
    """up / down / level: which way the published figure moved."""
    if current is None or previous is None:
        return None
    now, before = rounded(current, decimals), rounded(previous, decimals)
    return "level" if now == before else ("up" if now > before else "down")


def trend_marks(current, previous, decimals: int, direction: str, previous_text: str) -> dict:
    """The trend cell: arrow (which way), its alternative and the words (better or worse)."""
    judged = trend(current, previous, decimals, direction)
    if judged is None:
        return {
            "trend": None,
            "trend_arrow": "",
            "trend_alt": "",
            "trend_text": "No earlier figure",
        }
    moved = movement(current, previous, decimals)
    word = TREND_WORDS[judged]
    return {
        "trend": judged,
        "trend_arrow": moved,
        "trend_alt": word,
        "trend_text": f"{word}: {MOVEMENTS[moved]} {previous_text}",
    }


def label_text(label: str) -> str:
    """A metric library label for prose: abbreviations written out, capitals kept."""
    for pattern, words in _SPELLED_OUT:
        label = pattern.sub(words, label)
    return label


def in_sentence(label: str) -> str:
    """A label inside a sentence: 'Invoices processed' -> 'invoices processed', 'HR FTEs' kept."""
    text = label_text(label)
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first[1:] == first[1:].lower():
        return text[:1].lower() + text[1:]
    return text


def target_met(value, target, decimals: int, direction: str) -> bool | None:
    if value is None or target is None:
        return None
    shown, goal = rounded(value, decimals), rounded(target, decimals)
    return shown == goal or is_better(shown, goal, direction)


def target_status(met: bool | None) -> str:
    """'Met' or 'Missed' against a set target; the dash where no target is set."""
    if met is None:
        return DASH
    return "Met" if met else "Missed"


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
