"""PATCH /api/v1/centres/<slug>: who may change an entry, by session and by token; CSRF; audit."""

from __future__ import annotations

import flask
import pytest
from flask_wtf.csrf import generate_csrf

from marketplace.audit.models import AuditEvent
from marketplace.catalogue.models import ServiceCentre
from marketplace.extensions import db
from tests.api.helpers import assert_problem
from tests.conftest import sign_in
from tests.factories import ServiceLineFactory

URL = "/api/v1/centres/centre-a"
CHANGE = {
    "summary": "Payroll for 40,000 people across Wales.",
    "capacity": {"employees_served": 40000},
}


def centre_a() -> ServiceCentre:
    db.session.expire_all()
    return db.session.execute(
        db.select(ServiceCentre).where(ServiceCentre.slug == "centre-a")
    ).scalar_one()


def update_events() -> list[AuditEvent]:
    return list(
        db.session.execute(
            db.select(AuditEvent)
            .where(AuditEvent.action == "centre.update", AuditEvent.object_id == "centre-a")
            .order_by(AuditEvent.id)
        ).scalars()
    )


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("anonymous", 401),
        ("buyer", 403),
        ("alb_buyer", 403),
        ("other_centre_user", 403),
        ("centre_user", 200),
        ("admin", 200),
    ],
)
def test_by_session_only_the_centre_itself_and_admins(as_persona, personas, persona, status):
    response = as_persona(persona).patch(URL, json=CHANGE)
    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["summary"] == CHANGE["summary"]
        assert centre_a().employees_served == 40000
    else:
        assert_problem(response, status)
        assert centre_a().summary != CHANGE["summary"]
        assert update_events() == []


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("buyer", 403),
        ("alb_buyer", 403),
        ("other_centre_user", 403),
        ("centre_user", 200),
        ("admin", 200),
    ],
)
def test_by_bearer_token_only_the_centre_itself_and_admins(client, bearer, persona, status):
    response = client.patch(URL, json=CHANGE, headers=bearer(persona))
    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert centre_a().summary == CHANGE["summary"]
    else:
        assert_problem(response, status)
        assert centre_a().summary != CHANGE["summary"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ssm_not-a-real-token",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_a_bad_or_missing_token_is_401(client, personas, header):
    assert_problem(client.patch(URL, json=CHANGE, headers={"Authorization": header}), 401)


def test_a_revoked_token_is_401(client, personas):
    from marketplace.accounts.tokens import create_token

    token, secret = create_token(personas["centre_user"], "soon revoked")
    token.revoked_at = token.created_at
    db.session.flush()
    response = client.patch(URL, json=CHANGE, headers={"Authorization": f"Bearer {secret}"})
    assert_problem(response, 401)


def test_anonymous_is_told_to_sign_in_before_the_body_is_checked(client, personas):
    response = client.patch(URL, json={"no_such_field": 1})
    body = assert_problem(response, 401)
    assert "Bearer" in body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_hidden_centre_is_404_to_those_who_cannot_see_it(as_persona, personas):
    personas["centre"].accreditation_status = "withdrawn"
    db.session.flush()
    assert_problem(as_persona("buyer").patch(URL, json=CHANGE), 404)
    assert as_persona("centre_user").patch(URL, json=CHANGE).status_code == 200


def test_only_admins_rename_a_centre(as_persona, personas):
    body = assert_problem(as_persona("centre_user").patch(URL, json={"name": "Renamed"}), 403)
    assert body["errors"][0]["field"] == "name"
    assert as_persona("admin").patch(URL, json={"name": "Renamed"}).status_code == 200
    assert centre_a().name == "Renamed"


# --- what is accepted -----------------------------------------------------------------------


def test_invalid_fields_are_422_with_each_field_named(as_persona, personas):
    response = as_persona("centre_user").patch(
        URL,
        json={
            "headcount": 5,
            "business_model": "cooperative",
            "contact": {"email": "not-an-email"},
            "service_lines": [],
        },
    )
    body = assert_problem(response, 422)
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"headcount", "business_model", "contact.email", "service_lines"}
    assert update_events() == []


def test_capacity_beyond_any_real_centre_is_refused_not_a_server_error(as_persona, personas):
    # Found by the fuzzer: 2**31 overflowed PostgreSQL's integer column (500).
    response = as_persona("centre_user").patch(
        URL, json={"capacity": {"employees_served": 2**31, "transactions_per_year": 2**31}}
    )
    body = assert_problem(response, 422)
    messages = {error["field"]: error["message"] for error in body["errors"]}
    assert messages == {
        "capacity.employees_served": "Enter a number from 0 to 10,000,000.",
        "capacity.transactions_per_year": "Enter a number from 0 to 2,000,000,000.",
    }
    assert update_events() == []


def test_an_invalid_item_of_a_list_is_named_by_its_position(as_persona, personas):
    response = as_persona("centre_user").patch(
        URL, json={"sites": [{"name": "Head office"}, {"town": "Cardiff"}]}
    )
    body = assert_problem(response, 422)
    assert [error["field"] for error in body["errors"]] == ["sites.1.name"]


def test_ownership_must_add_up_to_100(as_persona, personas):
    shares = {"employee": 50, "government": 30, "private_partner": 30}
    body = assert_problem(as_persona("centre_user").patch(URL, json={"ownership": shares}), 422)
    assert body["errors"][0]["field"] == "ownership"
    assert "100" in body["errors"][0]["message"]
    assert centre_a().ownership_employee == 25


def test_malformed_json_is_a_400_problem(as_persona, personas):
    response = as_persona("centre_user").patch(
        URL, data="{not json", content_type="application/json"
    )
    assert_problem(response, 400)


def test_a_body_that_is_not_json_is_415(as_persona, personas):
    response = as_persona("centre_user").patch(URL, data={"summary": "form post"})
    assert_problem(response, 415)
    assert centre_a().summary != "form post"


def test_the_response_is_the_centre_as_it_now_is(as_persona, personas):
    ServiceLineFactory(code="hr")
    lines = ["payroll", "hr"]
    response = as_persona("centre_user").patch(
        URL,
        json={
            "ownership": {"employee": 100, "government": 0, "private_partner": 0},
            "service_lines": lines,
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["ownership"] == {"employee": 100.0, "government": 0.0, "private_partner": 0.0}
    assert {line["code"] for line in body["service_lines"]} == set(lines)
    assert body == as_persona("anonymous").get(URL).get_json()


# --- audit ---------------------------------------------------------------------------------


def test_a_change_leaves_an_audit_event_naming_who_and_what(client, bearer, personas):
    client.patch(URL, json=CHANGE, headers=bearer("centre_user"))
    [event] = update_events()
    assert event.actor_id == personas["centre_user"].id
    assert event.organisation_id == personas["centre"].organisation_id
    assert event.object_type == "centre"
    assert event.detail["changed"]["summary"]["after"] == CHANGE["summary"]
    assert set(event.detail["changed"]) == {"summary", "employees_served"}


def test_sending_what_is_already_there_changes_nothing_and_records_nothing(as_persona, personas):
    same = {"summary": personas["centre"].summary}
    assert as_persona("centre_user").patch(URL, json=same).status_code == 200
    assert update_events() == []


# --- CSRF ----------------------------------------------------------------------------------


def csrf_token_for(app, client) -> str:
    """A valid CSRF token for this client's session, as a page of the site would give it."""
    with app.test_request_context():
        token = generate_csrf()
        raw = flask.session["csrf_token"]
    with client.session_transaction() as session:
        session["csrf_token"] = raw
    return token


def test_a_session_write_without_a_csrf_token_is_refused(app, personas, csrf_enabled):
    client = app.test_client()
    sign_in(client, personas["centre_user"])
    # Forbidden, not malformed: the request is fine, the session may not write without it.
    body = assert_problem(client.patch(URL, json=CHANGE), 403)
    assert "CSRF" in body["detail"]
    assert centre_a().summary != CHANGE["summary"]
    assert update_events() == []


def test_a_session_write_with_a_wrong_csrf_token_is_refused(app, personas, csrf_enabled):
    client = app.test_client()
    sign_in(client, personas["centre_user"])
    csrf_token_for(app, client)
    response = client.patch(URL, json=CHANGE, headers={"X-CSRFToken": "forged"})
    assert_problem(response, 403)


def test_a_session_write_with_the_csrf_token_is_accepted(app, personas, csrf_enabled):
    client = app.test_client()
    sign_in(client, personas["centre_user"])
    token = csrf_token_for(app, client)
    response = client.patch(URL, json=CHANGE, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_bearer_write_needs_no_csrf_token(client, bearer, csrf_enabled):
    response = client.patch(URL, json=CHANGE, headers=bearer("centre_user"))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_an_anonymous_write_is_401_not_a_csrf_error(client, personas, csrf_enabled):
    assert_problem(client.patch(URL, json=CHANGE), 401)


def test_reads_need_no_csrf_token(app, personas, csrf_enabled):
    client = app.test_client()
    sign_in(client, personas["centre_user"])
    assert client.get(URL).status_code == 200
