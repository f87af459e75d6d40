"""A publishing worker killed in the middle of a render loses nothing and doubles nothing.

Real processes on the real Redis (127.0.0.1:6379): an `rq worker` (the forking worker that
production runs) takes a report's job and is killed, with its work horse, while it renders.
The job is left "started"; a worker's maintenance (StartedJobRegistry.cleanup, called here
at once instead of after the heartbeat expires) finds it abandoned and queues it again, and
a second worker publishes it: one publication, with the same bytes as a local render.

The workers need the data committed where they can read it, so the test has its own app on
its own SQLite file (the suite's database lives in one rolled-back transaction).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from marketplace import create_app
from marketplace.benchmarks import peers
from marketplace.extensions import db
from marketplace.publications import jobs, services
from marketplace.publications.models import Publication
from marketplace.publications.planning import Plan
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    OrganisationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
)

pytestmark = pytest.mark.real_commits

REDIS_URL = "redis://127.0.0.1:6379/0"
RQ = Path(sys.executable).with_name("rq")
SECRET = "worker-faults-0123456789abcdef0123456789abcdef"


@pytest.fixture
def redis_connection():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("REDIS IS NOT RUNNING on 127.0.0.1:6379: the worker fault test did not run.")
    return connection


@pytest.fixture
def file_app(is_postgres, tmp_path):
    if is_postgres:
        pytest.skip("the workers' fault handling is the same on both databases; run once")
    settings = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'publishing.db'}",
        "REPORTS_DIR": str(tmp_path / "reports"),
        "SECRET_KEY": SECRET,
        "PUBLIC_URL": "http://localhost",
    }
    app = create_app({"TESTING": True, "SERVER_NAME": None, **settings})
    with app.app_context():
        db.create_all()
        yield app, settings
        db.session.remove()
        db.engine.dispose()


def _world():
    OrganisationFactory(authority=True, slug="authority", name="Test Accreditation Authority")
    cost = MetricFactory(code="ap_cost_per_invoice", name="Cost per invoice", direction="lower")
    q3 = ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    for index in range(6):
        centre = ServiceCentreFactory(
            organisation=OrganisationFactory(
                centre=True, slug=f"ssc-{index}", name=f"Centre {index}"
            )
        )
        ObservationFactory(centre=centre, metric=cost, period=q3, value=Decimal(3 + index))
    peers.recompute_all()
    db.session.commit()
    return q3


def _worker(settings, queue_name, *, burst: bool) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"],
        "REPORTS_DIR": settings["REPORTS_DIR"],
        "SECRET_KEY": settings["SECRET_KEY"],
        "PUBLIC_URL": settings["PUBLIC_URL"],
        "MARKETPLACE_ENV": "development",
    }
    args = [str(RQ), "worker", queue_name, "--url", REDIS_URL, "--quiet"]
    if burst:
        args.append("--burst")
    # Its own process group: killing the group kills the worker and its work horse together.
    return subprocess.Popen(args, env=env, start_new_session=True)  # noqa: S603 - our own rq


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_worker_leaves_its_job_to_another_and_publishes_once(file_app, redis_connection):
    from rq import Queue
    from rq.registry import StartedJobRegistry

    app, settings = file_app
    q3 = _world()
    services.start_publication(q3, actor_label="test")
    plan = services.plan_period(q3, actor_label="test")
    db.session.commit()
    item = next(i for i in plan.items if i.kind == "centre_report")
    local = services.render_bytes(item, app.config)[0]

    queue_name = f"reports-faults-{uuid.uuid4().hex[:12]}"
    queue = Queue(queue_name, connection=redis_connection)
    try:
        one = Plan(period_code=plan.period_code, items=[item], unchanged=0)
        (job,) = jobs.enqueue(one, REDIS_URL, name=queue_name)
        first = _worker(settings, queue_name, burst=False)
        try:
            _wait(lambda: job.get_status(refresh=True) == "started", 60, "the job to start")
            os.killpg(first.pid, signal.SIGKILL)  # mid-render: the worker and its horse
        finally:
            first.wait(timeout=30)
        assert job.get_status(refresh=True) == "started"  # abandoned, not finished
        db.session.expire_all()
        assert db.session.scalars(select(Publication)).all() == []
        db.session.rollback()  # no transaction of ours may hold SQLite's lock meanwhile

        # The maintenance a live worker runs finds the job abandoned and queues it again.
        StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 24 * 3600)
        assert job.get_status(refresh=True) == "queued"

        second = _worker(settings, queue_name, burst=True)
        try:
            assert second.wait(timeout=120) == 0
        finally:
            if second.poll() is None:
                os.killpg(second.pid, signal.SIGKILL)
        assert job.get_status(refresh=True) == "finished", job.exc_info
        db.session.expire_all()
        (publication,) = db.session.scalars(select(Publication)).all()
        stored = Path(settings["REPORTS_DIR"])
        files = [p for p in stored.rglob("*") if p.is_file() and p.suffix == ".pdf"]
        assert publication.sha256 == hashlib.sha256(local).hexdigest()  # a local render's bytes
        assert len(files) == 1  # content-addressed: the killed render left nothing behind
    finally:
        queue.delete(delete_jobs=True)
