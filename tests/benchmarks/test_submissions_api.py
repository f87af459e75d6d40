"""POST /api/v1/centres/<slug>/submissions and GET …/observations."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from marketplace.accounts.tokens import create_token
from tests.benchmarks.ingest_world import audit_events, csv_bytes, snapshot, value_of, xlsx_bytes
from tests.factories import ObservationFactory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
URL = "/api/v1/centres/centre-a/submissions"
GOOD = csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,4.12")


@pytest.fixture
def token(personas):
    def make(name: str) -> dict:
        _, secret = create_token(personas[name], f"{name} script")
        return {"Authorization": f"Bearer {secret}"}

    return make


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_a_csv_body_is_accepted_then_a_resend_is_200(world, client, token):
    headers = token("centre_user")
    response = client.post(URL, data=GOOD, content_type="text/csv", headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["created"] is True
    assert body["centre"] == "centre-a" and body["channel"] == "api" and body["rows"] == 1
    assert body["changes"] == [
        {
            "metric": "ap_cost_per_invoice",
            "period": "2026-Q3",
            "old": None,
            "new": "4.12",
            "restated": False,
        }
    ]
    assert value_of(world, world.cost, world.open).value == Decimal("4.12")

    before = snapshot()
    again = client.post(URL, data=GOOD, content_type="text/csv", headers=headers)
    assert again.status_code == 200
    assert again.get_json()["id"] == body["id"] and again.get_json()["created"] is False
    assert snapshot() == before


def test_a_json_body_with_a_reason_restates(world, client, token):
    ObservationFactory(centre=world.centre, metric=world.cost, period=world.closed, value=5)
    payload = {
        "observations": [{"metric": "ap_cost_per_invoice", "period": "2026-Q2", "value": 4.5}],
        "reason": "Supplier credit notes were missed",
    }
    response = client.post(URL, json=payload, headers=token("centre_user"))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["changes"][0]["restated"] is True
    assert value_of(world, world.cost, world.closed).revision == 2


def test_an_excel_body_and_a_multipart_form_are_accepted(world, client, token):
    headers = token("centre_user")
    book = xlsx_bytes([["metric", "period", "value"], ["ap_cost_per_invoice", "2026-Q3", 4.12]])
    response = client.post(URL, data=book, content_type=XLSX, headers=headers)
    assert response.status_code == 201
    assert response.get_json()["file_format"] == "xlsx_long"
    import io

    form = {"file": (io.BytesIO(csv_bytes("metric,2026-Q3", "payroll_accuracy,99")), "w.csv")}
    response = client.post(URL, data=form, content_type="multipart/form-data", headers=headers)
    assert response.status_code == 201
    assert response.get_json()["filename"] == "w.csv"


def test_a_bad_file_is_422_with_every_error_and_nothing_written(world, client, token):
    before = snapshot()
    content = csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,-", "nope,2026-Q3,1")
    response = client.post(URL, data=content, content_type="text/csv", headers=token("centre_user"))
    body = assert_problem(response, 422)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "value"), (3, "metric")]
    assert "placeholder" in body["errors"][0]["message"]
    assert snapshot() == before
    assert len(audit_events("submission.refused")) == 1


def test_restating_without_a_reason_is_422(world, client, token):
    ObservationFactory(centre=world.centre, metric=world.cost, period=world.published, value=5)
    content = csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q1,6")
    response = client.post(URL, data=content, content_type="text/csv", headers=token("centre_user"))
    body = assert_problem(response, 422)
    assert "Give a reason" in body["errors"][0]["message"]
    ok = client.post(
        URL + "?reason=Late+invoices",
        data=content,
        content_type="text/csv",
        headers=token("centre_user"),
    )
    assert ok.status_code == 201
    assert ok.get_json()["reason"] == "Late invoices"


def test_another_centres_token_is_403_and_audited(world, client, token):
    before = snapshot()
    response = client.post(
        URL, data=GOOD, content_type="text/csv", headers=token("other_centre_user")
    )
    assert_problem(response, 403)
    assert snapshot() == before
    (event,) = audit_events("submission.forbidden")
    assert event.actor_id == world.other_user.id
    assert event.organisation_id == world.other.organisation_id
    assert event.object_id == "centre-a"
    assert event.detail["via"] == "token"


@pytest.mark.parametrize("persona", ["buyer", "admin"])
def test_people_of_other_roles_cannot_submit(world, as_persona, persona):
    response = as_persona(persona).post(URL, data=GOOD, content_type="text/csv")
    assert_problem(response, 403)
    assert len(audit_events("submission.forbidden")) == 1


def test_anonymous_is_401_and_an_unknown_centre_404(world, client, token):
    assert_problem(client.post(URL, data=GOOD, content_type="text/csv"), 401)
    response = client.post(
        "/api/v1/centres/nowhere/submissions",
        data=GOOD,
        content_type="text/csv",
        headers=token("centre_user"),
    )
    assert_problem(response, 404)


def test_wrong_content_type_is_415_and_too_large_is_413(world, client, token, app, monkeypatch):
    headers = token("centre_user")
    assert_problem(client.post(URL, data=b"GIF89a", content_type="image/gif", headers=headers), 415)
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 16)
    body = assert_problem(
        client.post(URL, data=GOOD, content_type="text/csv", headers=headers), 413
    )
    assert "larger than the limit" in body["detail"]


def test_a_session_write_needs_the_csrf_header(world, as_persona, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = as_persona("centre_user").post(URL, data=GOOD, content_type="text/csv")
    assert response.status_code == 403
    assert snapshot()["submissions"] == []


def test_observations_public_see_published_only_the_centre_sees_all(world, client, token):
    ObservationFactory(centre=world.centre, metric=world.cost, period=world.published, value=5)
    ObservationFactory(centre=world.centre, metric=world.cost, period=world.open, value=4)
    url = "/api/v1/centres/centre-a/observations"

    public = client.get(url).get_json()
    assert [(o["metric"], o["period"], o["value"]) for o in public["data"]] == [
        ("ap_cost_per_invoice", "2026-Q1", "5.000000")
    ]
    own = client.get(url, headers=token("centre_user")).get_json()
    assert [o["period"] for o in own["data"]] == ["2026-Q3", "2026-Q1"]
    assert own["meta"]["total"] == 2
    filtered = client.get(url + "?period=2026-Q3", headers=token("centre_user")).get_json()
    assert [o["period"] for o in filtered["data"]] == ["2026-Q3"]
    other = client.get(url, headers=token("other_centre_user")).get_json()
    assert other["meta"]["total"] == 1
    assert_problem(client.get(url + "?period=Q3+2026"), 422)


def test_the_openapi_document_describes_both_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/centres/{slug}/submissions"]["post"]
    assert {"201", "200", "403", "413", "415", "422"} <= set(post["responses"])
    assert {"text/csv", XLSX, "application/json"} <= set(post["requestBody"]["content"])
    assert "/api/v1/centres/{slug}/observations" in spec["paths"]
    json.dumps(spec)
