"""The SVG chart builders: accessible names, escaping, and marks in the right places."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

from marketplace.benchmarks.charts import BoxRow, box_plot, element, nice_ticks, sparkline

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own markup, made in the test


def test_box_plot_is_a_named_image_with_the_numbers_in_its_description():
    svg = parse(
        box_plot(
            [BoxRow("Q2 2026", 7, 2.5, 3.25, 5.0, 6.75, 8.0, points=(2.5, 8.0), highlight=3.5)],
            chart_id="c1",
            title="AP cost per invoice",
            unit="£",
            decimals=2,
            higher_is_better=False,
        )
    )
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "AP cost per invoice"
    desc = svg.find(f"{SVG}desc").text
    assert "lower is better" in desc
    assert "Q2 2026: 7 centres, minimum 2.50, lower quartile 3.25, median 5.00" in desc
    assert "highlighted value 3.50" in desc
    marks = svg.find(f"{SVG}g")
    assert marks.get("aria-hidden") == "true"
    assert len(marks.findall(f"{SVG}circle")) == 2
    assert len(marks.findall(f"{SVG}path")) == 1  # the diamond
    box = marks.find(f"{SVG}rect")
    # the box spans the quartiles on the shared axis, left of the median bar
    assert float(box.get("x")) < float(box.get("x")) + float(box.get("width"))


def test_chart_text_is_escaped():
    markup = str(
        box_plot(
            [BoxRow("<b>Q1</b>", 5, 1, 2, 3, 4, 5)],
            chart_id='x" onload="alert(1)',
            title="<script>alert(1)</script>",
            unit="£",
            decimals=0,
            higher_is_better=True,
        )
    )
    assert "<script>" not in markup and "<b>" not in markup
    assert 'onload="alert' not in markup
    parse(markup)  # still well-formed
    spark = str(sparkline([("<i>", 1.0)], chart_id="s", title="<t>", decimals=1))
    assert "<i>" not in spark and "<t>" not in spark
    parse(spark)


def test_sparkline_leaves_gaps_and_marks_the_latest_value():
    svg = parse(
        sparkline(
            [("Q1", 1.0), ("Q2", None), ("Q3", 2.0), ("Q4", 3.0)],
            chart_id="s",
            title="Trend",
            decimals=1,
        )
    )
    assert svg.find(f"{SVG}desc").text == "Values oldest first: Q1 1.0, Q2 no data, Q3 2.0, Q4 3.0."
    marks = svg.find(f"{SVG}g")
    lines = marks.findall(f"{SVG}polyline")
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 2  # Q3 to Q4
    assert len(marks.findall(f"{SVG}circle")) == 2  # the lone Q1 point and the latest


def test_an_empty_chart_still_names_itself():
    svg = parse(sparkline([], chart_id="e", title="Nothing", decimals=0))
    assert svg.find(f"{SVG}desc").text == "No values."
    empty = parse(
        box_plot([], chart_id="b", title="None", unit="%", decimals=1, higher_is_better=True)
    )
    assert "No peer distribution can be shown" in empty.find(f"{SVG}desc").text


def test_nice_ticks_cover_the_range_with_round_steps():
    assert nice_ticks(0.13, 9.7) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(2, 2) == [2]
    ticks = nice_ticks(96.2, 99.9)
    assert ticks[0] <= 96.2 and ticks[-1] >= 99.9
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1


def test_element_escapes_attributes_and_text():
    assert (
        str(element("text", "a<b", x=1, class_='q"')) == '<text x="1" class="q&#34;">a&lt;b</text>'
    )
    assert re.fullmatch(
        r"<g aria-hidden=\"true\"><circle cx=\"1\"/></g>",
        str(element("g", [element("circle", cx=1)], aria_hidden="true")),
    )
