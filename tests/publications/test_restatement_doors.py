"""Restatement approval through every door: the admin page, the API and the CLI share one
service and one schema, so each republishes once per period, needs a reason to refuse, and
is for administrators only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.accounts.tokens import create_token
from marketplace.benchmarks import restatements, submissions
from marketplace.benchmarks.models import Observation
from marketplace.benchmarks.restatements import REASON_MAX_LENGTH
from marketplace.extensions import db
from marketplace.publications import services
from tests.benchmarks.ingest_world import audit_events
from tests.publications.test_restatement_wiring import _versions


def _bearer(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user, 'script')[1]}"}


def _restate(world, index: int, value: str, reason: str):
    centre = world.centres[index]
    observation = db.session.scalars(
        select(Observation).where(
            Observation.centre_id == centre.id,
            Observation.period_id == world.q3.id,
            Observation.metric_id == world.cost.id,
        )
    ).one()
    outcome = submissions.submit(
        centre,
        f"metric,period,value\n{world.cost.code},2026-Q3,{value}\n".encode(),
        filename="r.csv",
        content_type="text/csv",
        channel="api",
        reason=reason,
    )
    assert outcome.submission.summary["pending"] == 1
    return observation


@pytest.fixture
def waiting(world):
    """Q3 published; two centres' restatements of it wait for the authority."""
    services.publish_inline(world.q3, actor_label="test")
    first = _restate(world, 0, "4.40", "Double counted")
    second = _restate(world, 1, "9.10", "Late credit notes")
    # Committed as a request would, so a refused command's rollback keeps what is waiting.
    db.session.commit()
    return first, second, _versions(world.q3)


def _bumped(world, before) -> dict:
    after = _versions(world.q3)
    return {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key)}


def _assert_republished_once(world, waiting):
    first, second, before = waiting
    db.session.expire_all()
    assert db.session.get(Observation, first.id).value == Decimal("4.4")
    assert db.session.get(Observation, second.id).value == Decimal("9.1")
    bumped = _bumped(world, before)
    assert set(bumped.values()) == {1}  # one new version of each, for two restatements
    assert ("league_table", None) in bumped and ("open_data_csv", None) in bumped
    assert ("centre_report", world.centres[0].id) in bumped
    assert ("centre_report", world.centres[1].id) in bumped
    assert restatements.pending() == []


# --- the API ------------------------------------------------------------------------------


def test_the_api_lists_pending_restatements_and_approves_them_together(
    client, world, personas, waiting
):
    headers = _bearer(personas["admin"])
    listed = client.get("/api/v1/restatements", headers=headers)
    assert listed.status_code == 200, listed.get_json()
    body = listed.get_json()
    assert body["meta"]["total"] == 2
    assert [(r["centre"], r["period"], r["restated_value"], r["reason"]) for r in body["data"]] == [
        ("ssc-a", "2026-Q3", "4.4", "Double counted"),
        ("ssc-b", "2026-Q3", "9.1", "Late credit notes"),
    ]
    ids = [r["id"] for r in body["data"]]
    response = client.post(
        "/api/v1/restatements/approve",
        json={"restatements": ids, "reason": "Checked"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    assert [r["status"] for r in response.get_json()["data"]] == ["approved", "approved"]
    _assert_republished_once(world, waiting)
    approved = client.get("/api/v1/restatements?status=approved", headers=headers).get_json()
    assert approved["meta"]["total"] == 2
    assert [e.detail["note"] for e in audit_events("restatement.approved")] == ["Checked"] * 2
    # Decided already: a second decision is refused whole.
    again = client.post(
        "/api/v1/restatements/refuse",
        json={"restatements": ids, "reason": "No"},
        headers=headers,
    )
    assert again.status_code == 409


def test_the_api_refuses_only_with_a_reason(client, world, personas, waiting):
    first, _second, before = waiting
    headers = _bearer(personas["admin"])
    ids = [r.public_id for r in restatements.pending()]
    for body in (
        {"restatements": ids},
        {"restatements": ids, "reason": ""},
        {"restatements": ids, "reason": "   "},
        {"restatements": ids, "reason": "x" * (REASON_MAX_LENGTH + 1)},
    ):
        response = client.post("/api/v1/restatements/refuse", json=body, headers=headers)
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["field"] == "reason"
    assert len(restatements.pending()) == 2
    response = client.post(
        "/api/v1/restatements/refuse",
        json={"restatements": ids[:1], "reason": "Evidence missing"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.get_json()["data"][0]["decision_reason"] == "Evidence missing"
    db.session.expire_all()
    assert db.session.get(Observation, first.id).value == first.value
    assert _versions(world.q3) == before


def test_the_api_is_for_admins_only(client, as_persona, world, personas, waiting):
    ids = [r.public_id for r in restatements.pending()]
    assert client.get("/api/v1/restatements").status_code == 401
    for persona in ("centre_user", "buyer"):
        headers = _bearer(personas[persona])
        assert client.get("/api/v1/restatements", headers=headers).status_code == 403
        for verb in ("approve", "refuse"):
            response = client.post(
                f"/api/v1/restatements/{verb}",
                json={"restatements": ids, "reason": "Matrix"},
                headers=headers,
            )
            assert response.status_code == 403
    assert len(restatements.pending()) == 2


# --- the CLI ------------------------------------------------------------------------------


def test_the_cli_lists_and_approves_together(app, world, waiting):
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["restatements", "list"])
    assert listed.exit_code == 0, listed.output
    assert "ssc-a" in listed.output and "£4.12 → £4.40" in listed.output
    ids = [r.public_id for r in restatements.pending()]
    result = runner.invoke(args=["restatements", "approve", *ids, "--note", "Checked"])
    assert result.exit_code == 0, result.output
    assert "2 restatements approved; republishing queued." in result.output
    _assert_republished_once(world, waiting)
    assert audit_events("restatement.approved")[0].actor_label.startswith("cli:")


def test_the_cli_refuses_only_with_a_reason(app, world, waiting):
    runner = app.test_cli_runner()
    ids = [r.public_id for r in restatements.pending()]
    missing = runner.invoke(args=["restatements", "refuse", *ids])
    assert missing.exit_code != 0 and "--reason" in missing.output
    blank = runner.invoke(args=["restatements", "refuse", *ids, "--reason", " "])
    assert blank.exit_code != 0 and "Give the reason the centre will see." in blank.output
    too_long = runner.invoke(
        args=["restatements", "refuse", *ids, "--reason", "x" * (REASON_MAX_LENGTH + 1)]
    )
    assert too_long.exit_code != 0 and "2,000 characters or fewer" in too_long.output
    assert len(restatements.pending()) == 2
    result = runner.invoke(args=["restatements", "refuse", ids[0], "--reason", "Evidence missing"])
    assert result.exit_code == 0, result.output
    assert "1 restatement refused." in result.output
    assert len(restatements.pending()) == 1


# --- the page: the same schema and bounds -------------------------------------------------


def test_the_page_refuses_only_with_a_reason_and_is_for_admins_only(as_persona, world, waiting):
    ids = [r.public_id for r in restatements.pending()]
    admin = as_persona("admin")
    listing = admin.get("/admin/restatements").get_data(as_text=True)
    assert "£4.12" in listing and "£4.40" in listing and "Q3 2026" in listing
    response = admin.post("/admin/restatements", data={"restatements": ids, "decision": "refuse"})
    assert response.status_code == 422
    assert "Give the reason the centre will see." in response.get_data(as_text=True)
    response = admin.post(
        "/admin/restatements",
        data={"restatements": ids, "decision": "refuse", "reason": "x" * 2001},
    )
    assert response.status_code == 422
    assert "2,000 characters or fewer" in response.get_data(as_text=True)
    nothing = admin.post("/admin/restatements", data={"decision": "approve"})
    assert "Choose at least one restatement." in nothing.get_data(as_text=True)
    centre_user = as_persona("centre_user")
    assert centre_user.post(
        "/admin/restatements", data={"restatements": ids, "decision": "approve"}
    ).status_code in (302, 403)
    assert len(restatements.pending()) == 2
