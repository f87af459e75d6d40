"""POST /api/v1/centres/<slug>/accreditation with an admin token, for scripts."""

from __future__ import annotations

from datetime import timedelta

from marketplace import clock
from marketplace.accounts.tokens import create_token
from marketplace.benchmarks.models import PeerStatistic
from marketplace.catalogue.models import ServiceCentre
from marketplace.extensions import db
from tests.admin.conftest import events
from tests.factories import MetricFactory, ObservationFactory, ReportingPeriodFactory


def _bearer(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user, 'script')[1]}"}


def test_an_admin_token_suspends_a_centre_and_the_peer_groups_follow(client, personas):
    metric = MetricFactory()
    period = ReportingPeriodFactory(year=2026, quarter=4, status="open")
    ObservationFactory(centre=personas["centre"], metric=metric, period=period)
    from marketplace.benchmarks import peers

    peers.recompute_all()
    assert db.session.execute(db.select(PeerStatistic.n)).scalar_one() == 1
    response = client.post(
        "/api/v1/centres/centre-a/accreditation",
        json={"action": "suspend", "reason": "Audit findings"},
        headers=_bearer(personas["admin"]),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "suspended"
    assert body["event"]["reason"] == "Audit findings"
    assert events("accreditation.suspend", "centre-a")[0].actor_label == personas["admin"].email
    # The running quarter's group is redrawn in the same transaction: centre A has left it.
    db.session.expire_all()
    assert db.session.execute(db.select(PeerStatistic)).scalar_one_or_none() is None


def test_renew_needs_a_later_date(client, personas):
    headers = _bearer(personas["admin"])
    response = client.post(
        "/api/v1/centres/centre-a/accreditation", json={"action": "renew"}, headers=headers
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "valid_until"
    later = (clock.today() + timedelta(days=900)).isoformat()
    response = client.post(
        "/api/v1/centres/centre-a/accreditation",
        json={"action": "renew", "valid_until": later},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.get_json()["valid_until"] == later


def test_transitions_not_in_the_graph_are_409(client, personas):
    response = client.post(
        "/api/v1/centres/centre-a/accreditation",
        json={"action": "reinstate", "reason": "x"},
        headers=_bearer(personas["admin"]),
    )
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"


def test_only_admins(client, personas):
    response = client.post(
        "/api/v1/centres/centre-a/accreditation",
        json={"action": "suspend", "reason": "x"},
        headers=_bearer(personas["centre_user"]),
    )
    assert response.status_code == 403
    assert (
        client.post(
            "/api/v1/centres/centre-a/accreditation", json={"action": "suspend"}
        ).status_code
        == 401
    )
    status = db.session.execute(
        db.select(ServiceCentre.accreditation_status).where(ServiceCentre.slug == "centre-a")
    ).scalar_one()
    assert status == "accredited"


def test_unknown_centre_and_bad_body(client, personas):
    headers = _bearer(personas["admin"])
    assert (
        client.post(
            "/api/v1/centres/nowhere/accreditation", json={"action": "suspend"}, headers=headers
        ).status_code
        == 404
    )
    assert (
        client.post("/api/v1/centres/centre-a/accreditation", data="x", headers=headers).status_code
        == 415
    )
    assert (
        client.post(
            "/api/v1/centres/centre-a/accreditation", json={"action": "promote"}, headers=headers
        ).status_code
        == 422
    )


def test_the_cli_command_recomputes_peer_groups_too(app, personas):
    from marketplace.benchmarks import peers

    metric = MetricFactory()
    period = ReportingPeriodFactory(year=2026, quarter=4, status="open")
    ObservationFactory(centre=personas["centre"], metric=metric, period=period)
    peers.recompute_all()
    result = app.test_cli_runner().invoke(
        args=["accreditation", "centre-a", "suspend", "--reason", "Audit findings"]
    )
    assert result.exit_code == 0, result.output
    assert "accredited -> suspended" in result.output
    db.session.expire_all()
    assert db.session.execute(db.select(PeerStatistic)).scalar_one_or_none() is None
