"""GET /api/v1/centres/<slug>/spc/<metric_code>: the early-warning chart through the database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from marketplace.benchmarks import spc
from marketplace.benchmarks.spc_schemas import SpcChartSchema
from tests.api.helpers import assert_problem
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
)

PUBLISHED_AT = datetime(2026, 1, 1, tzinfo=UTC)
# Version 1: 2021-Q1 .. 2023-Q2 with no figure for 2022-Q2 (9 points, the last far out);
# version 2: 2023-Q3 .. 2024-Q1 (3 points); 2024-Q2 closed, 2024-Q3 open.
V1 = ["10.0", "11.0", "10.0", "11.0", None, "10.0", "11.0", "10.0", "11.0", "30.0"]
V2 = ["4.0", "4.5", "4.2"]


def quarters(start_year: int, start_quarter: int, count: int):
    index = start_year * 4 + start_quarter - 1
    for i in range(index, index + count):
        yield i // 4, i % 4 + 1


@pytest.fixture
def series(personas):
    centre = personas["centre"]
    old = MetricFactory(code="ap_cost_per_invoice", version=1, is_current=False)
    new = MetricFactory(
        code="ap_cost_per_invoice", version=2, service_line=old.service_line, name=old.name
    )
    plan = [(old, v) for v in V1] + [(new, v) for v in V2] + [(new, "4.1"), (new, "4.3")]
    statuses = ["published"] * (len(V1) + len(V2)) + ["closed", "open"]
    for (year, quarter), (metric, value), status in zip(
        quarters(2021, 1, len(plan)), plan, statuses, strict=True
    ):
        period = ReportingPeriodFactory(
            year=year,
            quarter=quarter,
            status=status,
            published_at=PUBLISHED_AT if status == "published" else None,
        )
        if value is not None:
            ObservationFactory(centre=centre, metric=metric, period=period, value=Decimal(value))
    return centre


def expected(with_closed: bool, target=None) -> dict:
    codes = [f"{y}-Q{q}" for y, q in quarters(2021, 1, 15)]
    v1 = [(c, Decimal(v)) for c, v in zip(codes, V1, strict=False) if v is not None]
    v2 = [(c, Decimal(v)) for c, v in zip(codes[10:], [*V2, "4.1"], strict=False)]
    if not with_closed:
        v2 = v2[:3]
    return spc.chart([v1, v2], higher_is_better=False, target=target)


def test_the_public_sees_the_published_series_in_two_segments(client, series):
    response = client.get("/api/v1/centres/centre-a/spc/ap_cost_per_invoice")
    assert response.status_code == 200
    body = response.get_json()
    assert body == SpcChartSchema().dump(body)  # exactly the documented shape
    assert set(body) == {"centre", "metric", "segments", "variation", "assurance"}
    assert body["centre"] == "centre-a" and body["metric"] == "ap_cost_per_invoice"
    first, second = body["segments"]
    assert [p["period"] for p in first["points"]] == [
        "2021-Q1", "2021-Q2", "2021-Q3", "2021-Q4",
        "2022-Q2", "2022-Q3", "2022-Q4", "2023-Q1", "2023-Q2",
    ]  # fmt: skip
    assert set(first) == {
        "points", "mean", "upper", "lower", "near_upper", "near_lower", "provisional"
    }  # fmt: skip
    assert set(first["points"][0]) == {"period", "value", "kind", "rules"}
    chart = expected(with_closed=False)
    seg = chart.segments[0]
    assert first["mean"] == pytest.approx(seg.mean)
    assert first["upper"] == pytest.approx(seg.limits.upper)
    assert first["near_lower"] == pytest.approx(seg.limits.near_lower)
    assert first["provisional"] is True
    # The last figure of version 1 is far above its limit: a cost, so a concern.
    assert first["points"][-1]["kind"] == "concern"
    assert first["points"][-1]["rules"] == ["outside_limits"]
    assert [p["kind"] for p in first["points"]] == [p.kind for p in seg.points]
    # Version 2 has 3 points: no limits, and so no variation for the series.
    assert [p["value"] for p in second["points"]] == [4.0, 4.5, 4.2]
    assert second["upper"] is None and second["lower"] is None
    assert second["near_upper"] is None and second["provisional"] is False
    assert second["mean"] == pytest.approx(4.233333333)
    assert body["variation"] is None and body["assurance"] is None


@pytest.mark.parametrize(
    ("persona", "with_closed"),
    [
        ("anonymous", False),
        ("buyer", False),
        ("other_centre_user", False),
        ("centre_user", True),
        ("admin", True),
    ],
)
def test_the_centre_and_admins_also_see_closed_periods(as_persona, series, persona, with_closed):
    body = as_persona(persona).get("/api/v1/centres/centre-a/spc/ap_cost_per_invoice").get_json()
    periods = [p["period"] for s in body["segments"] for p in s["points"]]
    assert ("2024-Q2" in periods) is with_closed
    assert "2024-Q3" not in periods  # an open period is still being collected


def test_variation_and_assurance_of_a_charted_latest_segment(client, personas):
    centre = personas["centre"]
    metric = MetricFactory(code="payroll_accuracy", percentage=True)
    values = ["90", "91"] * 5 + ["96"]  # mean 91, amR 1 once 5 is screened out
    for (year, quarter), value in zip(quarters(2022, 1, len(values)), values, strict=True):
        period = ReportingPeriodFactory(
            year=year, quarter=quarter, status="published", published_at=PUBLISHED_AT
        )
        ObservationFactory(centre=centre, metric=metric, period=period, value=Decimal(value))
    url = "/api/v1/centres/centre-a/spc/payroll_accuracy"
    body = client.get(url, query_string={"target": "88"}).get_json()
    (segment,) = body["segments"]
    assert segment["provisional"] is True and segment["lower"] > 88
    assert body["variation"] == "improvement"  # higher is better, above the upper limit
    assert body["assurance"] == "consistently_passes"
    assert client.get(url, query_string={"target": "91"}).get_json()["assurance"] == (
        "hit_and_miss"
    )
    assert client.get(url, query_string={"target": "94"}).get_json()["assurance"] == (
        "consistently_fails"
    )
    assert client.get(url).get_json()["assurance"] is None


def test_a_metric_without_figures_has_no_segments(client, series):
    MetricFactory(code="payroll_accuracy", percentage=True)
    body = client.get("/api/v1/centres/centre-a/spc/payroll_accuracy").get_json()
    assert body["segments"] == [] and body["variation"] is None


def test_unknown_or_hidden_centre_or_metric_is_404(client, series):
    assert_problem(client.get("/api/v1/centres/centre-a/spc/no_such_metric"), 404)
    assert_problem(client.get("/api/v1/centres/nowhere/spc/ap_cost_per_invoice"), 404)
    ServiceCentreFactory(
        organisation__slug="applicant",
        accreditation_status="applied",
        accredited_from=None,
        accredited_until=None,
    )
    assert_problem(client.get("/api/v1/centres/applicant/spc/ap_cost_per_invoice"), 404)


def test_a_target_that_is_not_a_number_is_422(client, series):
    url = "/api/v1/centres/centre-a/spc/ap_cost_per_invoice"
    assert_problem(client.get(url, query_string={"target": "lots"}), 422)
    assert_problem(client.get(url, query_string={"target": "nan"}), 422)


def test_the_openapi_document_describes_the_endpoint(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/centres/{slug}/spc/{metric_code}"]["get"]
    assert {"200", "404", "422"} <= set(operation["responses"])
    assert any(p["name"] == "target" for p in operation["parameters"])
    assert "SpcChart" in spec["components"]["schemas"]
