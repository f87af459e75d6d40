"""Text no database can hold (NUL) and form parts without a name are refused up front, with a
clear answer rather than a server error on PostgreSQL. Found by the API fuzzer."""

from __future__ import annotations

import pytest

from marketplace.audit.models import AuditEvent
from marketplace.catalogue.models import ServiceCentre
from marketplace.extensions import db
from tests.api.helpers import assert_answers_at_once, assert_problem

NAMELESS_PART = (
    b"--b\r\n"
    b'Content-Disposition: form-data; name="\r"\r\n\r\nnull\r\n'
    b"--b\r\n"
    b'Content-Disposition: form-data; name="file"; filename="f.csv"\r\n\r\nmetric\r\n'
    b"--b--\r\n"
)


@pytest.fixture(autouse=True)
def answers_at_once_after(app):
    """After each refused input below, the server answers /healthz within 100 ms."""
    yield
    assert_answers_at_once(app.test_client())


@pytest.mark.parametrize(
    "url", ["/api/v1/centres?q=%00", "/api/v1/centres?q=ok&sort=name%00", "/api/v1/reports?x%00=1"]
)
def test_a_nul_in_the_query_string_is_a_422_naming_the_parameter(client, url):
    body = assert_problem(client.get(url), 422)
    assert body["errors"][0]["message"] == "Remove the NUL character (\\0) from this value."


def test_a_nul_in_an_audit_filter_is_refused_not_a_server_error(as_persona):
    response = as_persona("admin").get("/api/v1/audit-events?organisation=%00&format=csv")
    body = assert_problem(response, 422)
    assert [error["field"] for error in body["errors"]] == ["organisation"]


def test_a_nul_in_a_json_body_changes_nothing(as_persona, personas):
    centre = db.session.execute(
        db.select(ServiceCentre).where(ServiceCentre.slug == "centre-a")
    ).scalar_one()
    before = centre.summary
    response = as_persona("centre_user").patch(
        "/api/v1/centres/centre-a", json={"summary": "Payroll\u0000 for Wales"}
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "summary"
    db.session.expire_all()
    assert db.session.get(ServiceCentre, centre.id).summary == before
    assert db.session.query(AuditEvent).filter_by(action="centre.update").count() == 0


def test_a_nul_in_a_web_form_field_is_shown_as_an_error_page(as_persona):
    response = as_persona(None).post(
        "/login", data={"email": "someone@example.org\x00", "password": "x"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Remove the NUL character (\\0) from this value." in page


@pytest.mark.parametrize("persona", ["buyer", "centre_user"])
def test_a_form_part_without_a_name_is_a_400_not_a_crash(as_persona, personas, persona):
    response = as_persona(persona).post(
        "/api/v1/centres/centre-a/submissions",
        data=NAMELESS_PART,
        content_type="multipart/form-data; boundary=b",
    )
    body = assert_problem(response, 400)
    assert body["detail"] == "A part of the form has no name the server can read."
