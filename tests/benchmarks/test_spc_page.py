"""The early-warning section of a centre's page and the method on /methodology."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event

from marketplace.benchmarks.centre_page import early_warnings
from marketplace.benchmarks.visibility import audience_for
from marketplace.extensions import db
from tests.factories import MetricFactory, ObservationFactory, ReportingPeriodFactory

PUBLISHED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def quarters(count: int):
    for i in range(2021 * 4, 2021 * 4 + count):
        yield i // 4, i % 4 + 1


def record(centre, metric, values, status="published"):
    for (year, quarter), value in zip(quarters(len(values)), values, strict=True):
        period = ReportingPeriodFactory(
            year=year,
            quarter=quarter,
            status=status,
            published_at=PUBLISHED_AT if status == "published" else None,
        )
        ObservationFactory(centre=centre, metric=metric, period=period, value=Decimal(value))


@pytest.fixture
def charted(personas):
    centre = personas["centre"]
    cost = MetricFactory(code="ap_cost_per_invoice", name="Cost per invoice", target=Decimal("20"))
    accuracy = MetricFactory(code="payroll_accuracy", name="Payroll accuracy", percentage=True)
    record(centre, cost, ["10", "11"] * 6 + ["30"])  # the last is a concern (a cost)
    record(centre, accuracy, ["97", "98", "97"])  # too few for limits
    return centre


def test_the_centre_page_charts_each_metric_with_words_and_numbers(client, charted):
    html = client.get("/centres/centre-a").get_data(as_text=True)
    assert 'id="early-warning"' in html and "Early warning: figures over time" in html
    assert "Cost per invoice" in html and "Payroll accuracy" in html
    # The Making Data Count words, as text.
    assert "Special cause concerning variation" in html
    assert "The target will consistently be met" in html  # £20 is above the whole process
    assert "Not enough quarters in the latest segment to judge" in html
    # An accessible chart: named and described, with the figures in a table too.
    assert 'role="img"' in html and 'aria-labelledby="spc-ap_cost_per_invoice-title' in html
    assert "XmR chart in £; lower is better." in html
    assert "Q1 2024 30.00 concern" in html  # the special-cause point, in the description
    assert "outside a process limit" in html
    assert "£30.00" in html and "2024-Q1" in html


def test_the_section_says_so_when_there_is_nothing_to_chart(client, personas):
    html = client.get("/centres/centre-a").get_data(as_text=True)
    assert "No figures have been published for this centre yet." in html


def test_closed_periods_are_charted_for_the_centre_only(as_persona, personas):
    metric = MetricFactory(code="ap_cost_per_invoice", name="Cost per invoice")
    record(personas["centre"], metric, ["10", "11", "12"], status="closed")
    public = as_persona("buyer").get("/centres/centre-a").get_data(as_text=True)
    own = as_persona("centre_user").get("/centres/centre-a").get_data(as_text=True)
    assert "spc-ap_cost_per_invoice" not in public
    assert "spc-ap_cost_per_invoice" in own


def test_every_series_of_the_centre_comes_from_two_queries(personas):
    # The figures, then the metrics they were collected under: two, whatever the number of
    # metrics (a Metric entity per figure cost a national /compare 40 ms a centre).
    centre = personas["centre"]
    for n in range(6):
        record(centre, MetricFactory(code=f"metric_{n:02d}"), [str(10 + n % 3) for n in range(9)])
    db.session.flush()
    db.session.expire_all()
    _ = centre.name  # the page has the centre already
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        warnings = early_warnings(centre, None)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(warnings) == 6
    assert all(len(w.chart.segments[0].points) == 9 for w in warnings)
    assert len(statements) == 2


def test_the_audience_is_the_viewers(personas):
    assert audience_for(personas["centre_user"]).own_centre_id == personas["centre"].id


def test_the_methodology_explains_the_charts(client, db_session):
    html = client.get("/methodology").get_data(as_text=True)
    assert 'id="early-warning"' in html
    for words in (
        "3.267",
        "2.66",
        "7 or more",
        "Common cause variation",
        "Special cause improving variation",
        "Special cause concerning variation",
        "hit and miss",
        "provisional",
    ):
        assert words in html, words
