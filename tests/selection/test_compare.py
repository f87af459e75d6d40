"""/compare, its CSV export, and GET /api/v1/compare."""

from __future__ import annotations

import csv
import io
import re

import pytest

from marketplace.selection.csvexport import neutralise, to_csv

ALL_PERSONAS = ["anonymous", "buyer", "alb_buyer", "centre_user", "other_centre_user", "admin"]
SEES_UNPUBLISHED = {"buyer", "alb_buyer", "admin"}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def read_csv(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_compare_page_shows_centres_side_by_side(bench, as_persona, persona):
    response = as_persona(persona).get("/compare?centres=centre-a,centre-b,peer-0")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = text_of(page)
    # Everyone starts on the latest published period; unpublished ones only when chosen.
    assert "Benchmarks side by side, Q2 2026" in text
    assert "Unit costs are not a pure measure of efficiency" in text
    for name in ("Centre A Services", "Centre B Services", "Peer 0 Shared Services"):
        assert name in text


def test_compare_values_bands_median_and_trend(bench, as_persona):
    page = as_persona("anonymous").get("/compare?centres=centre-a,centre-b&period=2026-Q2")
    text = text_of(page.get_data(as_text=True))
    row = text[text.index("AP cost per invoice") :]
    assert row.startswith("AP cost per invoice £, lower is better £5.00 7 centres")
    assert "£3.50 Band 2: Second quartile, percentile 67" in row
    assert "£6.50 Band 3: Third quartile, percentile 33" in row
    # centre-a fell from 4.00 to 3.50 (better), centre-b rose from 6.00 to 6.50 (worse)
    a, b = row.index("£3.50"), row.index("£6.50")
    assert "Improving" in row[a:b] and "Worsening" in row[b:]
    assert "Fewer than 5 centres" in text  # payroll accuracy in Q2
    sparks = re.findall(r'<svg[^>]*class="app-chart app-chart--spark"', page.get_data(True))
    assert len(sparks) == 2 * 2  # two metrics × two centres


def test_compare_scores_ranks_and_coverage(bench, as_persona):
    text = text_of(
        as_persona("anonymous")
        .get("/compare?centres=centre-a,centre-b&period=2026-Q2")
        .get_data(as_text=True)
    )
    # equal weights over two metrics; only the cost has a percentile: coverage 50%
    assert "Centre A Services 67 50% 1" in text
    assert "Centre B Services 33 50% 2" in text


def test_compare_can_be_narrowed_to_service_lines_or_metrics(bench, as_persona):
    client = as_persona("anonymous")
    text = text_of(
        client.get("/compare?centres=centre-a&centres=centre-b&service_lines=payroll").get_data(
            True
        )
    )
    assert "Payroll accuracy" in text and "AP cost per invoice £" not in text
    text = text_of(
        client.get("/compare?centres=centre-a,centre-b&metrics=ap_cost_per_invoice").get_data(True)
    )
    assert "AP cost per invoice £" in text and "Payroll accuracy %" not in text


def test_the_choice_form_works_without_javascript(bench, as_persona):
    page = as_persona("anonymous").get("/compare").get_data(as_text=True)
    assert '<form method="get" action="/compare"' in page
    # two "choose a centre" lists to start with
    assert page.count('<select class="govuk-select" id="add-centre-') == 2
    assert '<option value="centre-a">Centre A Services</option>' in page
    assert 'name="service_lines" type="checkbox" value="finance"' in page
    assert 'name="metrics" type="checkbox" value="payroll_accuracy"' in page
    assert '<option value="2026-Q3"' not in page  # the public is offered published periods


def test_one_centre_is_a_comparison_being_set_up(bench, as_persona):
    response = as_persona("anonymous").get("/compare?centres=centre-a")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'value="centre-a" checked' in page
    assert page.count('id="add-centre-') == 1
    assert "Benchmarks side by side" not in page


def test_chosen_centres_can_be_removed_and_more_added(bench, as_persona):
    page = as_persona("anonymous").get("/compare?centres=centre-a,centre-b").get_data(True)
    assert 'value="centre-a" checked' in page and 'value="centre-b" checked' in page
    adding = page[page.index('id="add-centre-') :]
    adding = adding[: adding.index("</select>")]
    assert '<option value="centre-a">' not in adding  # not offered twice
    assert '<option value="peer-0">' in adding


def test_a_full_comparison_offers_only_to_remove(bench, as_persona):
    six = "centre-a,centre-b,peer-0,peer-1,peer-2,peer-3"
    page = as_persona("anonymous").get(f"/compare?centres={six}").get_data(as_text=True)
    assert (
        page.count('type="checkbox" value=')
        - page.count('name="service_lines"')
        - page.count('name="metrics"')
        == 6
    )
    assert 'id="add-centre-' not in page
    assert "Peer 3 Shared Services" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("centres=centre-a,centre-b,peer-0,peer-1,peer-2,peer-3,peer-4", "at most 6"),
        ("centres=centre-a,nowhere", "There is no centre &#39;nowhere&#39;"),
    ],
)
def test_compare_page_explains_what_is_wrong(bench, as_persona, query, message):
    response = as_persona("anonymous").get(f"/compare?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert message in page


def test_hidden_centres_cannot_be_compared(bench, as_persona, db_session):
    bench.centres[2].accreditation_status = "withdrawn"
    db_session.flush()
    response = as_persona("buyer").get("/compare?centres=centre-a,peer-0")
    assert response.status_code == 400
    assert "There is no centre &#39;peer-0&#39;" in response.get_data(as_text=True)


def test_public_cannot_compare_an_unpublished_period(bench, as_persona):
    response = as_persona("anonymous").get("/compare?centres=centre-a,centre-b&period=2026-Q3")
    assert response.status_code == 404


def test_suspended_centres_are_shown_with_a_warning(bench, as_persona, db_session):
    bench.centres[1].accreditation_status = "suspended"
    db_session.flush()
    text = text_of(as_persona("anonymous").get("/compare?centres=centre-a,centre-b").get_data(True))
    assert "Centre B Services: Accreditation suspended" in text


def test_buyers_can_start_an_evaluation_from_a_comparison(bench, as_persona):
    page = as_persona("buyer").get("/compare?centres=centre-a,centre-b").get_data(as_text=True)
    assert "/buyer/evaluations/new?centres=centre-a,centre-b&amp;period=2026-Q2" in page
    assert "/buyer/evaluations/new" not in as_persona("anonymous").get(
        "/compare?centres=centre-a,centre-b"
    ).get_data(as_text=True)


# --- CSV -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_compare_csv_export(bench, as_persona, persona):
    response = as_persona(persona).get("/compare.csv?centres=centre-a,centre-b&period=2026-Q2")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="comparison-2026-Q2.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[1] == ["Period", "2026-Q2"]
    assert rows[3][0] == "Caveat"
    header = rows.index(
        [
            "metric",
            "name",
            "unit",
            "better",
            "weight",
            "peer n",
            "peer median",
            "centre-a value",
            "centre-a percentile",
            "centre-a band",
            "centre-b value",
            "centre-b percentile",
            "centre-b band",
        ]
    )
    cost = rows[header + 1]
    assert cost[:7] == [
        "ap_cost_per_invoice",
        "AP cost per invoice",
        "£",
        "lower",
        "1.0",
        "7",
        "5.00",
    ]
    # Figures at the metric's 2 decimals, as on the page (£3.50) and in the open data.
    assert cost[7:] == ["3.50", "66.7", "Second quartile", "6.50", "33.3", "Third quartile"]
    # admins also see the small payroll group's percentiles, so their coverage is complete
    coverage = "100.0" if persona == "admin" else "50.0"
    assert rows[-2][:3] == ["centre-a", "Centre A Services", "accredited"]
    assert rows[-2][4] == coverage


def test_compare_csv_of_unpublished_period_is_for_buyers_only(bench, as_persona):
    url = "/compare.csv?centres=centre-a,centre-b&period=2026-Q3"
    assert as_persona("anonymous").get(url).status_code == 404
    rows = read_csv(as_persona("buyer").get(url))
    assert rows[2] == ["Status", "not yet published (validated data)"]


def test_csv_neutralises_formula_cells(bench, as_persona, db_session):
    bench.centres[0].name = '=HYPERLINK("http://evil","x")'
    bench.centres[1].name = "@SUM(A1)"
    db_session.flush()
    rows = read_csv(as_persona("anonymous").get("/compare.csv?centres=centre-a,centre-b"))
    names = [row[1] for row in rows if row and row[0] in ("centre-a", "centre-b")]
    assert names == ['\'=HYPERLINK("http://evil","x")', "'@SUM(A1)"]


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_neutralise_prefixes_dangerous_text(prefix):
    assert neutralise(f"{prefix}1+1") == f"'{prefix}1+1"


def test_neutralise_leaves_numbers_and_plain_text():
    assert neutralise(-12.5) == -12.5
    assert neutralise("Centre A") == "Centre A"
    assert neutralise(None) == ""
    assert to_csv([["-1", -1]]) == "'-1,-1\r\n"


# --- API -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_api_compare_matrix_with_score_coverage_and_rank(bench, as_persona, persona):
    response = as_persona(persona).get(
        "/api/v1/compare?centres=centre-a,centre-b,peer-4&period=2026-Q2"
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["period"]["code"] == "2026-Q2"
    assert [c["centre"] for c in body["centres"]] == ["centre-a", "centre-b", "peer-4"]
    cost = next(m for m in body["metrics"] if m["metric"]["code"] == "ap_cost_per_invoice")
    assert cost["statistics"]["median"] == 5.0
    assert [v["band"] for v in cost["values"]] == [2, 3, 1]
    scores = {c["centre"]: (c["score"], c["coverage"], c["rank"]) for c in body["centres"]}
    assert scores["peer-4"] == (100.0, 0.5, 1)
    assert scores["centre-a"][2] == 2 and scores["centre-b"][2] == 3


def test_api_compare_weights(bench, as_persona):
    body = (
        as_persona("anonymous")
        .get(
            "/api/v1/compare?centres=centre-a,centre-b&period=2026-Q2&weights=ap_cost_per_invoice:3"
        )
        .get_json()
    )
    weights = {m["metric"]["code"]: m["weight"] for m in body["metrics"]}
    assert weights == {"ap_cost_per_invoice": 3.0, "payroll_accuracy": 0.0}
    centre_a = body["centres"][0]
    assert centre_a["coverage"] == 1.0
    assert centre_a["score"] == pytest.approx(100 * 4 / 6)


def test_api_compare_ties_share_a_rank(bench, as_persona, db_session):
    bench.observations["ap_cost_per_invoice", "2026-Q2", "centre-b"].value = 3.5
    from marketplace.benchmarks import peers

    peers.recompute([(bench.cost.id, bench.q2.id)])
    body = (
        as_persona("anonymous")
        .get(
            "/api/v1/compare?centres=centre-a,centre-b,peer-0&period=2026-Q2"
            "&weights=ap_cost_per_invoice:1"
        )
        .get_json()
    )
    assert [c["rank"] for c in body["centres"]] == [1, 1, 3]


@pytest.mark.parametrize(
    ("query", "field", "fragment"),
    [
        ("centres=a,b,c,d,e,f,g", "centres", "at most 6"),
        ("centres=centre-a", "centres", "at least 2"),
        ("centres=centre-a,centre-b&weights=ap_cost_per_invoice:x", "weights", "code:weight"),
        ("centres=centre-a,centre-b&weights=ap_cost_per_invoice:-1", "weights", "negative"),
        ("centres=centre-a,centre-b&weights=ap_cost_per_invoice:0", "weights", "more than 0"),
        ("centres=centre-a,centre-b&weights=nope:1", "weights", "not a metric"),
        ("centres=centre-a,centre-b&service_lines=nope", "service_lines", "no service line"),
        ("", "centres", "Missing"),
    ],
)
def test_api_compare_problems(bench, as_persona, query, field, fragment):
    response = as_persona("anonymous").get(f"/api/v1/compare?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert any(e["field"] == field and fragment in e["message"] for e in errors), errors


def test_api_compare_hides_unpublished_periods_from_the_public(bench, as_persona):
    response = as_persona("anonymous").get(
        "/api/v1/compare?centres=centre-a,centre-b&period=2026-Q3"
    )
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    ok = as_persona("buyer").get("/api/v1/compare?centres=centre-a,centre-b&period=2026-Q3")
    assert ok.get_json()["period"]["published"] is False


def test_openapi_describes_compare(bench, as_persona):
    document = as_persona("anonymous").get("/api/v1/openapi.json").get_json()
    get = document["paths"]["/api/v1/compare"]["get"]
    assert {p["name"] for p in get["parameters"]} >= {"centres", "period", "weights"}
    assert "422" in get["responses"]
    centre = document["components"]["schemas"]["CompareCentre"]["properties"]
    assert {"score", "coverage", "rank"} <= set(centre)


# Issue 12, point 3: buyers start on the latest published period, unpublished ones labelled.


def test_buyers_see_the_latest_published_period_unless_they_choose(bench, as_persona):
    client = as_persona("buyer")
    text = text_of(client.get("/compare?centres=centre-a,centre-b").get_data(True))
    assert "Benchmarks side by side, Q2 2026" in text
    assert "Not yet published" not in text.split("Benchmarks side by side")[1]
    chosen = text_of(client.get("/compare?centres=centre-a,centre-b&period=2026-Q3").get_data(True))
    assert "Benchmarks side by side, Q3 2026" in chosen
    assert "Not yet published" in chosen


def test_api_compare_defaults_to_the_latest_published_period(bench, as_persona):
    body = as_persona("buyer").get("/api/v1/compare?centres=centre-a,centre-b").get_json()
    assert (body["period"]["code"], body["period"]["published"]) == ("2026-Q2", True)
    chosen = as_persona("buyer").get("/api/v1/compare?centres=centre-a,centre-b&period=2026-Q3")
    assert chosen.get_json()["period"] == {
        **chosen.get_json()["period"],
        "code": "2026-Q3",
        "published": False,
    }


def test_starting_an_evaluation_preselects_the_latest_published_period(bench, as_persona):
    client = as_persona("buyer")
    page = client.get("/buyer/evaluations/new?centres=centre-a,centre-b").get_data(as_text=True)
    assert '<option value="2026-Q2" selected>' in page
    assert '<option value="2026-Q3">Q3 2026 (not yet published)</option>' in page
    refused = client.post(
        "/buyer/evaluations/new",
        data={"title": "Payroll 2027", "service_lines": "finance", "centres": ["centre-a"]},
    )
    assert refused.status_code in (400, 422)
    assert "Choose the period whose figures you will evaluate." in refused.get_data(as_text=True)


# Issue 12, point 6: "restated" only for a published figure; "corrected" before publication.


def test_restated_only_for_published_figures_corrected_before(bench, as_persona, db_session):
    from datetime import UTC, datetime

    corrected = bench.observations["ap_cost_per_invoice", "2026-Q3", "centre-a"]
    corrected.revision = 2  # changed while 2026-Q3 was not yet published
    early = bench.observations["ap_cost_per_invoice", "2026-Q2", "centre-a"]
    early.revision, early.updated_at = 2, datetime(2026, 7, 15, tzinfo=UTC)  # before publication
    restated = bench.observations["ap_cost_per_invoice", "2026-Q2", "centre-b"]
    restated.revision, restated.updated_at = 2, datetime(2026, 9, 1, tzinfo=UTC)  # approved later
    db_session.flush()
    client = as_persona("buyer")
    q3 = text_of(client.get("/compare?centres=centre-a,centre-b&period=2026-Q3").get_data(True))
    assert "(corrected)" in q3 and "(restated)" not in q3
    q2 = text_of(client.get("/compare?centres=centre-a,centre-b&period=2026-Q2").get_data(True))
    assert q2.count("(restated)") == 1 and q2.count("(corrected)") == 1
