"""Republishing after approved restatements is queued and coalesced (issue 15).

The approval records a pending row per period in its own transaction and renders nothing;
the job (after the response, the CLI command, or an rq worker) republishes each period once,
however many approvals came before it ran, and a failure midway leaves the row.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from marketplace.benchmarks import restatements
from marketplace.extensions import db
from marketplace.publications import republishing, services
from marketplace.publications.models import PendingRepublication
from tests.benchmarks.ingest_world import audit_events
from tests.publications.test_restatement_doors import _bumped
from tests.publications.test_restatement_doors import waiting as waiting_fixture
from tests.publications.test_restatement_wiring import _versions

REDIS_URL = "redis://127.0.0.1:6379/5"
waiting = waiting_fixture  # Q3 published; two restatements of it wait for the authority


def _rows() -> list[PendingRepublication]:
    db.session.expire_all()
    return list(db.session.scalars(select(PendingRepublication)))


def _approve(public_ids) -> None:
    restatements.approve(list(public_ids), actor=None, actor_label="test-admin")
    db.session.commit()


def test_an_approval_queues_the_period_and_renders_nothing(world, waiting):
    before = _versions(world.q3)
    _approve(r.public_id for r in restatements.pending())

    assert _versions(world.q3) == before  # nothing rendered in the approval
    [row] = _rows()
    assert row.period_id == world.q3.id and row.generation == 1
    assert "ssc-a ap_cost_per_invoice" in row.reasons and "ssc-b" in row.reasons
    assert audit_events("publication.restatement_republish")[-1].detail["queued"] is True

    [result] = republishing.run_pending()
    assert result == {"period_id": world.q3.id, "published": result["published"], "pending": False}
    bumped = _bumped(world, before)
    assert set(bumped.values()) == {1}
    assert ("league_table", None) in bumped and ("open_data_json", None) in bumped
    assert _rows() == []


def test_several_approvals_before_the_job_runs_republish_once(world, waiting):
    before = _versions(world.q3)
    first, second = (r.public_id for r in restatements.pending())
    _approve([first])
    _approve([second])

    [row] = _rows()
    assert row.generation == 2  # coalesced: one row, two approvals
    republishing.run_pending()
    bumped = _bumped(world, before)
    assert set(bumped.values()) == {1}  # one new version of each, for two approvals
    assert ("centre_report", world.centres[0].id) in bumped
    assert ("centre_report", world.centres[1].id) in bumped
    assert _rows() == []


def test_a_job_that_finds_nothing_pending_does_nothing(world, waiting):
    _approve(r.public_id for r in restatements.pending())
    republishing.run_period(world.q3.id)
    after = _versions(world.q3)
    count = len(audit_events("publication.published"))

    assert republishing.run_period(world.q3.id) == {
        "period_id": world.q3.id,
        "published": 0,
        "pending": False,
    }
    assert republishing.run_pending() == []
    assert _versions(world.q3) == after
    assert len(audit_events("publication.published")) == count


def test_a_failure_midway_leaves_the_row_and_a_rerun_publishes_each_artefact_once(
    app, world, waiting, monkeypatch
):
    before = _versions(world.q3)
    _approve(r.public_id for r in restatements.pending())
    real = services.produce
    calls = {"n": 0}

    def fail_on_the_second(item, config):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost its disk")
        return real(item, config)

    monkeypatch.setattr(services, "produce", fail_on_the_second)
    with pytest.raises(RuntimeError):
        republishing.run_period(world.q3.id)
    [row] = _rows()
    assert row.attempts == 1 and "worker lost its disk" in row.last_error
    assert len(_bumped(world, before)) == 1  # the first artefact is kept (committed)

    monkeypatch.setattr(services, "produce", real)
    result = republishing.run_period(world.q3.id)
    assert result["pending"] is False
    bumped = _bumped(world, before)
    assert set(bumped.values()) == {1}  # each exactly once across the two runs
    assert ("league_table", None) in bumped
    assert _rows() == []


def test_an_approval_during_the_job_keeps_its_row_for_the_next_job(world, waiting, monkeypatch):
    first, second = (r.public_id for r in restatements.pending())
    _approve([first])
    real = services.record
    state = {"approved": False}

    def approve_meanwhile(item, produced):
        if not state["approved"]:
            state["approved"] = True
            _approve([second])  # a second approval arrives while the first job renders
        return real(item, produced)

    monkeypatch.setattr(services, "record", approve_meanwhile)
    result = republishing.run_period(world.q3.id)
    assert result["pending"] is True  # the newer generation waits for its own job
    monkeypatch.setattr(services, "record", real)
    assert republishing.run_period(world.q3.id)["pending"] is False
    assert _rows() == []


def test_the_page_answers_before_republishing_and_shows_it_queued(as_persona, world, waiting):
    before = _versions(world.q3)
    ids = [r.public_id for r in restatements.pending()]
    admin = as_persona("admin")
    response = admin.post(
        "/admin/restatements",
        data={"restatements": ids, "decision": "approve"},
        buffered=False,
    )
    # The response is ready, nothing has rendered yet, and the work is recorded.
    assert response.status_code == 302
    assert _versions(world.q3) == before
    assert [row.period_id for row in _rows()] == [world.q3.id]
    periods = as_persona("admin").get("/admin/periods").get_data(as_text=True)
    assert "Republishing queued" in periods
    listing = as_persona("admin").get("/admin/restatements").get_data(as_text=True)
    assert "Republishing queued" in listing and "Q3 2026" in listing
    response.close()  # the server has sent it: the queued work runs now
    assert set(_bumped(world, before).values()) == {1}
    assert _rows() == []
    assert "Republishing queued" not in as_persona("admin").get("/admin/periods").get_data(
        as_text=True
    )


def test_the_cli_runs_what_is_pending(app, world, waiting):
    before = _versions(world.q3)
    _approve(r.public_id for r in restatements.pending())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["publications", "run-pending"])
    assert result.exit_code == 0, result.output
    assert "2026-Q3:" in result.output
    assert set(_bumped(world, before).values()) == {1}
    again = runner.invoke(args=["publications", "run-pending"])
    assert "Nothing waits to be republished." in again.output


@pytest.fixture
def redis_queue():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("REDIS IS NOT RUNNING on 127.0.0.1:6379: the queued path was not tested.")
    name = f"republish-test-{uuid.uuid4().hex[:12]}"
    yield name
    from rq import Queue

    Queue(name, connection=connection).delete(delete_jobs=True)


def test_with_redis_one_job_per_period_is_queued_after_the_commit(app, world, waiting, redis_queue):
    from redis import Redis
    from rq import SimpleWorker

    from marketplace.publications import jobs

    before = _versions(world.q3)
    saved = {key: app.config.get(key) for key in ("REDIS_URL", "REPORTS_QUEUE")}
    app.config.update(REDIS_URL=REDIS_URL, REPORTS_QUEUE=redis_queue)
    try:
        first, second = (r.public_id for r in restatements.pending())
        restatements.approve([first], actor=None, actor_label="test-admin")
        queue = jobs.queue(REDIS_URL, redis_queue)
        assert queue.count == 0  # nothing is queued before the commit
        db.session.commit()
        _approve([second])
        assert queue.count == 2  # one job per commit; the second finds nothing left to do
        worker = SimpleWorker([queue], connection=Redis.from_url(REDIS_URL))
        worker.work(burst=True)
    finally:
        app.config.update(saved)
    assert set(_bumped(world, before).values()) == {1}
    assert _rows() == []
