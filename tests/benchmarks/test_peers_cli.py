"""`flask recompute-statistics` as an operator runs it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.benchmarks import peers
from marketplace.extensions import db
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
)


@pytest.fixture
def data(db_session):
    metric = MetricFactory()
    q3 = ReportingPeriodFactory(year=2026, quarter=3)
    q4 = ReportingPeriodFactory(year=2026, quarter=4, status="open")
    for value in ("1", "2", "3"):
        centre = ServiceCentreFactory()
        for period in (q3, q4):
            ObservationFactory(centre=centre, metric=metric, period=period, value=Decimal(value))
    return metric, q3, q4


def run(app, *args):
    return app.test_cli_runner().invoke(args=["recompute-statistics", *args])


def test_recomputes_every_period(app, data):
    metric, q3, q4 = data
    result = run(app)
    assert result.exit_code == 0, result.output
    assert "Recomputed 2 peer groups in 2 periods." in result.output
    db.session.expire_all()
    assert peers.group_stats(metric.id, q3.id).median == 2.0
    assert peers.group_stats(metric.id, q4.id).n == 3


def test_recomputes_one_period(app, data):
    metric, q3, q4 = data
    result = run(app, "--period", "2026-Q3")
    assert result.exit_code == 0, result.output
    assert "Recomputed 1 peer groups in 1 periods." in result.output
    db.session.expire_all()
    assert peers.group_stats(metric.id, q3.id) is not None
    assert peers.group_stats(metric.id, q4.id) is None


def test_recomputes_the_running_periods(app, data):
    metric, q3, q4 = data
    result = run(app, "--current")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert peers.group_stats(metric.id, q3.id) is None
    assert peers.group_stats(metric.id, q4.id) is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-Q5"], "is not a period; write it as 2026-Q1"),
        (["--period", "2031-Q1"], "There is no reporting period 2031-Q1"),
        (["--period", "2026-Q3", "--current"], "not both"),
    ],
)
def test_refuses_a_bad_period(app, data, args, message):
    result = run(app, *args)
    assert result.exit_code != 0
    assert message in result.output
