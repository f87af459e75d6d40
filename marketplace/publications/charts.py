"""Geometry of a report's trend charts, as primitives: the template only draws what is here.

A chart plots one metric over the last quarters: the centre's published value and, where
the peer group is large enough to disclose, the peer median. A gap in the data or a change
of the metric's definition (a new version) breaks the line, so a series never joins figures
that are not comparable. The same numbers are printed in a table beside every chart.
"""

from __future__ import annotations

from marketplace.benchmarks.charts import nice_ticks
from marketplace.publications import formatting

# Small multiples, three to a row on A4: few labels, large enough to read at that size.
WIDTH, HEIGHT = 300, 150
LEFT, RIGHT, TOP, BOTTOM = 64, 22, 10, 26


def trend_chart(points: list[dict], *, decimals: int, unit: str, name: str) -> dict:
    """points: oldest first, each {label, value, median, version} (value/median may be None)."""
    values = [p[key] for p in points for key in ("value", "median") if p[key] is not None]
    if sum(1 for p in points if p["value"] is not None) < 2:
        return {"empty": True}  # one figure makes no trend; the table shows it
    low, high = min(values), max(values)
    if low == high:
        low, high = low - abs(low) * 0.1 - 1, high + abs(high) * 0.1 + 1
    ticks = nice_ticks(low, high, 3)
    low, high = min(ticks[0], low), max(ticks[-1], high)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def x(index: int) -> float:
        return round(LEFT + (index * step if len(points) > 1 else plot_w / 2), 1)

    def y(value: float) -> float:
        return round(TOP + plot_h - (value - low) / (high - low) * plot_h, 1)

    breaks = [
        round((x(i - 1) + x(i)) / 2, 1)
        for i in range(1, len(points))
        if points[i]["version"] != points[i - 1]["version"]
    ]
    return {
        "empty": False,
        "width": WIDTH,
        "height": HEIGHT,
        "plot": {"left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": TOP + plot_h},
        "y_ticks": [
            {"y": y(t), "text": formatting.figure(t, _tick_decimals(ticks), unit)} for t in ticks
        ],
        # The first and last quarters only: the table beside the charts names every one.
        "x_labels": [
            {"x": x(i), "text": p["label"], "anchor": "start" if i == 0 else "end"}
            for i, p in enumerate(points)
            if i in (0, len(points) - 1)
        ],
        "value_lines": _segments(points, "value", x, y),
        "median_lines": _segments(points, "median", x, y),
        "value_dots": [
            {"x": x(i), "y": y(p["value"])} for i, p in enumerate(points) if p["value"] is not None
        ],
        "breaks": breaks,
        "title": f"{name}: trend over the last {len(points)} quarters",
        "description": _describe(points, decimals, unit),
    }


def _segments(points, key, x, y) -> list[str]:
    """Polyline point lists, broken at gaps and at changes of definition version."""
    segments: list[list[str]] = []
    current: list[str] = []
    previous_version = None
    for index, point in enumerate(points):
        value = point[key]
        if value is None or (current and point["version"] != previous_version):
            if len(current) > 1:
                segments.append(current)
            current = []
        if value is not None:
            current.append(f"{x(index)},{y(value)}")
            previous_version = point["version"]
    if len(current) > 1:
        segments.append(current)
    return [" ".join(segment) for segment in segments]


def _describe(points, decimals, unit) -> str:
    own = "; ".join(
        f"{p['label']} {formatting.figure(p['value'], decimals, unit)}"
        for p in points
        if p["value"] is not None
    )
    medians = "; ".join(
        f"{p['label']} {formatting.figure(p['median'], decimals, unit)}"
        for p in points
        if p["median"] is not None
    )
    text = f"Centre's values, oldest first: {own}."
    if medians:
        text += f" Peer median: {medians}."
    return text


def _tick_decimals(ticks: list[float]) -> int:
    if len(ticks) < 2:
        return 0
    step = abs(ticks[1] - ticks[0])
    for decimals in range(0, 4):
        if abs(round(step, decimals) - step) < 1e-9:
            return decimals
    return 4
