"""/metrics/<code>: the peer distribution per period, each centre's value and band, and who
sees which periods and statistics; and GET /api/v1/benchmarks/<code>."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from marketplace.benchmarks import peers
from tests.factories import ObservationFactory
from tests.selection.conftest import build_bench


@pytest.fixture
def bench(personas):
    return build_bench(personas)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


ALL_PERSONAS = ["anonymous", "buyer", "alb_buyer", "centre_user", "other_centre_user", "admin"]
SEES_UNPUBLISHED = {"buyer", "alb_buyer", "admin"}


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_metric_page_opens_for_everyone_on_the_newest_period_they_may_see(
    bench, as_persona, persona
):
    response = as_persona(persona).get("/metrics/ap_cost_per_invoice")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    heading = re.search(r'<h2 class="govuk-heading-l" id="centres">(.*?)</h2>', page, re.S)
    if persona in SEES_UNPUBLISHED:
        assert "Q3 2026" in heading.group(1)
        assert "Not yet published" in heading.group(1)
    else:
        assert "Q2 2026" in heading.group(1)
        assert "Q3 2026" not in page  # the closed period is not even offered


def test_distribution_table_and_chart_show_the_stored_statistics(bench, as_persona):
    page = as_persona("anonymous").get("/metrics/ap_cost_per_invoice").get_data(as_text=True)
    # 2026-Q2 costs: 2.50 3.00 3.50 5.00 6.50 7.00 8.00 -> p25 3.25, median 5.00, p75 6.75
    row = re.search(r"Q2 2026</a>.*?</tr>", page, re.S).group(0)
    cells = re.findall(r'govuk-table__cell--numeric">([^<]*)<', row)
    assert cells == ["7", "£2.50", "£3.25", "£5.00", "£6.75", "£8.00"]
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg
    assert 'aria-labelledby="distribution-chart-title distribution-chart-desc"' in svg
    assert '<title id="distribution-chart-title">' in svg
    assert "Q2 2026: 7 centres, minimum 2.50, lower quartile 3.25, median 5.00" in svg


def test_centres_are_listed_best_first_with_percentile_and_band(bench, as_persona):
    page = as_persona("anonymous").get("/metrics/ap_cost_per_invoice?period=2026-Q2")
    text = text_of(page.get_data(as_text=True))
    # lower is better: Peer 4 (2.50) is best, Peer 2 (8.00) worst
    assert text.index("Peer 4 Shared Services £2.50 100 1: Top quartile") < text.index(
        "Peer 2 Shared Services £8.00 0 4: Bottom quartile"
    )
    assert "Centre A Services £3.50 67 2: Second quartile" in text


def test_public_cannot_ask_for_an_unpublished_period(bench, as_persona):
    for persona in ("anonymous", "centre_user", "other_centre_user"):
        response = as_persona(persona).get("/metrics/ap_cost_per_invoice?period=2026-Q3")
        assert response.status_code == 404
        assert "no published figures for 2026-Q3" in response.get_data(as_text=True)


def test_small_groups_hide_statistics_but_not_published_values(bench, as_persona):
    # payroll_accuracy in 2026-Q2 has four centres, below MIN_PEER_GROUP = 5
    page = as_persona("buyer").get("/metrics/payroll_accuracy?period=2026-Q2")
    text = text_of(page.get_data(as_text=True))
    assert "Not shown: fewer than 5 centres reported." in text
    assert "percentiles and bands are not shown" in text
    assert "Centre A Services 99.1% – Not shown" in text
    assert "97.50" not in text  # no quartile of the group leaks (p25 would be 97.5)


def test_admins_see_small_groups_marked_below_threshold(bench, as_persona):
    text = text_of(
        as_persona("admin").get("/metrics/payroll_accuracy?period=2026-Q2").get_data(as_text=True)
    )
    assert "Below threshold" in text
    assert "Centre A Services 99.1%" in text


def test_a_centre_sees_itself_highlighted(bench, as_persona):
    page = as_persona("centre_user").get("/metrics/ap_cost_per_invoice").get_data(as_text=True)
    assert "Your centre" in page
    assert "highlighted value 3.50" in page  # the diamond in the chart


def test_restated_values_are_marked(bench, as_persona, db_session):
    observation = bench.observations["ap_cost_per_invoice", "2026-Q2", "centre-a"]
    observation.revision = 2
    db_session.flush()
    text = text_of(as_persona("anonymous").get("/metrics/ap_cost_per_invoice").get_data(True))
    assert "Centre A Services Restated £3.50" in text


def test_unknown_metric_is_404(bench, as_persona):
    assert as_persona("anonymous").get("/metrics/no_such_metric").status_code == 404


def test_bad_period_is_explained(bench, as_persona):
    response = as_persona("anonymous").get("/metrics/ap_cost_per_invoice?period=2026-Q9")
    assert response.status_code == 422
    assert "YYYY-Qn" in response.get_data(as_text=True)


def test_user_text_is_escaped(bench, as_persona, db_session):
    bench.cost.name = "<script>alert(1)</script>"
    bench.centres[2].name = "<b>Bold</b> centre"
    db_session.flush()
    page = as_persona("anonymous").get("/metrics/ap_cost_per_invoice").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "<b>Bold</b>" not in page


def test_metric_library_links_to_the_metric_page(bench, as_persona):
    page = as_persona("anonymous").get("/metrics").get_data(as_text=True)
    assert 'href="/metrics/ap_cost_per_invoice"' in page


# --- API --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_api_benchmarks_gives_statistics_and_each_centres_figures(bench, as_persona, persona):
    response = as_persona(persona).get("/api/v1/benchmarks/ap_cost_per_invoice?period=2026-Q2")
    assert response.status_code == 200
    body = response.get_json()
    assert body["statistics"] == {
        "n": 7,
        "min": 2.5,
        "p25": 3.25,
        "median": 5.0,
        "p75": 6.75,
        "max": 8.0,
    }
    assert body["period"] == {
        "code": "2026-Q2",
        "label": "Q2 2026",
        "status": "published",
        "published": True,
    }
    by_centre = {c["centre"]: c for c in body["centres"]}
    assert by_centre["centre-a"]["value"] == 3.5
    assert by_centre["centre-a"]["percentile"] == pytest.approx(100 * 4 / 6)
    assert by_centre["centre-a"]["band"] == 2
    assert by_centre["peer-4"]["band"] == 1 and by_centre["peer-2"]["band"] == 4
    # the per-centre values reproduce the statistics
    values = sorted(Decimal(str(c["value"])) for c in body["centres"])
    assert values[len(values) // 2] == Decimal("5")


def test_api_benchmarks_defaults_to_newest_visible_period(bench, as_persona):
    assert (
        as_persona("anonymous")
        .get("/api/v1/benchmarks/ap_cost_per_invoice")
        .get_json()["period"]["code"]
        == "2026-Q2"
    )
    body = as_persona("buyer").get("/api/v1/benchmarks/ap_cost_per_invoice").get_json()
    assert body["period"]["code"] == "2026-Q3"
    assert body["period"]["published"] is False


def test_api_benchmarks_withholds_small_groups(bench, as_persona):
    body = as_persona("buyer").get("/api/v1/benchmarks/payroll_accuracy?period=2026-Q2").get_json()
    assert body["statistics"] is None
    assert body["statistics_withheld"] is True
    assert body["min_peer_group"] == 5
    assert {c["band"] for c in body["centres"]} == {None}


def test_api_benchmarks_errors_are_problem_json(bench, as_persona):
    client = as_persona("anonymous")
    missing = client.get("/api/v1/benchmarks/nope")
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    hidden = client.get("/api/v1/benchmarks/ap_cost_per_invoice?period=2026-Q3")
    assert hidden.status_code == 404
    bad = client.get("/api/v1/benchmarks/ap_cost_per_invoice?period=next-year")
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["field"] == "period"


def test_api_benchmarks_with_a_period_says_which_is_missing(bench, as_persona):
    # The metric, the period and its groups are read in one statement; when it finds
    # nothing, the answer must still say whether the metric or the period is not there.
    client = as_persona("anonymous")
    no_metric = client.get("/api/v1/benchmarks/nope?period=2026-Q2")
    assert no_metric.status_code == 404
    assert "There is no metric 'nope' in the library." in no_metric.get_json()["detail"]
    no_period = client.get("/api/v1/benchmarks/ap_cost_per_invoice?period=2030-Q1")
    assert no_period.status_code == 404
    assert "There are no published figures for 2030-Q1." in no_period.get_json()["detail"]


def test_api_benchmarks_follows_a_recompute(bench, as_persona, db_session):
    ObservationFactory(
        centre=bench.centres[0], metric=bench.accuracy, period=bench.q1, value=Decimal("90")
    )
    peers.recompute([(bench.accuracy.id, bench.q1.id)])
    body = as_persona("admin").get("/api/v1/benchmarks/payroll_accuracy?period=2026-Q1").get_json()
    assert body["statistics"]["n"] == 1
    assert body["centres"][0]["percentile"] is None  # nobody to compare with


def test_openapi_describes_the_benchmark_endpoints(bench, as_persona):
    document = as_persona("anonymous").get("/api/v1/openapi.json").get_json()
    get = document["paths"]["/api/v1/benchmarks/{metric_code}"]["get"]
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/Benchmark")
    props = document["components"]["schemas"]["Benchmark"]["properties"]
    assert {"metric", "period", "statistics", "centres"} <= set(props)
    centre = document["components"]["schemas"]["CentreValue"]["properties"]
    assert {"value", "percentile", "band"} <= set(centre)


@pytest.mark.parametrize("persona", ["anonymous", "buyer"])
def test_api_benchmarks_body_is_exactly_what_its_schema_describes(bench, as_persona, persona):
    from marketplace.selection.schemas import BenchmarkSchema

    for url in (
        "/api/v1/benchmarks/ap_cost_per_invoice",
        "/api/v1/benchmarks/payroll_accuracy?period=2026-Q2",
    ):
        body = as_persona(persona).get(url).get_json()
        schema = BenchmarkSchema()
        # load refuses unknown or mistyped fields; dumping back must give the same document
        assert schema.dump(schema.load(body)) == body


def test_a_large_group_is_listed_a_page_at_a_time(bench, as_persona, monkeypatch):
    from marketplace.benchmarks import metric_views

    monkeypatch.setattr(metric_views, "CENTRES_PER_PAGE", 3)
    monkeypatch.setattr(metric_views, "MAX_POINTS", 5)
    client = as_persona("centre_user")
    first = text_of(client.get("/metrics/ap_cost_per_invoice").get_data(as_text=True))
    assert "(centres 1 to 3 of 7)" in first
    assert "Your centre, Centre A Services: £3.50, percentile 67" in first
    assert "Peer 2 Shared Services" not in first.split("best first")[1].split("Page 3")[0]
    last = client.get("/metrics/ap_cost_per_invoice?page=3").get_data(as_text=True)
    assert "(centres 7 to 7 of 7)" in text_of(last)
    assert 'aria-current="page">3<' in last
    # too many centres to draw one by one: the box only, but still the own diamond
    assert "<circle" not in last and "<path" in last
