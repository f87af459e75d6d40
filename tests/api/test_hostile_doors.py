"""Hidden centres are 404 through every door to those who may not see them; PATCH lists are
bounded as the web form bounds them; route numbers beyond their columns are 404. Issue 13."""

from __future__ import annotations

import pytest
from sqlalchemy import func

from marketplace.accounts.tokens import create_token
from marketplace.audit.models import AuditEvent
from marketplace.catalogue.models import AccreditationEvent, ServiceCentre
from marketplace.extensions import db
from tests.api.helpers import assert_answers_at_once, assert_problem
from tests.factories import ServiceCentreFactory


@pytest.fixture(autouse=True)
def answers_at_once_after(app):
    """After each hostile request below, the server answers /healthz within 100 ms."""
    yield
    assert_answers_at_once(app.test_client())


@pytest.fixture
def bearer(personas):
    def make(name: str) -> dict:
        _, secret = create_token(personas[name], f"{name} script")
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.mark.parametrize("status", ["applied", "withdrawn"])
def test_posting_to_a_hidden_centres_submissions_is_404_not_403_naming_it(
    client, personas, bearer, status
):
    hidden = ServiceCentreFactory(accreditation_status=status)
    url = f"/api/v1/centres/{hidden.slug}/submissions"
    for name in ("buyer", "other_centre_user"):
        got = client.get(f"/api/v1/centres/{hidden.slug}", headers=bearer(name))
        posted = client.post(
            url, data=b"metric,period,value\n", content_type="text/csv", headers=bearer(name)
        )
        assert got.status_code == 404
        body = assert_problem(posted, 404)
        assert hidden.name not in body["detail"]


def test_a_patch_with_more_sites_than_the_form_takes_is_422(as_persona):
    sites = [{"name": f"Site {i}"} for i in range(20_000)]
    response = as_persona("centre_user").patch("/api/v1/centres/centre-a", json={"sites": sites})
    body = assert_problem(response, 422)
    assert any("at most 200" in e["message"] for e in body["errors"])


def test_a_patch_with_an_empty_service_line_code_is_422(as_persona):
    response = as_persona("centre_user").patch(
        "/api/v1/centres/centre-a", json={"service_lines": [""]}
    )
    assert_problem(response, 422)


@pytest.mark.parametrize("version", ["9223372036854775808", "2147483648", "9" * 5000])
def test_report_versions_beyond_the_integer_column_are_404(client, version):
    for url in (
        f"/reports/centre-a/2026-Q1/v{version}.pdf",
        f"/reports/league-table/2026-Q1/v{version}.pdf",
        f"/reports/2026-Q1/v{version}.csv",
    ):
        assert client.get(url).status_code == 404
    assert client.get("/healthz").status_code == 200


def test_deep_json_to_the_api_is_a_400_problem(as_persona):
    response = as_persona("centre_user").patch(
        "/api/v1/centres/centre-a", data="[" * 100_000, content_type="application/json"
    )
    assert_problem(response, 400)


def test_a_huge_integer_in_json_is_a_400_problem(as_persona):
    response = as_persona("centre_user").patch(
        "/api/v1/centres/centre-a",
        data='{"capacity": {"employees_served": ' + "9" * 5000 + "}}",
        content_type="application/json",
    )
    assert_problem(response, 400)


@pytest.mark.parametrize("text", ["Payroll\\ud800", "Payroll\\u000c", "Payroll\\u001b"])
def test_uncarriable_text_in_json_is_422_naming_the_field(as_persona, text):
    response = as_persona("centre_user").patch(
        "/api/v1/centres/centre-a",
        data='{"summary": "' + text + '"}',
        content_type="application/json",
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "summary"


def test_uncarriable_text_in_a_web_form_is_refused(as_persona):
    response = as_persona(None).post("/login", data={"email": "a\x1b@example.org", "password": "x"})
    assert response.status_code == 422


def test_an_api_request_accepting_only_xml_is_406(client):
    response = client.get("/api/v1/centres", headers={"Accept": "application/xml"})
    body = assert_problem(response, 406)
    assert "JSON" in body["detail"]
    assert client.get("/api/v1/centres", headers={"Accept": "*/*"}).status_code == 200


def test_too_many_form_parts_is_not_called_a_file_too_large(app, as_persona):
    parts = b"".join(
        b'--b\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n' % i for i in range(2000)
    )
    response = as_persona("centre_user").post(
        "/centre/submissions/new",
        data=parts + b"--b--\r\n",
        content_type="multipart/form-data; boundary=b",
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "too many parts" in page and "file is too large" not in page


@pytest.fixture
def flush_fails_mid_request(app, personas, monkeypatch):
    """An accreditation change whose writes are flushed, and then the database fails (as a
    lock timeout or a lost connection would): the view never reaches its commit."""
    from sqlalchemy.exc import OperationalError

    from marketplace.catalogue import accreditation

    db.session.commit()  # the personas stay; only the failing request's work may be undone
    real_record = accreditation._record

    def record_then_fail(*args, **kwargs):
        real_record(*args, **kwargs)  # the event, the centre's new status, the audit event
        raise OperationalError("UPDATE service_centres", {}, Exception("database is locked"))

    monkeypatch.setattr(accreditation, "_record", record_then_fail)
    # The suite lets exceptions through to the test; production turns them into the page.
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    return monkeypatch


def _suspended_or_not() -> tuple[str, int, int]:
    db.session.expire_all()
    status = db.session.execute(
        db.select(ServiceCentre.accreditation_status).where(ServiceCentre.slug == "centre-a")
    ).scalar_one()
    history = db.session.execute(
        db.select(func.count())
        .select_from(AccreditationEvent)
        .where(AccreditationEvent.action == "suspend")
    ).scalar_one()
    audited = db.session.execute(
        db.select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "accreditation.suspend")
    ).scalar_one()
    return status, history, audited


def test_a_failed_flush_shows_the_500_page_rolls_back_and_the_next_request_works(
    as_persona, flush_fails_mid_request
):
    admin = as_persona("admin")
    url = "/admin/centres/centre-a/suspend"
    response = admin.post(url, data={"reason": "Audit findings", "confirmed": "yes"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in page
    assert "Something went wrong on our side." in page
    assert 'class="govuk-template"' in page and 'class="govuk-footer' in page
    assert "database is locked" not in page and "Traceback" not in page
    assert _suspended_or_not() == ("accredited", 0, 0), "nothing of the failed change is kept"

    assert_answers_at_once(admin)
    assert admin.get("/admin/centres/centre-a").status_code == 200
    flush_fails_mid_request.undo()
    again = admin.post(url, data={"reason": "Audit findings", "confirmed": "yes"})
    assert again.status_code == 302
    assert _suspended_or_not() == ("suspended", 1, 1)


def test_a_failed_flush_through_the_api_is_a_500_problem_and_rolled_back(
    client, bearer, flush_fails_mid_request
):
    headers = bearer("admin")
    db.session.commit()
    sent = {"action": "suspend", "reason": "Audit findings"}
    url = "/api/v1/centres/centre-a/accreditation"
    response = client.post(url, json=sent, headers=headers)
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "database is locked" not in response.get_data(as_text=True)
    assert _suspended_or_not() == ("accredited", 0, 0)
    assert client.get("/api/v1/centres/centre-a").status_code == 200
    flush_fails_mid_request.undo()
    assert client.post(url, json=sent, headers=headers).status_code == 200
    assert _suspended_or_not() == ("suspended", 1, 1)


@pytest.mark.parametrize(
    ("contact", "field"),
    [
        ({"email": "a" * 400 + "@example.org"}, "contact.email"),
        (
            {"website": "https://" + ".".join(["b" * 60] * 4) + ".org/" + "p" * 300},
            "contact.website",
        ),
    ],
)
def test_a_contact_longer_than_its_column_is_422_not_a_database_error(
    as_persona, client, contact, field
):
    # Both pass the address checks; PostgreSQL refused them on save (a 500) before.
    response = as_persona("centre_user").patch(
        "/api/v1/centres/centre-a", json={"contact": contact}
    )
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == [field]
    assert "characters or fewer" in body["errors"][0]["message"]
    document = client.get("/api/v1/openapi.json").get_json()
    name = field.split(".")[1]
    assert document["components"]["schemas"]["Contact"]["properties"][name]["maxLength"] in (
        300,
        320,
    )
