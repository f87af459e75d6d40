"""An accessible SVG of one XmR (statistical process control) chart, in the style of charts.py.

The <svg role="img"> is named by its <title> and described by its <desc>, which says in
words what the chart shows (mean, limits, and every special-cause point); the page prints
every figure in a table beside it. Points differ by shape as well as colour (the Making
Data Count colours: grey common cause, blue improvement, orange concern); each segment (a
metric version) has its own mean and limits, and a dashed rule marks the break.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from marketplace.benchmarks import spc
from marketplace.benchmarks.charts import GREY, INK, LIGHT, SVG_NS, element, fmt, nice_ticks
from marketplace.benchmarks.readings import label_for as quarter_label
from marketplace.errors import ValidationFailed

IMPROVEMENT_BLUE = "#1d70b8"
CONCERN_ORANGE = "#f47738"
LIMIT_COLOUR = "#505a5f"

WIDTH = 640
HEIGHT = 240
LEFT = 70  # room for the value labels
RIGHT = 16
TOP = 12
BOTTOM = 40  # room for the period labels
SEGMENT_GAP = 1  # empty slots between segments


def label_for(code: str) -> str:
    """'2026-Q1' -> 'Q1 2026'; any other period name as it is."""
    try:
        return quarter_label(code)
    except ValidationFailed:
        return code


def _marker(kind: str, x: float, y: float) -> Markup:
    """Common cause: a grey circle; improvement: a blue square; concern: an orange triangle."""
    if kind == spc.IMPROVEMENT:
        return element(
            "rect", x=x - 4.5, y=y - 4.5, width=9, height=9, fill=IMPROVEMENT_BLUE, stroke=INK,
            stroke_width=1,
        )  # fmt: skip
    if kind == spc.CONCERN:
        return element(
            "path", d=f"M{x} {y - 6} L{x + 6} {y + 5} L{x - 6} {y + 5} Z", fill=CONCERN_ORANGE,
            stroke=INK, stroke_width=1,
        )  # fmt: skip
    return element("circle", cx=x, cy=y, r=3.5, fill="#ffffff", stroke=GREY, stroke_width=1.5)


def _line(x1, y1, x2, y2, *, stroke, width=1.0, dash=None) -> Markup:
    return element(
        "line", x1=x1, y1=y1, x2=x2, y2=y2, stroke=stroke, stroke_width=width,
        stroke_dasharray=dash,
    )  # fmt: skip


def _text(x, y, text: str, *, anchor: str) -> Markup:
    return element("text", text, x=x, y=y, font_size=11, text_anchor=anchor, fill=GREY)


def description(chart: spc.Chart, *, unit: str, decimals: int, higher_is_better: bool) -> str:
    """Everything the chart shows, in words, for the <desc> a screen reader announces."""
    better = "higher" if higher_is_better else "lower"
    parts = [f"XmR chart in {unit}; {better} is better."]
    for number, segment in enumerate(chart.segments, start=1):
        first, last = segment.points[0], segment.points[-1]
        head = (
            f"Segment {number}, {label_for(first.period)} to {label_for(last.period)}, "
            f"{len(segment.points)} points, mean {fmt(segment.mean, decimals)}"
        )
        lim = segment.limits
        if lim is None:
            head += ", too few points for limits"
        else:
            head += f", process limits {fmt(lim.lower, decimals)} to {fmt(lim.upper, decimals)}" + (
                " (provisional)" if segment.provisional else ""
            )
        special = [p for p in segment.points if p.kind != spc.COMMON_CAUSE]
        if lim is not None:
            head += (
                "; special cause: "
                + ", ".join(
                    f"{label_for(p.period)} {fmt(p.value, decimals)} "
                    f"{spc.KIND_LABELS[p.kind].lower()}"
                    for p in special
                )
                if special
                else "; every point common cause"
            )
        parts.append(head + ".")
    if chart.variation is not None:
        parts.append(f"{spc.VARIATION_LABELS[chart.variation]}.")
    parts.append("The same figures are in the table that follows.")
    return " ".join(parts)


def _scale(chart: spc.Chart):
    values = [p.value for s in chart.segments for p in s.points]
    for s in chart.segments:
        if s.limits is not None:
            values += [s.limits.upper, s.limits.lower]
    ticks = nice_ticks(min(values), max(values), 4)
    low, high = min([*values, *ticks]), max([*values, *ticks])
    span = (high - low) or 1.0

    def y(value: float) -> float:
        return round(TOP + (high - value) / span * (HEIGHT - TOP - BOTTOM), 2)

    return ticks, y


def svg(
    chart: spc.Chart,
    *,
    chart_id: str,
    title: str,
    unit: str,
    decimals: int,
    higher_is_better: bool,
) -> Markup:
    """The chart: points joined within each segment, its mean (solid) and limits (dashed)."""
    desc = description(chart, unit=unit, decimals=decimals, higher_is_better=higher_is_better)
    marks: list[Markup] = []
    if chart.segments:
        marks = _marks(chart.segments, *_scale(chart), decimals)
    return element(
        "svg",
        [
            element("title", title, id=f"{chart_id}-title"),
            element("desc", desc, id=f"{chart_id}-desc"),
            element("g", marks, aria_hidden="true"),
        ],
        xmlns=SVG_NS,
        class_="app-chart app-chart--spc",
        role="img",
        viewBox=f"0 0 {WIDTH} {HEIGHT}",
        width="100%",
        preserveAspectRatio="xMinYMin meet",
        aria_labelledby=f"{chart_id}-title {chart_id}-desc",
        focusable="false",
    )


def _marks(segments: Sequence[spc.Segment], ticks, y, decimals: int) -> list[Markup]:
    slots = sum(len(s.points) for s in segments) + SEGMENT_GAP * (len(segments) - 1)
    step = (WIDTH - LEFT - RIGHT) / max(slots, 1)

    def x(slot: int) -> float:
        return round(LEFT + step * (slot + 0.5), 2)

    axis_y = HEIGHT - BOTTOM
    tick_decimals = 0 if all(t == int(t) for t in ticks) else decimals
    marks = [_line(LEFT, y(t), WIDTH - RIGHT, y(t), stroke=LIGHT, dash="2 3") for t in ticks] + [
        _text(LEFT - 6, y(t) + 4, fmt(t, tick_decimals), anchor="end") for t in ticks
    ]
    marks.append(_line(LEFT, axis_y, WIDTH - RIGHT, axis_y, stroke=INK))
    slot = 0
    for index, segment in enumerate(segments):
        first, last = x(slot), x(slot + len(segment.points) - 1)
        if index:
            gap = round(first - step * (SEGMENT_GAP + 1) / 2, 2)
            marks.append(_line(gap, TOP, gap, axis_y, stroke=INK, dash="6 4"))
        if segment.limits is not None:
            lim = segment.limits
            for value, dash in ((lim.upper, "6 3"), (lim.lower, "6 3")):
                marks.append(_line(first, y(value), last, y(value), stroke=LIMIT_COLOUR, dash=dash))
            for value in (lim.near_upper, lim.near_lower):
                marks.append(_line(first, y(value), last, y(value), stroke=LIGHT, dash="1 3"))
        if segment.mean is not None:
            marks.append(
                _line(first, y(segment.mean), last, y(segment.mean), stroke=INK, width=1.5)
            )
        points = " ".join(f"{x(slot + i)},{y(p.value)}" for i, p in enumerate(segment.points))
        marks.append(
            element("polyline", points=points, fill="none", stroke=LIGHT, stroke_width=1.5)
        )
        marks += [_marker(p.kind, x(slot + i), y(p.value)) for i, p in enumerate(segment.points)]
        marks.append(_text(first, axis_y + 16, label_for(segment.points[0].period), anchor="start"))
        if len(segment.points) > 1:
            marks.append(
                _text(last, axis_y + 30, label_for(segment.points[-1].period), anchor="end")
            )
        slot += len(segment.points) + SEGMENT_GAP
    return marks
