"""The comparison basket: add from a card or a centre page, several at once, remove, limits."""

from __future__ import annotations

import re

from tests.factories import OrganisationFactory, ServiceCentreFactory


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def basket_of(client) -> list[str]:
    with client.session_transaction() as session:
        return list(session.get("comparison_basket", []))


def test_add_from_the_catalogue_goes_back_with_the_count_in_the_menu(bench, client):
    page = client.get("/centres").get_data(as_text=True)
    assert 'Add to comparison<span class="govuk-visually-hidden">: Centre A Services' in page
    response = client.post(
        "/compare/basket/add", data={"centres": "centre-a", "next": "/centres?q=centre"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/centres?q=centre"
    assert basket_of(client) == ["centre-a"]
    page = client.get("/centres?q=centre").get_data(as_text=True)
    assert "Centre A Services added to your comparison (1 centre chosen)." in text_of(page)
    assert 'href="/compare?centres=centre-a"' in page
    assert "Compare (1)" in page
    assert "Remove from comparison" in page


def test_the_comparison_address_and_the_basket_follow_each_other(bench, client):
    client.post("/compare/basket/add", data={"centres": ["centre-a", "centre-b"]})
    # A bare /compare shows the basket's comparison, under its own address.
    response = client.get("/compare")
    assert response.status_code == 302
    assert response.headers["Location"] == "/compare?centres=centre-a,centre-b"
    # Visiting a comparison's address makes it the basket (listed centres only).
    client.get("/compare?centres=peer-0,peer-1")
    assert basket_of(client) == ["peer-0", "peer-1"]
    client.get("/compare?centres=")
    assert basket_of(client) == []
    assert client.get("/compare").status_code == 200


def test_compare_page_removes_and_adds_several(bench, client):
    client.post("/compare/basket/add", data={"centres": ["centre-a", "centre-b", "peer-0"]})
    page = client.get("/compare?centres=centre-a,centre-b,peer-0").get_data(as_text=True)
    text = text_of(page)
    assert "Your comparison (3 of 6 centres)" in text
    assert "Remove Centre A Services from the comparison" in text
    assert "Add several centres at once" in text
    response = client.post("/compare/basket/remove", data={"centre": "centre-b"})
    assert response.headers["Location"] == "/compare?centres=centre-a,peer-0"
    client.post("/compare/basket/add", data={"centres": ["peer-1", "peer-2"]})
    assert basket_of(client) == ["centre-a", "peer-0", "peer-1", "peer-2"]


def test_at_most_six_centres(bench, client):
    client.post("/compare/basket/add", data={"centres": [f"peer-{i}" for i in range(5)]})
    response = client.post("/compare/basket/add", data={"centres": ["centre-a", "centre-b"]})
    assert response.status_code == 302
    assert len(basket_of(client)) == 5
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A comparison holds at most 6 centres. There is room for 1 more; you chose 2." in (
        text_of(page)
    )
    client.post("/compare/basket/add", data={"centres": "centre-a"})
    page = client.get("/centres").get_data(as_text=True)
    assert "Your comparison is full (6 centres)" in page


def test_hidden_and_unknown_centres_cannot_be_added(bench, client):
    ServiceCentreFactory(
        organisation=OrganisationFactory(centre=True, slug="hidden", name="Hidden"),
        accreditation_status="applied",
    )
    client.post("/compare/basket/add", data={"centres": ["hidden", "nowhere"]})
    assert basket_of(client) == []
    page = client.get("/compare").get_data(as_text=True)
    assert "There is no centre &#39;hidden&#39; in the catalogue." in page
    client.get("/compare?centres=hidden,centre-a")
    assert basket_of(client) == ["centre-a"]


def test_next_must_be_a_path_on_this_site(bench, client):
    response = client.post(
        "/compare/basket/add", data={"centres": "centre-a", "next": "//evil.example/x"}
    )
    assert response.headers["Location"] == "/compare?centres=centre-a"


def test_centre_page_has_the_button(bench, client):
    page = client.get("/centres/centre-a").get_data(as_text=True)
    assert "Add to comparison" in page


def test_buyers_start_an_evaluation_from_the_basket(bench, as_persona):
    buyer = as_persona("buyer")
    buyer.post("/compare/basket/add", data={"centres": ["centre-a", "centre-b"]})
    page = buyer.get("/compare?centres=centre-a,centre-b").get_data(as_text=True)
    link = re.search(r'href="([^"]*)">Start an evaluation with these centres', page)
    assert link and link.group(1).startswith("/buyer/evaluations/new?")
    # The comparison opens on the latest published period, and so does the evaluation.
    assert "centres=centre-a,centre-b&amp;period=2026-Q2" in link.group(1)
    form = buyer.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(r'value="centre-a"\s+checked', form) or 'value="centre-a" checked' in form
