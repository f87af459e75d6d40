"""The benchmarks section of a centre's profile: value, peer median, band and 8-quarter trend."""

from __future__ import annotations

import re

import pytest

from marketplace.benchmarks.centre_profile import centre_benchmarks


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(page: str) -> str:
    match = re.search(r'id="peer-benchmarks".*?</table>', page, re.S)
    assert match, "no benchmarks section"
    return match.group(0)


def test_public_profile_shows_the_latest_published_period(bench, as_persona):
    page = as_persona("anonymous").get("/centres/centre-a").get_data(as_text=True)
    text = text_of(section(page))
    assert "Figures for Q2 2026" in text
    assert "Not yet published" not in text
    # value, peer median, band and the trend (cost fell 4.00 -> 3.50: improving)
    assert "AP cost per invoice Lower is better £3.50 £5.00 2: Second quartile" in text
    assert "Improving" in text
    # payroll accuracy: four centres, below the threshold: no median, no band
    assert "Payroll accuracy" in text
    assert "Fewer than 5 centres" in text


def test_trend_chart_is_accessible_and_lists_the_quarters(bench, as_persona):
    page = as_persona("anonymous").get("/centres/centre-a").get_data(as_text=True)
    svg = re.search(
        r'<svg[^>]*aria-labelledby="trend-ap_cost_per_invoice-title.*?</svg>', page, re.S
    )
    assert svg
    assert 'role="img"' in svg.group(0)
    assert "Q3 2025 no data" in svg.group(0)
    assert "Q1 2026 4.00, Q2 2026 3.50" in svg.group(0)


@pytest.mark.parametrize("persona", ["buyer", "alb_buyer", "admin"])
def test_buyers_and_admins_see_the_validated_period_marked(bench, as_persona, persona):
    text = text_of(section(as_persona(persona).get("/centres/centre-a").get_data(as_text=True)))
    assert "Figures for Q3 2026 Not yet published" in text
    assert "£3.20 £5.10" in text


def test_a_centre_sees_its_own_unpublished_figures_without_statistics(bench, as_persona):
    text = text_of(section(as_persona("centre_user").get("/centres/centre-a").get_data(True)))
    assert "Figures for Q3 2026 Not yet published" in text
    assert "£3.20" in text
    assert "£5.10" not in text  # the unpublished median is not shown to a centre
    other = text_of(
        section(as_persona("other_centre_user").get("/centres/centre-a").get_data(True))
    )
    assert "Figures for Q2 2026" in other


def test_centre_benchmarks_rows(bench, personas):
    result = centre_benchmarks(bench.centres[0], None)
    assert result.period.code == "2026-Q2"
    cost = next(r for r in result.rows if r.metric.code == "ap_cost_per_invoice")
    assert (cost.median, cost.band, cost.direction) == (5.0, 2, "improving")
    assert [v for _label, v in cost.trend][-2:] == [4.0, 3.5]
    assert len(cost.trend) == 8


def test_no_figures_yet(personas, as_persona):
    page = as_persona("anonymous").get("/centres/centre-a").get_data(as_text=True)
    assert "No benchmark figures have been published for this centre yet." in page
