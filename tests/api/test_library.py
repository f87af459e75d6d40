"""GET /api/v1/metrics, /metrics/<code>, /periods and /service-lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace import clock
from tests.api.helpers import assert_problem
from tests.factories import MetricFactory, ReportingPeriodFactory, ServiceLineFactory


@pytest.fixture
def library(db_session):
    finance = ServiceLineFactory(code="finance", name="Finance", position=1)
    payroll = ServiceLineFactory(code="payroll", name="Payroll", position=2)
    MetricFactory(
        code="ap_cost_per_invoice",
        name="Cost per invoice",
        service_line=finance,
        version=1,
        is_current=False,
        definition="AP cost ÷ invoices",
        position=1,
    )
    MetricFactory(
        code="ap_cost_per_invoice",
        name="Cost per invoice",
        service_line=finance,
        version=2,
        definition="total AP process cost ÷ invoices processed",
        position=1,
    )
    MetricFactory(
        percentage=True,
        code="invoices_paid_5_days",
        name="Invoices paid within 5 days",
        service_line=finance,
        target=Decimal("80"),
        position=2,
    )
    MetricFactory(
        percentage=True,
        code="payroll_accuracy",
        name="Payroll accuracy",
        service_line=payroll,
        position=1,
    )
    MetricFactory(code="old_measure", service_line=payroll, status="retired", position=2)


def test_the_library_lists_current_definitions_by_service_line(client, library):
    body = client.get("/api/v1/metrics").get_json()
    assert [m["code"] for m in body["data"]] == [
        "ap_cost_per_invoice",
        "invoices_paid_5_days",
        "payroll_accuracy",
        "old_measure",
    ]
    assert body["meta"]["total"] == 4
    cost = body["data"][0]
    assert cost["version"] == 2
    assert cost["service_line"] == "finance"
    assert cost["unit"] == "gbp" and cost["unit_label"] == "£"
    assert cost["direction"] == "lower"
    paid = body["data"][1]
    assert paid["valid_min"] == 0 and paid["valid_max"] == 100
    assert paid["target"] == 80
    assert paid["is_share"] is True


def test_the_library_filters_by_service_line_and_status(client, library):
    body = client.get("/api/v1/metrics?service_line=payroll&status=active").get_json()
    assert [m["code"] for m in body["data"]] == ["payroll_accuracy"]
    assert "service_line=payroll" in body["links"]["self"]
    body = assert_problem(client.get("/api/v1/metrics?status=deleted&service_line=tax"), 422)
    assert {error["field"] for error in body["errors"]} == {"status", "service_line"}


def test_a_metric_shows_its_current_definition_and_every_version(client, library):
    response = client.get("/api/v1/metrics/ap_cost_per_invoice")
    assert response.status_code == 200
    metric = response.get_json()
    assert metric["version"] == 2
    assert metric["definition"] == "total AP process cost ÷ invoices processed"
    assert [(v["version"], v["is_current"]) for v in metric["versions"]] == [
        (1, False),
        (2, True),
    ]
    assert metric["versions"][0]["definition"] == "AP cost ÷ invoices"


def test_an_unknown_metric_is_a_404_problem(client, library):
    body = assert_problem(client.get("/api/v1/metrics/no_such_metric"), 404)
    assert "no_such_metric" in body["detail"]


def test_periods_are_listed_newest_first_and_filter_by_status(client, db_session):
    ReportingPeriodFactory(year=2026, quarter=1, status="closed")
    ReportingPeriodFactory(year=2026, quarter=3, status="open")
    ReportingPeriodFactory(year=2025, quarter=4, status="published", published_at=clock.now())
    body = client.get("/api/v1/periods").get_json()
    assert [p["code"] for p in body["data"]] == ["2026-Q3", "2026-Q1", "2025-Q4"]
    q3 = body["data"][0]
    assert q3["label"] == "Q3 2026"
    assert (q3["starts_on"], q3["ends_on"]) == ("2026-07-01", "2026-09-30")
    assert q3["status"] == "open"
    assert body["data"][2]["published_at"].startswith("2026-11-27T09:00:00")
    closed = client.get("/api/v1/periods?status=closed").get_json()
    assert [p["code"] for p in closed["data"]] == ["2026-Q1"]
    assert_problem(client.get("/api/v1/periods?status=finished"), 422)


def test_service_lines_are_listed_in_their_order(client, db_session):
    ServiceLineFactory(code="payroll", name="Payroll", position=2, description="Paying people.")
    ServiceLineFactory(code="finance", name="Finance", position=1)
    body = client.get("/api/v1/service-lines").get_json()
    assert [line["code"] for line in body["data"]] == ["finance", "payroll"]
    assert body["data"][1] == {
        "code": "payroll",
        "name": "Payroll",
        "description": "Paying people.",
    }
    assert body["meta"] == {"page": 1, "per_page": 20, "total": 2, "pages": 1}


def test_reference_lists_page_like_every_list(client, library):
    body = client.get("/api/v1/metrics?per_page=3&page=2").get_json()
    assert [m["code"] for m in body["data"]] == ["old_measure"]
    assert body["meta"] == {"page": 2, "per_page": 3, "total": 4, "pages": 2}
    assert body["links"]["next"] is None
    assert "page=1" in body["links"]["prev"]
    assert_problem(client.get("/api/v1/service-lines?per_page=1000"), 422)
