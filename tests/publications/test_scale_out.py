"""Both ways of rendering at scale — the local pool and RQ workers — publish the same bytes.

The RQ test uses the real Redis on 127.0.0.1:6379 (a queue of its own, removed afterwards)
and an in-process burst worker, which runs the very job function `rq worker` runs.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.publications import jobs, services
from marketplace.publications.models import Publication

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_queue():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(
            "REDIS IS NOT RUNNING on 127.0.0.1:6379: the RQ publishing path was not tested. "
            "Start it with `redis-server --daemonize yes`."
        )
    name = f"reports-test-{uuid.uuid4().hex[:12]}"
    yield name
    from rq import Queue

    Queue(name, connection=connection).delete(delete_jobs=True)


def run_burst_worker(queue_name: str) -> None:
    from redis import Redis
    from rq import SimpleWorker

    connection = Redis.from_url(REDIS_URL)
    worker = SimpleWorker([jobs.queue(REDIS_URL, queue_name)], connection=connection)
    worker.work(burst=True)


def test_the_local_pool_and_rq_workers_publish_identical_files(app, world, redis_queue):
    services.start_publication(world.q3, actor_label="test")
    plan = services.plan_period(world.q3, actor_label="test")

    local = {}
    for item, produced, error in jobs.run_local(plan.items, app.config, jobs=2):
        assert error is None
        local[item.label] = produced.sha256
    assert len(local) == len(plan.items)
    assert db.session.scalars(select(Publication)).all() == []  # producing records nothing

    queued = jobs.enqueue(plan, REDIS_URL, name=redis_queue)
    run_burst_worker(redis_queue)

    results = {}
    for job in queued:
        job.refresh()
        assert job.get_status() == "finished", job.exc_info
        results[job.return_value()["label"]] = job.return_value()["sha256"]
    assert results == local
    recorded = {
        (p.kind, p.subject): p.sha256 for p in db.session.scalars(select(Publication)).all()
    }
    assert sorted(recorded.values()) == sorted(local.values())


def test_the_publish_command_renders_locally_with_a_progress_bar(app, world):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["publish", "--period", "2026-Q3", "--jobs", "2"])

    assert result.exit_code == 0, result.output
    total = len(world.centres) + 4  # the league overview, its finance table, open data ×2
    assert f"{total} to publish, 0 already up to date" in result.output
    assert "Rendering with 2 job(s)" in result.output
    assert f"Published {total} artefact(s)" in result.output
    again = runner.invoke(args=["publish", "--period", "2026-Q3"])
    assert again.exit_code == 0
    assert f"0 to publish, {total} already up to date" in again.output


def test_the_publish_command_queues_for_rq_workers(app, world, redis_queue, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "REPORTS_QUEUE", redis_queue)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["publish", "--period", "2026-Q3", "--no-wait"])

    assert result.exit_code == 0, result.output
    assert f"Queued {len(world.centres) + 4} job(s)" in result.output
    assert db.session.scalars(select(Publication)).all() == []
    run_burst_worker(redis_queue)
    db.session.expire_all()
    assert len(db.session.scalars(select(Publication)).all()) == len(world.centres) + 4


def test_an_unknown_period_is_a_clear_error(app, world):
    result = app.test_cli_runner().invoke(args=["publish", "--period", "2030-Q1"])
    assert result.exit_code != 0
    assert "There is no reporting period '2030-Q1'" in result.output
