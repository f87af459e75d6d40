"""A restatement sent through an upload path republishes the published report itself."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.benchmarks import restatements, submissions
from marketplace.benchmarks.models import Observation
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.publications import services
from marketplace.publications.models import Publication
from tests.benchmarks.ingest_world import audit_events
from tests.factories import ReportingPeriodFactory


def _reports(period, centre):
    return db.session.scalars(
        select(Publication)
        .where(
            Publication.period_id == period.id,
            Publication.centre_id == centre.id,
            Publication.kind == "centre_report",
        )
        .order_by(Publication.version)
    ).all()


def _current(period, kind):
    return db.session.scalars(
        select(Publication).where(
            Publication.period_id == period.id,
            Publication.kind == kind,
            Publication.status == "current",
        )
    ).all()


def _versions(period) -> dict:
    rows = db.session.scalars(select(Publication).where(Publication.period_id == period.id))
    counts: dict = {}
    for row in rows:
        key = (row.kind, row.centre_id)
        counts[key] = max(counts.get(key, 0), row.version)
    return counts


def test_a_restatement_waits_for_the_authority_then_publishes_once(
    app, world, tmp_path, personas, as_persona
):
    """Issue 12, point 5: pending -> approved -> exactly one new version per affected output."""
    services.publish_inline(world.q3, actor_label="test")
    before = _versions(world.q3)
    centre, other = world.centres[0], world.centres[1]
    observation = db.session.scalars(
        select(Observation).where(
            Observation.centre_id == centre.id, Observation.period_id == world.q3.id
        )
    ).first()
    published_value = observation.value
    code = observation.metric.code
    upload = tmp_path / "restatement.csv"
    upload.write_text(f"metric,period,value\n{code},2026-Q3,4.40\n")
    result = app.test_cli_runner().invoke(
        args=["import-benchmarks", centre.slug, str(upload), "--reason", "Double counted"]
    )
    assert result.exit_code == 0, result.output
    # Pending: the figure and every published output stay as they were.
    db.session.expire_all()
    assert db.session.get(Observation, observation.id).value == published_value
    assert _versions(world.q3) == before
    (waiting,) = restatements.pending()
    assert (waiting.status, waiting.reason, waiting.value) == (
        "pending",
        "Double counted",
        Decimal("4.4"),
    )

    # A second centre's restatement of the same period waits beside it.
    other_obs = db.session.scalars(
        select(Observation).where(
            Observation.centre_id == other.id,
            Observation.period_id == world.q3.id,
            Observation.metric_id == observation.metric_id,
        )
    ).one()
    other_file = tmp_path / "other.csv"
    other_file.write_text(f"metric,period,value\n{code},2026-Q3,9.10\n")
    assert (
        app.test_cli_runner()
        .invoke(
            args=["import-benchmarks", other.slug, str(other_file), "--reason", "Late credit notes"]
        )
        .exit_code
        == 0
    )
    assert len(restatements.pending()) == 2

    # The admin page lists both and approves them in one step.
    admin = as_persona("admin")
    page = admin.get("/admin/restatements").get_data(as_text=True)
    assert "Double counted" in page and "Late credit notes" in page
    ids = [r.public_id for r in restatements.pending()]
    response = admin.post("/admin/restatements", data={"restatements": ids, "decision": "approve"})
    assert response.status_code == 302, response.get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(Observation, observation.id).value == Decimal("4.4")
    assert db.session.get(Observation, other_obs.id).value == Decimal("9.1")
    after = _versions(world.q3)
    bumped = {
        key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key)
    }
    # Exactly one new version of each affected output, however many restatements.
    assert set(bumped.values()) == {1}
    assert ("centre_report", centre.id) in bumped and ("centre_report", other.id) in bumped
    assert ("league_table", None) in bumped and ("open_data_csv", None) in bumped
    (report,) = [r for r in _current(world.q3, "centre_report") if r.centre_id == centre.id]
    assert report.version == 2 and "Double counted" in report.change_note
    assert [e.action for e in audit_events("restatement.approved")] == [
        "restatement.approved",
        "restatement.approved",
    ]


def test_a_refused_restatement_keeps_the_published_figure_and_tells_the_centre(
    app, world, personas
):
    services.publish_inline(world.q3, actor_label="test")
    before = _versions(world.q3)
    centre = world.centres[0]
    observation = db.session.scalars(
        select(Observation).where(
            Observation.centre_id == centre.id, Observation.period_id == world.q3.id
        )
    ).first()
    outcome = submissions.submit(
        centre,
        f"metric,period,value\n{observation.metric.code},2026-Q3,4.40\n".encode(),
        filename="r.csv",
        content_type="text/csv",
        channel="api",
        reason="Typo",
    )
    assert outcome.submission.summary["pending"] == 1
    (item,) = restatements.pending()
    with pytest.raises(ValidationFailed):
        restatements.refuse([item.public_id], actor=personas["admin"], reason="")
    restatements.refuse([item.public_id], actor=personas["admin"], reason="Evidence missing")
    db.session.flush()
    assert item.status == "refused"
    assert db.session.get(Observation, observation.id).value == observation.value
    assert _versions(world.q3) == before
    assert [e.detail["refusal"] for e in audit_events("restatement.refused")] == [
        "Evidence missing"
    ]


def test_a_new_figure_in_an_open_period_publishes_nothing(app, world, tmp_path):
    ReportingPeriodFactory(year=2026, quarter=4, status="open")
    services.publish_inline(world.q3, actor_label="test")
    centre = world.centres[0]
    before = len(_reports(world.q3, centre))
    upload = tmp_path / "q4.csv"
    upload.write_text("metric,period,value\nap_cost_per_invoice,2026-Q4,4.50\n")
    result = app.test_cli_runner().invoke(args=["import-benchmarks", centre.slug, str(upload)])
    assert result.exit_code == 0, result.output
    assert len(_reports(world.q3, centre)) == before
