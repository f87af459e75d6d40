"""Accessible SVG charts for benchmark pages, built as escaped markup (no JavaScript).

Every chart is an <svg role="img"> named by its own <title> and <desc> through
aria-labelledby, so a screen reader announces what it shows; the pages always print the same
numbers in a table beside it. Colours are presentation attributes (the content security
policy forbids style attributes) and marks differ by shape as well as colour. Every element
is made by `element`, which escapes attribute values and text: no caller builds raw markup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from marketplace import formatting

INK = "#0b0c0c"
GREY = "#505a5f"
LIGHT = "#b1b4b6"
BOX = "#1d70b8"
BOX_FILL = "#d2e2f1"
HIGHLIGHT = "#d4351c"
SVG_NS = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class BoxRow:
    """One peer distribution (say one period): five figures and, optionally, the points."""

    label: str
    n: int
    minimum: float
    p25: float
    median: float
    p75: float
    maximum: float
    points: Sequence[float] = field(default_factory=tuple)
    highlight: float | None = None  # one centre's own value, drawn as a diamond


def element(name: str, children: Iterable[Markup] | str | None = None, **attrs) -> Markup:
    """<name attr="…">children</name>; a str child is text (escaped), Markup is kept.

    Attribute names use '_' for '-' (stroke_width -> stroke-width); None values are left out.
    Pages draw hundreds of these, so the markup is joined as text: every attribute value and
    every str child goes through escape(), names are our own identifiers, and Markup
    children were built here the same way.
    """
    rendered = "".join(
        f' {key.rstrip("_").replace("_", "-")}="'
        f'{value if isinstance(value, int | float) else escape(value)}"'
        for key, value in attrs.items()
        if value is not None
    )
    if children is None:
        return Markup(f"<{name}{rendered}/>")  # noqa: S704 - values escaped above
    body = escape(children) if isinstance(children, str) else "".join(children)
    return Markup(f"<{name}{rendered}>{body}</{name}>")  # noqa: S704 - children escaped


def fmt(value: float | None, decimals: int) -> str:
    if value is None:
        return "no data"
    # The same rounding as every other figure (half up), so a label matches its table cell.
    return formatting.number(value, decimals)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering low..high (1, 2 or 5 times a power of ten apart)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        return [low]
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    tick = math.floor(low / step) * step
    ticks = []
    while tick <= high + step * 1e-9:
        ticks.append(round(tick, 10))
        tick += step
    if ticks[-1] < high:
        ticks.append(round(tick, 10))
    return ticks


def _svg(
    chart_id: str,
    width: int,
    height: int,
    title: str,
    desc: str,
    css: str,
    marks: list[Markup],
    *,
    fluid: bool = True,
) -> Markup:
    return element(
        "svg",
        [
            element("title", title, id=f"{chart_id}-title"),
            element("desc", desc, id=f"{chart_id}-desc"),
            element("g", marks, aria_hidden="true"),
        ],
        xmlns=SVG_NS,
        class_=css,
        role="img",
        viewBox=f"0 0 {width} {height}",
        width="100%" if fluid else width,
        height=None if fluid else height,
        preserveAspectRatio="xMinYMin meet",
        aria_labelledby=f"{chart_id}-title {chart_id}-desc",
        focusable="false",
    )


def _line(x1, y1, x2, y2, *, stroke=INK, width=1.5, dash=None) -> Markup:
    return element(
        "line",
        x1=x1,
        y1=y1,
        x2=x2,
        y2=y2,
        stroke=stroke,
        stroke_width=width,
        stroke_dasharray=dash,
    )


def _text(x, y, text: str, *, anchor: str, size: int = 12, fill: str = GREY) -> Markup:
    return element("text", text, x=x, y=y, font_size=size, text_anchor=anchor, fill=fill)


# Box plot layout, in SVG units: the label column, right margin, one row per distribution,
# the space above the first row and the axis with its tick labels below the last.
BOX_PLOT_LABEL_WIDTH = 110
BOX_PLOT_RIGHT_PAD = 20
BOX_PLOT_ROW_HEIGHT = 40
BOX_PLOT_TOP = 10
BOX_PLOT_AXIS_HEIGHT = 34


def box_plot(
    rows: Sequence[BoxRow],
    *,
    chart_id: str,
    title: str,
    unit: str,
    decimals: int,
    higher_is_better: bool,
    width: int = 640,
) -> Markup:
    """Horizontal box plots, one row per distribution, on a shared axis.

    Whiskers run from minimum to maximum, the box from the lower to the upper quartile, the
    thick bar is the median; peers' values are small circles and a highlighted value a diamond.
    """
    height = BOX_PLOT_TOP + BOX_PLOT_ROW_HEIGHT * max(len(rows), 1) + BOX_PLOT_AXIS_HEIGHT
    desc = _box_description(rows, unit, decimals, higher_is_better)
    values = [
        v
        for row in rows
        for v in (row.minimum, row.maximum, *row.points, row.highlight)
        if v is not None
    ]
    marks: list[Markup] = []
    if values:
        ticks = nice_ticks(min(values), max(values))
        x = _box_scale(values, ticks, width)
        marks += _box_axis(ticks, x, len(rows), decimals, width)
        for index, row in enumerate(rows):
            marks += _box_row(
                row, x, BOX_PLOT_TOP + BOX_PLOT_ROW_HEIGHT * index + BOX_PLOT_ROW_HEIGHT / 2
            )
    return _svg(chart_id, width, height, title, desc, "app-chart app-chart--box", marks)


def _box_description(
    rows: Sequence[BoxRow], unit: str, decimals: int, higher_is_better: bool
) -> str:
    """Every figure the plot shows, in words, for the <desc> a screen reader announces."""
    better = "higher" if higher_is_better else "lower"
    described = "; ".join(
        f"{row.label}: {row.n} centres, minimum {fmt(row.minimum, decimals)}, lower quartile "
        f"{fmt(row.p25, decimals)}, median {fmt(row.median, decimals)}, upper quartile "
        f"{fmt(row.p75, decimals)}, maximum {fmt(row.maximum, decimals)}"
        + (
            f", highlighted value {fmt(row.highlight, decimals)}"
            if row.highlight is not None
            else ""
        )
        for row in rows
    )
    return (
        f"Box plot in {unit}; {better} is better. "
        + (described if rows else "No peer distribution can be shown")
        + ". The same figures are in the table that follows."
    )


def _box_scale(values: list[float], ticks: list[float], width: int):
    """value -> x, covering every value and every tick between the labels and the margin."""
    low, high = min([*values, *ticks]), max([*values, *ticks])
    span = (high - low) or 1.0
    plot_width = width - BOX_PLOT_RIGHT_PAD - BOX_PLOT_LABEL_WIDTH

    def x(value: float) -> float:
        return round(BOX_PLOT_LABEL_WIDTH + (value - low) / span * plot_width, 2)

    return x


def _box_axis(ticks: list[float], x, row_count: int, decimals: int, width: int) -> list[Markup]:
    """Dashed grid lines at the ticks, their labels, and the axis line below the rows."""
    axis_y = BOX_PLOT_TOP + BOX_PLOT_ROW_HEIGHT * row_count + 4
    tick_decimals = 0 if all(t == int(t) for t in ticks) else decimals
    marks: list[Markup] = []
    for tick in ticks:
        marks.append(
            _line(x(tick), BOX_PLOT_TOP, x(tick), axis_y, stroke=LIGHT, width=1, dash="2 3")
        )
        marks.append(_text(x(tick), axis_y + 16, fmt(tick, tick_decimals), anchor="middle"))
    marks.append(_line(BOX_PLOT_LABEL_WIDTH, axis_y, width - BOX_PLOT_RIGHT_PAD, axis_y, width=1))
    return marks


def _box_row(row: BoxRow, x, mid: float) -> list[Markup]:
    """One distribution: label, whiskers, box, median, the peers' points and the highlight."""
    lo, hi = x(row.minimum), x(row.maximum)
    marks = [
        _text(BOX_PLOT_LABEL_WIDTH - 8, mid + 4, row.label, anchor="end", size=13, fill=INK),
        _line(lo, mid, hi, mid),
        _line(lo, mid - 6, lo, mid + 6),
        _line(hi, mid - 6, hi, mid + 6),
        element(
            "rect",
            x=x(row.p25),
            y=mid - 11,
            width=max(round(x(row.p75) - x(row.p25), 2), 1),
            height=22,
            fill=BOX_FILL,
            stroke=BOX,
            stroke_width=1.5,
        ),
        _line(x(row.median), mid - 11, x(row.median), mid + 11, width=3),
    ]
    marks += [
        element("circle", cx=x(p), cy=mid, r=2.5, fill="none", stroke=GREY, stroke_width=1)
        for p in row.points
    ]
    if row.highlight is not None:
        hx = x(row.highlight)
        marks.append(
            element(
                "path",
                d=f"M{hx} {mid - 8} L{hx + 7} {mid} L{hx} {mid + 8} L{hx - 7} {mid} Z",
                fill=HIGHLIGHT,
                stroke=INK,
                stroke_width=1,
            )
        )
    return marks


def sparkline(
    points: Sequence[tuple[str, float | None]],
    *,
    chart_id: str,
    title: str,
    decimals: int,
    width: int = 96,
    height: int = 28,
) -> Markup:
    """A small line of one series over time, with gaps where a period has no value.

    points are (period label, value) pairs, oldest first; the description lists them all.
    The comparison page draws ~200 of these, so this one is written as a single template:
    the only text in it (id, title, description) is escaped; the rest are our numbers.
    """
    listed = ", ".join(f"{label} {fmt(value, decimals)}" for label, value in points)
    desc = f"Values oldest first: {listed}." if points else "No values."
    marks: list[str] = []
    values = [value for _label, value in points if value is not None]
    if values:
        low, high = min(values), max(values)
        pad = 4
        step = (width - 2 * pad) / max(len(points) - 1, 1)
        scale = (height - 2 * pad) / (high - low) if high != low else 0.0
        segment: list[str] = []
        last = ""
        for index, (_label, value) in enumerate([*points, ("", None)]):
            if value is None:
                if len(segment) == 1:
                    cx, cy = segment[0].split(",")
                    marks.append(f'<circle cx="{cx}" cy="{cy}" r="1.5" fill="{BOX}"/>')
                elif len(segment) > 1:
                    marks.append(
                        f'<polyline points="{" ".join(segment)}" fill="none" stroke="{BOX}" '
                        'stroke-width="1.5" stroke-linejoin="round"/>'
                    )
                segment = []
                continue
            y = height / 2 if not scale else height - pad - (value - low) * scale
            last = f"{pad + index * step:.2f},{y:.2f}"
            segment.append(last)
        if last:
            cx, cy = last.split(",")
            marks.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{BOX}"/>')
    ident = escape(chart_id)
    return Markup(  # noqa: S704 - chart_id, title and desc escaped; the rest are numbers
        f'<svg xmlns="{SVG_NS}" class="app-chart app-chart--spark" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{ident}-title {ident}-desc" '
        f'focusable="false"><title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
        f'<g aria-hidden="true">{"".join(marks)}</g></svg>'
    )
