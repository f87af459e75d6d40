"""Two uploads rebuilding the same peer group at once, with real commits, on both databases.

Without a lock the second transaction's insert breaks the unique (metric, period) key, or
overwrites figures computed from newer data. The period lock makes the second wait, then
rebuild from what the first committed, so both changes end up in the statistics. (On
SQLite the second waits at BEGIN IMMEDIATE for the first writer, with the same outcome.)

Real commits from two threads cannot live inside the suite's rolled-back transaction, so the
test works in a scratch database of its own, made from the models and dropped at the end.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from marketplace.benchmarks import peers
from marketplace.benchmarks.models import Observation, PeerStatistic
from marketplace.extensions import db
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
)

pytestmark = pytest.mark.real_commits


def test_concurrent_rebuilds_of_one_group_keep_both_changes(app, scratch_database):
    metric = MetricFactory()
    period = ReportingPeriodFactory(year=2026, quarter=3)
    first, second = ServiceCentreFactory(), ServiceCentreFactory()
    for centre, value in ((first, "1"), (second, "2")):
        ObservationFactory(centre=centre, metric=metric, period=period, value=Decimal(value))
    db.session.commit()
    peers.recompute_all()
    db.session.commit()
    ids = {"metric": metric.id, "period": period.id, "first": first.id, "second": second.id}
    db.session.remove()

    first_rebuilt, release_first, second_started = (threading.Event() for _ in range(3))
    second_done = threading.Event()
    errors: list[BaseException] = []

    def upload(centre_id, value, before_commit=None, started=None, done=None):
        try:
            with app.app_context():
                if started:
                    started.set()
                db.session.execute(
                    update(Observation)
                    .where(Observation.centre_id == centre_id)
                    .values(value=Decimal(value))
                )
                peers.recompute([(ids["metric"], ids["period"])])
                if before_commit:
                    before_commit()
                db.session.commit()
                if done:
                    done.set()
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            db.session.rollback()
        finally:
            db.session.remove()

    def hold_until_released():
        first_rebuilt.set()
        assert release_first.wait(10)

    one = threading.Thread(target=upload, args=(ids["first"], "10", hold_until_released))
    two = threading.Thread(
        target=upload,
        args=(ids["second"], "20"),
        kwargs={"started": second_started, "done": second_done},
    )
    one.start()
    assert first_rebuilt.wait(10)
    two.start()
    assert second_started.wait(10)
    # The second rebuild waits for the first transaction's lock on the period.
    assert not second_done.wait(0.5)
    release_first.set()
    one.join(10)
    two.join(10)

    assert errors == []
    with app.app_context():
        stats = db.session.scalars(
            select(PeerStatistic).where(PeerStatistic.metric_id == ids["metric"])
        ).one()
        assert stats.peer_values == [10.0, 20.0]
        assert stats.median == 15.0
