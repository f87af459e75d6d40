"""Two uploads for one centre at the same moment, with real commits, on both databases.

On PostgreSQL the centre's row lock serialises them; on SQLite the write transaction's
BEGIN IMMEDIATE does (after the busy timeout's wait, not "database is locked"). Either way
the second waits, then works from what the first committed, so no update is lost and
nothing is half-applied. Each thread is a POST request's worth of work.

Real commits from several threads cannot live inside the suite's rolled-back transaction,
and the audit trail is append-only (it cannot be cleaned up), so the test works in a
scratch database of its own, made from the models and dropped at the end.
"""

from __future__ import annotations

import hashlib
import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.benchmarks import submissions
from marketplace.benchmarks.models import Metric, Observation, ObservationRevision, Submission
from marketplace.catalogue.models import ServiceCentre
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from tests.benchmarks.ingest_world import csv_bytes
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
)

pytestmark = pytest.mark.real_commits


@pytest.fixture
def committed_world(scratch_database):
    centre = ServiceCentreFactory(lines=["finance", "payroll"])
    finance = next(line for line in centre.service_lines if line.code == "finance")
    metrics = [
        MetricFactory(code=f"concurrency_{name}", service_line=finance)
        for name in ("cost", "paid", "speed")
    ]
    period = ReportingPeriodFactory(year=2026, quarter=3, status="open")
    ObservationFactory(centre=centre, metric=metrics[0], period=period, value=Decimal(3))
    ids = {"centre": centre.id, "metrics": [m.id for m in metrics], "period": period.id}
    db.session.commit()
    # End this thread's session: on SQLite an idle transaction left open here would hold
    # the write lock (outside a request, transactions begin IMMEDIATE) while the uploads run.
    db.session.remove()
    return ids


def _upload_in_thread(app, centre_id, content, start, results, name, hold=0.0):
    """One request's worth of work: its own app context, session and connection."""
    with app.test_request_context(method="POST"):
        try:
            start.wait(timeout=10)
            began = time.perf_counter()
            centre = db.session.get(ServiceCentre, centre_id)
            outcome = submissions.submit(
                centre, content, filename=f"{name}.csv", content_type="text/csv", channel="api"
            )
            # Keep the lock a while, so the other upload is sure to arrive while it is held.
            time.sleep(hold)
            db.session.commit()
            results[name] = {
                "created": outcome.created,
                "changes": {(c.metric, c.old, c.new) for c in outcome.changes},
                "finished": time.perf_counter(),
                "took": time.perf_counter() - began,
            }
        except ValidationFailed as error:
            db.session.commit()  # the refusal's audit event
            results[name] = {"refused": [e.message for e in error.errors]}
        except Exception as error:  # pragma: no cover - reported by the assertion below
            db.session.rollback()
            results[name] = {"crash": repr(error)}
        finally:
            db.session.remove()


def _run(app, centre_id, uploads: dict[str, tuple[bytes, float]]):
    start = threading.Barrier(len(uploads))
    results: dict = {}
    threads = [
        threading.Thread(
            target=_upload_in_thread,
            args=(app, centre_id, content, start, results, name, hold),
        )
        for name, (content, hold) in uploads.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any("crash" in r for r in results.values()), results
    return results


def _current(ids) -> dict:
    db.session.expire_all()
    rows = db.session.execute(
        select(Metric.code, Observation.value, Observation.revision)
        .join(Metric, Metric.id == Observation.metric_id)
        .where(Observation.centre_id == ids["centre"])
    ).all()
    return {code: (value, revision) for code, value, revision in rows}


def test_two_concurrent_uploads_never_lose_an_update(app, committed_world):
    ids = committed_world
    first = csv_bytes(
        "metric,period,value", "concurrency_cost,2026-Q3,4", "concurrency_paid,2026-Q3,90"
    )
    second = csv_bytes(
        "metric,period,value", "concurrency_cost,2026-Q3,5", "concurrency_speed,2026-Q3,7"
    )
    results = _run(app, ids["centre"], {"a": (first, 0.5), "b": (second, 0.5)})

    assert results["a"]["created"] and results["b"]["created"]
    early, late = sorted(("a", "b"), key=lambda n: results[n]["finished"])
    # The later upload waited for the earlier one's commit and saw its value as 'old'.
    # (It waited on the lock: the first held it for half a second before committing.)
    assert results[late]["took"] >= 0.25
    early_cost = {"a": "4", "b": "5"}[early]
    late_cost = {"a": "4", "b": "5"}[late]
    assert ("concurrency_cost", early_cost, late_cost) in results[late]["changes"]
    assert ("concurrency_cost", "3", early_cost) in results[early]["changes"]
    now = _current(ids)
    assert now["concurrency_cost"] == (Decimal(late_cost), 3)
    assert now["concurrency_paid"] == (Decimal(90), 1)
    assert now["concurrency_speed"] == (Decimal(7), 1)
    history = db.session.execute(
        select(ObservationRevision.revision, ObservationRevision.value)
        .order_by(ObservationRevision.revision)
        .join(Observation, Observation.id == ObservationRevision.observation_id)
        .where(Observation.centre_id == ids["centre"])
    ).all()
    assert history == [(1, Decimal(3)), (2, Decimal(early_cost))]


def test_a_refused_upload_alongside_never_half_applies(app, committed_world):
    ids = committed_world
    good = csv_bytes("metric,period,value", "concurrency_paid,2026-Q3,91")
    # Its first row is fine; its second is not, so none of it may land.
    bad = csv_bytes(
        "metric,period,value", "concurrency_speed,2026-Q3,8", "concurrency_cost,2026-Q3,#REF!"
    )
    results = _run(app, ids["centre"], {"good": (good, 0.3), "bad": (bad, 0.3)})

    assert results["good"]["created"]
    assert "spreadsheet error" in results["bad"]["refused"][0]
    now = _current(ids)
    assert "concurrency_speed" not in now
    assert now["concurrency_cost"] == (Decimal(3), 1)
    assert now["concurrency_paid"] == (Decimal(91), 1)


def test_the_same_file_sent_twice_at_once_is_accepted_once(app, committed_world):
    ids = committed_world
    content = csv_bytes("metric,period,value", "concurrency_paid,2026-Q3,88")
    results = _run(app, ids["centre"], {"one": (content, 0.3), "two": (content, 0.3)})

    assert sorted(r["created"] for r in results.values()) == [False, True]
    digest = hashlib.sha256(content).hexdigest()
    count = db.session.execute(
        select(db.func.count(Submission.id)).where(
            Submission.centre_id == ids["centre"], Submission.sha256 == digest
        )
    ).scalar()
    assert count == 1
    assert _current(ids)["concurrency_paid"] == (Decimal(88), 1)
