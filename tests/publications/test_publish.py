"""Publishing a period: what is built, how it is recorded, idempotency and new versions."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.benchmarks import restatements, submissions
from marketplace.catalogue import accreditation
from marketplace.errors import IllegalTransition
from marketplace.extensions import db
from marketplace.publications import republishing, services
from marketplace.publications.models import Publication
from marketplace.publications.storage import storage_for
from tests.factories import ObservationFactory, ServiceCentreFactory


def publications(period, **filters):
    statement = select(Publication).where(Publication.period_id == period.id)
    for key, value in filters.items():
        statement = statement.where(getattr(Publication, key) == value)
    return db.session.scalars(statement.order_by(Publication.id)).all()


def restate(centre, metric_code, period_code, value, reason="Corrected after audit", approve=True):
    """Send a restatement; of a published figure it waits until the authority approves it
    (which queues the period's republication once, through events.restatements_approved);
    then run the queued republication here, as its job would after the commit."""
    body = f"metric,period,value\n{metric_code},{period_code},{value}\n".encode()
    outcome = submissions.submit(
        centre,
        body,
        filename="restatement.csv",
        content_type="text/csv",
        channel="cli",
        actor_label="test",
        reason=reason,
    )
    waiting = [r.public_id for r in restatements.pending(centre_id=centre.id)]
    if approve and waiting:
        restatements.approve(waiting, actor=None)
        db.session.commit()
        republishing.run_pending()
    return outcome


def test_publishing_builds_a_report_per_accredited_centre_a_league_table_and_open_data(app, world):
    published = services.publish_inline(world.q3, actor_label="cli:test")

    kinds = sorted(p.kind for p in published)
    assert kinds.count("centre_report") == len(world.centres)
    assert kinds.count("league_table") == 2  # the overview and the one service line's table
    assert kinds.count("open_data_csv") == kinds.count("open_data_json") == 1
    assert world.q3.status == "published"
    assert world.q3.published_at is not None
    storage = storage_for(app.config)
    for publication in published:
        content = storage.read(publication.storage_key)
        assert hashlib.sha256(content).hexdigest() == publication.sha256
        assert len(content) == publication.size_bytes
        assert publication.version == 1
        assert publication.status == "current"
        assert publication.published_at is not None
    reports = {p.centre.slug: p for p in published if p.kind == "centre_report"}
    assert reports["ssc-a"].filename == "ssc-a-2026-Q3-performance-report-v1.pdf"
    assert reports["ssc-a"].page_count >= 1
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("publication.published") == len(published)
    assert "period.published" in actions


def test_publishing_again_changes_nothing(world):
    services.publish_inline(world.q3, actor_label="test")
    before = {(p.kind, p.subject, p.sha256) for p in publications(world.q3)}

    again = services.publish_inline(world.q3, actor_label="test")

    assert again == []
    assert {(p.kind, p.subject, p.sha256) for p in publications(world.q3)} == before
    plan = services.plan_period(world.q3, actor_label="test")
    assert plan.items == []
    assert plan.unchanged == len(before)


def test_a_stopped_run_resumes_with_only_what_is_missing(app, world):
    services.start_publication(world.q3, actor_label="test")
    plan = services.plan_period(world.q3, actor_label="test")
    for item in plan.items[:2]:  # the run stopped after two artefacts
        services.record(item, services.produce(item, app.config))

    resumed = services.plan_period(world.q3, actor_label="test")

    assert len(resumed.items) == len(plan.items) - 2
    assert resumed.unchanged == 2
    assert {i.label for i in resumed.items} == {i.label for i in plan.items[2:]}


def test_only_centres_accredited_in_the_period_with_data_get_a_report(world):
    lapsed = ServiceCentreFactory(accreditation_status="withdrawn")
    # Withdrawn long before the quarter began: no report, even with a figure on file.
    for event in lapsed.accreditation_events:
        event.effective_on = world.q3.starts_on.replace(year=2023)
    ObservationFactory(centre=lapsed, metric=world.cost, period=world.q3)
    no_data = ServiceCentreFactory()
    db.session.flush()

    plan = services.plan_period(world.q3, actor_label="test")

    slugs = {i.centre_slug for i in plan.items if i.kind == "centre_report"}
    assert slugs == {c.slug for c in world.centres}
    assert lapsed.slug not in slugs and no_data.slug not in slugs


def test_an_open_period_cannot_be_published(world):
    world.q3.status = "open"
    db.session.flush()
    with pytest.raises(IllegalTransition):
        services.start_publication(world.q3, actor_label="test")


def test_open_data_holds_exactly_the_published_figures(app, world):
    published = services.publish_inline(world.q3, actor_label="test")
    storage = storage_for(app.config)
    by_kind = {p.kind: p for p in published}
    rows = list(
        csv.DictReader(io.StringIO(storage.read(by_kind["open_data_csv"].storage_key).decode()))
    )
    document = json.loads(storage.read(by_kind["open_data_json"].storage_key))

    costs = {r["centre"]: r["value"] for r in rows if r["metric"] == "ap_cost_per_invoice"}
    assert costs == {
        "ssc-a": "4.12",
        "ssc-b": "5.83",
        "ssc-c": "2.07",
        "ssc-d": "10.50",
        "ssc-e": "6.00",
    }
    median = {r["peer_median"] for r in rows if r["metric"] == "ap_cost_per_invoice"}
    assert median == {"5.83"}
    json_costs = {
        r["centre"]: r["value"] for r in document["records"] if r["metric"] == "ap_cost_per_invoice"
    }
    assert json_costs == {k: float(v) for k, v in costs.items()}
    assert document["version"] == 1
    assert document["licence"] == "Open Government Licence v3.0"
    # The two-centre group is below the confidentiality threshold: no peer figures at all.
    small = [r for r in rows if r["metric"] == "monthly_close_days"]
    assert small and all(r["peer_median"] == r["peer_n"] == r["band"] == "" for r in small)
    # And every figure in a report is a row of the open data.
    report = next(p for p in published if p.kind == "centre_report" and p.centre.slug == "ssc-a")
    shown = {(row["code"], row["value"]) for row in report.data["scorecard"]}
    assert shown == {(r["metric"], r["value"]) for r in rows if r["centre"] == "ssc-a"}


def test_a_restatement_publishes_version_2_and_keeps_version_1(app, world):
    services.publish_inline(world.q3, actor_label="test")
    centre = world.centres[0]
    first = publications(world.q3, kind="centre_report", centre_id=centre.id)[0]

    before = {p.id for p in publications(world.q3)}
    # Approving the restatement republishes the period once (events.restatements_approved).
    restate(centre, "ap_cost_per_invoice", "2026-Q3", "4.40", reason="Invoices double counted")
    republished = [p for p in publications(world.q3) if p.id not in before]

    versions = publications(world.q3, kind="centre_report", centre_id=centre.id)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].status == "superseded" and versions[0].superseded_at is not None
    assert versions[1].status == "current"
    assert versions[0].sha256 == first.sha256
    assert storage_for(app.config).verify(versions[0].storage_key, versions[0].sha256)
    note = versions[1].change_note
    assert "restated from £4.12 to £4.40" in note
    assert "Invoices double counted" in note
    assert versions[1].envelope["previous"][0]["version"] == 1
    kinds = {p.kind for p in republished}
    assert {"league_table", "open_data_csv", "open_data_json"} <= kinds
    # 4.12 -> 4.40 does not move the median (5.83), so the other centres' reports stand.
    others = [p for p in republished if p.kind == "centre_report" and p.centre_id != centre.id]
    assert others == []


def test_a_restatement_that_moves_the_median_republishes_the_peers_too(world):
    services.publish_inline(world.q3, actor_label="test")
    centre = world.centres[1]  # 5.83 is the median of the five

    before = {p.id for p in publications(world.q3)}
    restate(centre, "ap_cost_per_invoice", "2026-Q3", "5.50")
    republished = [p for p in publications(world.q3) if p.id not in before]

    reports = [p for p in republished if p.kind == "centre_report"]
    assert len(reports) == len(world.centres)
    other = next(p for p in reports if p.centre_id == world.centres[0].id)
    assert "peer median changed from £5.83 to £5.50" in other.change_note


def test_restating_an_unpublished_period_publishes_nothing(world):
    assert services.republish_for_restatement(world.centres[0].id, world.q3.id) == []
    assert publications(world.q3) == []


def test_a_suspended_centre_keeps_its_published_report(world):
    services.publish_inline(world.q3, actor_label="test")
    accreditation.change(world.centres[0], "suspend", actor_label="test", reason="Audit")

    assert services.plan_period(world.q3, actor_label="test").items == []
