"""The OpenAPI document says exactly what the API accepts (issue 13).

Each test is a request the fuzzer found (or could find) where the document and the app
disagreed: a date the document calls malformed that the app read anyway, an accreditation
body whose needs the document did not state, a refusal of the centre's state answered as if
a field were malformed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace import clock
from marketplace.catalogue.accreditation import ACTIONS, TRANSITIONS
from marketplace.catalogue.accreditation_schemas import CHANGE_SCHEMAS
from marketplace.catalogue.models import ServiceCentre
from marketplace.extensions import db
from tests.api.helpers import assert_problem
from tests.factories import ServiceCentreFactory

URL = "/api/v1/centres/centre-a/accreditation"
NOT_FULL_DATES = ["20260101", "2026-W01-1", " 2026-01-01", "2026-01-01 ", "2026-1-1"]


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def _fields(body: dict) -> set[str]:
    return {error["field"] for error in body["errors"]}


# --- dates: RFC 3339 full-date and nothing else ---------------------------------------------


@pytest.mark.parametrize("sent", NOT_FULL_DATES)
@pytest.mark.parametrize("name", ["from", "to"])
def test_an_audit_filter_date_not_written_yyyy_mm_dd_is_refused(client, bearer, name, sent):
    response = client.get(
        "/api/v1/audit-events", query_string={name: sent}, headers=bearer("admin")
    )
    body = assert_problem(response, 422)
    assert _fields(body) == {name}
    assert "YYYY-MM-DD" in body["errors"][0]["message"]


@pytest.mark.parametrize("sent", ["20260101", "2026-W01-1"])
def test_the_admin_audit_page_refuses_the_same_dates(as_persona, sent):
    response = as_persona("admin").get("/admin/audit", query_string={"to": sent})
    assert response.status_code == 400
    assert "Enter the date as YYYY-MM-DD." in response.get_data(as_text=True)


def test_a_blank_audit_date_is_still_no_filter(client, bearer):
    response = client.get("/api/v1/audit-events?from=&to=", headers=bearer("admin"))
    assert response.status_code == 200


@pytest.mark.parametrize("sent", ["20300101", "2030-W01-1"])
def test_a_certificate_expiry_not_written_yyyy_mm_dd_is_refused(as_persona, sent):
    response = as_persona("centre_user").patch(
        "/api/v1/centres/centre-a",
        json={"certifications": [{"scheme": "iso27001", "expires_on": sent}]},
    )
    body = assert_problem(response, 422)
    assert _fields(body) == {"certifications.0.expires_on"}


# --- accreditation: one body per action -----------------------------------------------------


def test_the_accreditation_body_is_a_oneof_discriminated_by_action(document):
    operation = document["paths"]["/api/v1/centres/{slug}/accreditation"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert operation["requestBody"]["required"] is True
    mapping = schema["discriminator"]["mapping"]
    assert schema["discriminator"]["propertyName"] == "action"
    assert list(mapping) == list(ACTIONS)
    assert [ref["$ref"] for ref in schema["oneOf"]] == list(mapping.values())
    components = document["components"]["schemas"]
    for action, ref in mapping.items():
        body = components[ref.rsplit("/", 1)[1]]
        assert body["properties"]["action"]["enum"] == [action]
        assert body["additionalProperties"] is False
        required = set(body["required"])
        assert ("reason" in required) is TRANSITIONS[action].needs_reason, action
        assert ("valid_until" in required) is (action in ("accredit", "renew")), action
        assert ("valid_from" in body["properties"]) is (action == "accredit"), action
    assert {"409", "422"} <= set(operation["responses"])


def test_each_action_has_its_schema():
    assert tuple(CHANGE_SCHEMAS) == ACTIONS


@pytest.mark.parametrize(
    ("sent", "fields"),
    [
        ({"action": "suspend"}, {"reason"}),
        ({"action": "suspend", "reason": " \u3000\n"}, {"reason"}),
        ({"action": "suspend", "reason": "x", "valid_until": "2030-01-01"}, {"valid_until"}),
        ({"action": "renew"}, {"valid_until"}),
        ({"action": "renew", "valid_until": None}, {"valid_until"}),
        ({"action": "renew", "valid_until": "20300101"}, {"valid_until"}),
        (
            {"action": "renew", "valid_until": "2030-01-01", "valid_from": "2026-01-01"},
            {"valid_from"},
        ),
        ({"action": "promote"}, {"action"}),
        ({"reason": "no action"}, {"action"}),
    ],
)
def test_a_body_that_does_not_fit_its_action_is_422_naming_the_field(
    client, personas, bearer, sent, fields
):
    response = client.post(URL, json=sent, headers=bearer("admin"))
    body = assert_problem(response, 422)
    assert _fields(body) == fields
    assert personas["centre"].status == "accredited"


def test_a_body_that_is_not_an_object_is_422(client, personas, bearer):
    response = client.post(URL, json=["suspend"], headers=bearer("admin"))
    assert_problem(response, 422)


def test_a_renewal_that_does_not_extend_validity_is_409_naming_valid_until(
    client, personas, bearer
):
    until = personas["centre"].accredited_until
    response = client.post(
        URL, json={"action": "renew", "valid_until": until.isoformat()}, headers=bearer("admin")
    )
    body = assert_problem(response, 409)
    assert _fields(body) == {"valid_until"}
    assert "must extend validity beyond" in body["errors"][0]["message"]


def test_a_past_valid_until_stays_a_422(client, personas, bearer):
    past = (clock.today() - timedelta(days=1)).isoformat()
    centre = personas["centre"]
    centre.accredited_until = clock.today() - timedelta(days=30)
    db.session.flush()
    response = client.post(
        URL, json={"action": "renew", "valid_until": past}, headers=bearer("admin")
    )
    body = assert_problem(response, 422)
    assert _fields(body) == {"valid_until"}


def test_each_action_with_its_own_body_is_accepted(client, personas, bearer):
    headers = bearer("admin")
    later = (clock.today() + timedelta(days=2000)).isoformat()
    for sent, status in [
        ({"action": "suspend", "reason": "Audit findings"}, "suspended"),
        ({"action": "reinstate", "reason": "Findings closed"}, "accredited"),
        ({"action": "renew", "valid_until": later}, "accredited"),
        ({"action": "withdraw", "reason": "Left the market"}, "withdrawn"),
    ]:
        response = client.post(URL, json=sent, headers=headers)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == status
    stored = db.session.execute(
        db.select(ServiceCentre.accreditation_status).where(ServiceCentre.slug == "centre-a")
    ).scalar_one()
    assert stored == "withdrawn"


# --- compare: a missing centre is not found --------------------------------------------------


@pytest.mark.parametrize("status", ["applied", "withdrawn", None])
def test_comparing_a_centre_you_may_not_see_is_404_as_reading_it_is(client, personas, status):
    slug = ServiceCentreFactory(accreditation_status=status).slug if status else "nowhere"
    response = client.get(f"/api/v1/compare?centres=centre-a,{slug}")
    body = assert_problem(response, 404)
    assert slug in body["detail"]
    assert client.get(f"/api/v1/centres/{slug}").status_code == 404


def test_the_same_centre_twice_is_still_a_422_on_centres(client, personas):
    response = client.get("/api/v1/compare?centres=centre-a,centre-a")
    body = assert_problem(response, 422)
    assert _fields(body) == {"centres"}


def test_an_organisation_filter_longer_than_any_slug_is_refused_by_the_schema(
    client, bearer, document
):
    response = client.get(
        "/api/v1/audit-events", query_string={"organisation": "o" * 81}, headers=bearer("admin")
    )
    assert _fields(assert_problem(response, 422)) == {"organisation"}
    (parameter,) = [
        p
        for p in document["paths"]["/api/v1/audit-events"]["get"]["parameters"]
        if p["name"] == "organisation"
    ]
    assert parameter["schema"]["maxLength"] == 80


def test_the_admin_audit_page_shows_each_date_error_beside_its_control(as_persona):
    response = as_persona("admin").get("/admin/audit", query_string={"from": "20260101", "to": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    # A hand-made link's YYYY-MM-DD date is refused as the API refuses it; the page's
    # controls are Day, Month and Year boxes, and the message links to the first.
    for name in ("from", "to"):
        assert f'href="#{name}-day">Enter the date as YYYY-MM-DD.' in page
        assert f'id="{name}-error"' in page
