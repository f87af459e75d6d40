"""Pages people can read: plain-English error pages and a description on every page."""

from __future__ import annotations

import re


def test_an_unknown_address_is_a_plain_english_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "<title>Page not found – Shared-services marketplace</title>" in body
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in body
    assert "requested URL" not in body and "Not Found" not in body
    assert body.count("If you typed the web address") == 1


def test_a_domain_404_keeps_its_own_words(client, db_session):
    body = client.get("/centres/nowhere").get_data(as_text=True)
    assert "Page not found" in body
    assert "There is no service centre &#39;nowhere&#39; in the catalogue." in body


def test_a_refused_page_is_a_plain_english_403(as_persona):
    response = as_persona("centre_user").get("/admin")
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "You cannot see this page" in body
    assert "contact the accreditation authority" in body


def test_the_api_still_answers_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_every_page_has_a_meta_description(client, db_session):
    for path in ("/", "/centres", "/compare", "/methodology", "/no-such-page"):
        body = client.get(path).get_data(as_text=True)
        description = re.search(r'<meta name="description" content="([^"]+)">', body)
        assert description and len(description.group(1)) > 10, path
