"""GET /api/v1/centres and /api/v1/centres/<slug>: pages, filters as on the HTML page, problems."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from marketplace import clock
from tests.api.helpers import assert_problem
from tests.factories import CentreSiteFactory, OrganisationFactory, ServiceCentreFactory


def make_centre(slug: str, **kwargs):
    return ServiceCentreFactory(
        organisation=OrganisationFactory(centre=True, slug=slug, name=kwargs.pop("name", slug)),
        **kwargs,
    )


@pytest.fixture
def catalogue(db_session):
    """A small catalogue: every status, several business models and service lines."""
    lapsed = clock.today() - timedelta(days=1)
    centres = {
        "alpha": make_centre("alpha", name="Alpha Payroll Services", lines=["payroll"]),
        "bravo": make_centre(
            "bravo", name="Bravo Finance Mutual", business_model="employee_owned_mutual"
        ),
        "charlie": make_centre("charlie", name="Charlie Shared Services", lines=["hr", "ict"]),
        "delta": make_centre(
            "delta", name="Delta Suspended", accreditation_status="suspended", lines=["payroll"]
        ),
        "echo": make_centre(
            "echo",
            name="Echo Expired",
            accredited_from=lapsed - timedelta(days=700),
            accredited_until=lapsed,
        ),
        "foxtrot": make_centre(
            "foxtrot",
            name="Foxtrot Applied",
            accreditation_status="applied",
            accredited_from=None,
            accredited_until=None,
        ),
        "golf": make_centre("golf", name="Golf Withdrawn", accreditation_status="withdrawn"),
    }
    CentreSiteFactory(centre=centres["charlie"], name="Main office", town="Swansea")
    return centres


def slugs(body) -> list[str]:
    return [item["slug"] for item in body["data"]]


def html_slugs(client, query: str) -> list[str]:
    response = client.get(f"/centres?{query}")
    assert response.status_code == 200
    return re.findall(r'href="/centres/([^"/?]+)"', response.get_data(as_text=True))


def test_lists_public_centres_with_their_summary(client, catalogue):
    response = client.get("/api/v1/centres?per_page=100")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "Authorization" in response.vary  # admins see more than the public
    body = response.get_json()
    assert slugs(body) == ["alpha", "bravo", "charlie", "delta", "echo"]
    alpha = body["data"][0]
    assert alpha["name"] == "Alpha Payroll Services"
    assert alpha["status"] == {"code": "accredited", "label": "Accredited"}
    assert alpha["service_lines"] == [{"code": "payroll", "name": "Payroll"}]
    assert "id" not in alpha
    statuses = {item["slug"]: item["status"]["code"] for item in body["data"]}
    assert statuses["delta"] == "suspended"
    assert statuses["echo"] == "expired"


def test_pages_carry_links_that_keep_the_filters_and_meta(client, catalogue):
    body = client.get("/api/v1/centres?q=e&per_page=2&page=2").get_json()
    everyone = client.get("/api/v1/centres?q=e&per_page=100").get_json()
    total = len(everyone["data"])
    assert total >= 3
    assert body["meta"] == {"page": 2, "per_page": 2, "total": total, "pages": (total + 1) // 2}
    assert slugs(body) == slugs(everyone)[2:4]

    links = body["links"]
    for name in ("self", "first", "prev", "next", "last"):
        if links[name] is None:
            continue
        parts = urlsplit(links[name])
        assert parts.path == "/api/v1/centres"
        assert parse_qs(parts.query)["q"] == ["e"]
        assert parse_qs(parts.query)["per_page"] == ["2"]
    page_of = {name: parse_qs(urlsplit(url).query)["page"][0] for name, url in links.items() if url}
    assert page_of["self"] == "2"
    assert page_of["first"] == "1"
    assert page_of["prev"] == "1"
    assert page_of["last"] == str(body["meta"]["pages"])


def test_following_next_walks_every_centre_exactly_once(client, catalogue):
    url, seen = "/api/v1/centres?per_page=2", []
    while url:
        body = client.get(url).get_json()
        seen += slugs(body)
        url = body["links"]["next"]
    assert seen == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert body["links"]["prev"] is not None
    first = client.get("/api/v1/centres?per_page=2").get_json()
    assert first["links"]["prev"] is None


def test_an_empty_result_is_one_empty_page(client, catalogue):
    body = client.get("/api/v1/centres?q=nothing-matches-this").get_json()
    assert body["data"] == []
    assert body["meta"] == {"page": 1, "per_page": 20, "total": 0, "pages": 1}
    assert body["links"]["next"] is None
    assert body["links"]["prev"] is None


@pytest.mark.parametrize(
    "query",
    [
        "",
        "service_line=payroll",
        "service_line=finance",
        "business_model=employee_owned_mutual",
        "status=suspended",
        "status=expired",
        "status=accredited",
        "q=swansea",
        "q=services",
        "q=payroll+alpha",
        "sort=-name",
        "sort=status",
        "service_line=payroll&sort=-name",
        "per_page=2&page=2",
        "q=&service_line=&status=",  # an HTML form's "any" is not a filter
    ],
)
def test_filters_give_the_same_centres_in_the_same_order_as_the_html_page(client, catalogue, query):
    api = client.get(f"/api/v1/centres?{query}")
    assert api.status_code == 200, api.get_data(as_text=True)
    assert slugs(api.get_json()) == html_slugs(client, query)


def test_admins_may_list_hidden_statuses_as_on_the_html_page(as_persona, catalogue):
    admin = as_persona("admin")
    api = admin.get("/api/v1/centres?status=applied").get_json()
    assert slugs(api) == ["foxtrot"] == html_slugs(admin, "status=applied")
    assert_problem(as_persona("buyer").get("/api/v1/centres?status=applied"), 422)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("business_model=cooperative", "business_model"),
        ("service_line=astrology", "service_line"),
        ("sort=price", "sort"),
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=two", "page"),
    ],
)
def test_a_bad_filter_is_a_422_problem_naming_the_field(client, catalogue, query, field):
    body = assert_problem(client.get(f"/api/v1/centres?{query}"), 422)
    assert [error["field"] for error in body["errors"]] == [field]
    assert body["errors"][0]["message"]
    assert body["errors"][0]["row"] is None


def test_every_bad_filter_is_reported_at_once(client, catalogue):
    body = assert_problem(client.get("/api/v1/centres?status=bogus&per_page=500"), 422)
    assert {error["field"] for error in body["errors"]} == {"status", "per_page"}


def test_a_public_centre_shows_every_catalogue_field(client, catalogue):
    response = client.get("/api/v1/centres/charlie")
    assert response.status_code == 200
    centre = response.get_json()
    assert centre["slug"] == "charlie"
    assert centre["ownership"] == {"employee": 25.0, "government": 35.0, "private_partner": 40.0}
    assert centre["board_seats"]["independent"] == 1
    assert centre["sites"] == [{"name": "Main office", "town": "Swansea", "region": "Wales"}]
    assert [line["code"] for line in centre["service_lines"]] == ["hr", "ict"]
    assert centre["accreditation"]["history"][-1]["to_status"] == "accredited"
    assert centre["contact"]["email"] == "contact@example.org"
    assert "id" not in centre and "organisation_id" not in centre


@pytest.mark.parametrize("slug", ["foxtrot", "golf", "no-such-centre"])
def test_hidden_and_missing_centres_are_the_same_404_problem(client, catalogue, slug):
    assert_problem(client.get(f"/api/v1/centres/{slug}"), 404)


def test_admins_and_the_centre_itself_see_a_hidden_centre(as_persona, bearer, personas, client):
    personas["centre"].accreditation_status = "withdrawn"
    for persona in ("admin", "centre_user"):
        assert as_persona(persona).get("/api/v1/centres/centre-a").status_code == 200
        assert client.get("/api/v1/centres/centre-a", headers=bearer(persona)).status_code == 200
    assert_problem(as_persona("other_centre_user").get("/api/v1/centres/centre-a"), 404)
    assert_problem(as_persona("buyer").get("/api/v1/centres/centre-a"), 404)


def test_unknown_addresses_and_methods_are_problems(client, catalogue):
    assert_problem(client.get("/api/v1/no-such-thing"), 404)
    response = client.delete("/api/v1/centres/alpha")
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH"}
    assert_problem(client.post("/api/v1/centres"), 405)


def test_service_line_repeats_and_a_centre_must_offer_every_one(client, catalogue):
    assert slugs(client.get("/api/v1/centres?service_line=hr").get_json()) == ["charlie"]
    both = client.get("/api/v1/centres?service_line=hr&service_line=ict")
    assert both.status_code == 200
    assert slugs(both.get_json()) == ["charlie"]
    assert "service_line=hr&service_line=ict" in both.get_json()["links"]["self"]
    assert (
        slugs(client.get("/api/v1/centres?service_line=hr&service_line=payroll").get_json()) == []
    )
    refused = client.get("/api/v1/centres?service_line=hr&service_line=gardening")
    assert refused.status_code == 422
    assert "'gardening' is not a service line." in refused.get_data(as_text=True)
