"""Peer groups follow the changes that decide membership: service lines and period closing."""

from decimal import Decimal

from marketplace.benchmarks import peers, periods
from marketplace.extensions import db
from tests.conftest import sign_in
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
    ServiceLineFactory,
    UserFactory,
)


def _group(n_centres: int, period):
    metric = MetricFactory()
    centres = [ServiceCentreFactory(lines=["finance"]) for _ in range(n_centres)]
    for index, centre in enumerate(centres):
        ObservationFactory(centre=centre, metric=metric, period=period, value=Decimal(index + 2))
    peers.recompute([(metric.id, period.id)])
    return metric, centres


def test_dropping_a_service_line_takes_the_centre_out_of_its_peer_groups(app, db_session):
    period = ReportingPeriodFactory(year=2026, quarter=2, status="closed")
    ServiceLineFactory(code="payroll")
    metric, centres = _group(3, period)
    assert peers.group_stats(metric.id, period.id).n == 3

    user = UserFactory(role="centre", organisation=centres[0].organisation)
    client = app.test_client()
    sign_in(client, user)
    response = client.patch(
        f"/api/v1/centres/{centres[0].slug}", json={"service_lines": ["payroll"]}
    )
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    assert peers.group_stats(metric.id, period.id).n == 2


def test_closing_a_period_redraws_its_groups(db_session):
    period = ReportingPeriodFactory(year=2026, quarter=4, status="open")
    metric, _centres = _group(2, period)
    # A value written without a recompute (as a stale group would be) is picked up on close.
    ObservationFactory(
        centre=ServiceCentreFactory(lines=["finance"]),
        metric=metric,
        period=period,
        value=Decimal("9"),
    )
    assert peers.group_stats(metric.id, period.id).n == 2
    periods.close_period(period, actor_label="test", reason="Closed early for the test")
    assert peers.group_stats(metric.id, period.id).n == 3
