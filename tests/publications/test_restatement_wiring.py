"""A restatement sent through an upload path republishes the published report itself."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.publications import services
from marketplace.publications.models import Publication
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


def test_restating_a_published_figure_by_the_cli_publishes_version_2(app, world, tmp_path):
    services.publish_inline(world.q3, actor_label="test")
    centre = world.centres[0]
    upload = tmp_path / "restatement.csv"
    upload.write_text("metric,period,value\nap_cost_per_invoice,2026-Q3,4.40\n")

    result = app.test_cli_runner().invoke(
        args=["import-benchmarks", centre.slug, str(upload), "--reason", "Double counted"]
    )

    assert result.exit_code == 0, result.output
    versions = _reports(world.q3, centre)
    assert [(v.version, v.status) for v in versions] == [(1, "superseded"), (2, "current")]
    assert "Double counted" in versions[1].change_note


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
