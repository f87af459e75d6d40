"""Peer groups and stored statistics, on whichever database the suite runs against.

Expected figures are computed in Python from the Decimal inputs with statistics.py; the same
assertions passing on SQLite and on PostgreSQL is what proves the two agree exactly.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from marketplace.benchmarks import peers, statistics
from marketplace.benchmarks.models import Observation, PeerStatistic
from marketplace.catalogue import accreditation
from marketplace.extensions import db
from tests.factories import (
    AccreditationEventFactory,
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
    UserFactory,
)

Q3 = (2026, 3)  # ended 30 September 2026, before the frozen today (27 November 2026)


@pytest.fixture
def metric(db_session):
    return MetricFactory(code="ap_cost_per_invoice", direction="lower")


@pytest.fixture
def period(db_session):
    return ReportingPeriodFactory(year=Q3[0], quarter=Q3[1])


def centres_with(metric, period, values, **centre_kwargs):
    centres = []
    for value in values:
        centre = ServiceCentreFactory(**centre_kwargs)
        ObservationFactory(centre=centre, metric=metric, period=period, value=Decimal(value))
        centres.append(centre)
    return centres


def stats_row(metric, period) -> PeerStatistic | None:
    db.session.expire_all()
    return peers.group_stats(metric.id, period.id)


def assert_matches(stats: PeerStatistic, values, centres):
    expected = statistics.summarise(Decimal(v) for v in values)
    assert stats.n == expected.n
    # Exact equality on purpose: both databases must give these very floats.
    assert (stats.minimum, stats.p25, stats.median, stats.p75, stats.maximum) == (
        expected.minimum,
        expected.p25,
        expected.median,
        expected.p75,
        expected.maximum,
    )
    assert list(stats.peer_values) == sorted(float(Decimal(v)) for v in values)
    assert list(stats.peer_centre_ids) == sorted(c.id for c in centres)


def test_recompute_stores_quartiles_of_the_peer_group(metric, period):
    values = ["4.12", "5.83", "2.07", "10.50", "6.00", "5.83", "3.333333"]
    centres = centres_with(metric, period, values)

    assert peers.recompute([(metric.id, period.id)]) == 1

    stats = stats_row(metric, period)
    assert_matches(stats, values, centres)
    # 7 values sorted: 2.07 3.333333 4.12 5.83 5.83 6 10.5; h = 0.25 × 6 = 1.5
    assert stats.p25 == pytest.approx(3.7266665)
    assert stats.median == 5.83


def test_identical_on_awkward_decimals(metric, period):
    values = ["0.1", "0.2", "0.3", "1234567.123456", "0.000001", "99.999999", "7", "7", "7.5"]
    centres = centres_with(metric, period, values)
    peers.recompute([(metric.id, period.id)])
    assert_matches(stats_row(metric, period), values, centres)


def test_centres_not_accredited_on_the_last_day_are_left_out(metric, period):
    members = centres_with(metric, period, ["1", "2", "3"])
    end = period.ends_on
    # Accredited only after the period ended.
    centres_with(
        metric,
        period,
        ["100"],
        accredited_from=end + timedelta(days=1),
        accredited_until=end + timedelta(days=400),
    )
    # Accreditation lapsed during the period.
    centres_with(
        metric,
        period,
        ["200"],
        accredited_from=end - timedelta(days=400),
        accredited_until=end - timedelta(days=1),
    )
    # Still applying.
    centres_with(
        metric,
        period,
        ["300"],
        accreditation_status="applied",
        accredited_from=None,
        accredited_until=None,
    )
    # Suspended during the period and not reinstated by its end.
    (suspended,) = centres_with(metric, period, ["400"])
    AccreditationEventFactory(
        centre=suspended,
        action="suspend",
        from_status="accredited",
        to_status="suspended",
        effective_on=end - timedelta(days=10),
        valid_from=suspended.accredited_from,
        valid_until=suspended.accredited_until,
        reason="Late data",
    )
    # Withdrawn after the period ended: it was accredited on the last day, so it counts.
    (withdrawn_later,) = centres_with(metric, period, ["5"], accreditation_status="withdrawn")

    peers.recompute([(metric.id, period.id)])

    assert_matches(stats_row(metric, period), ["1", "2", "3", "5"], [*members, withdrawn_later])


def test_centres_not_offering_the_service_line_are_left_out(metric, period):
    members = centres_with(metric, period, ["1", "2"], lines=["finance"])
    centres_with(metric, period, ["50"], lines=["payroll", "hr"])

    peers.recompute([(metric.id, period.id)])

    assert_matches(stats_row(metric, period), ["1", "2"], members)


def test_a_running_period_draws_its_group_as_of_today(metric, db_session):
    running = ReportingPeriodFactory(year=2026, quarter=4, status="open")  # ends 31 Dec
    today = date(2026, 11, 27)
    members = centres_with(metric, running, ["1", "2"])
    # Accredited today but not on 31 December: counts while the period runs.
    members += centres_with(
        metric,
        running,
        ["3"],
        accredited_from=today - timedelta(days=30),
        accredited_until=today + timedelta(days=10),
    )
    # Accredited from 1 December: not yet a peer.
    centres_with(
        metric,
        running,
        ["4"],
        accredited_from=date(2026, 12, 1),
        accredited_until=date(2027, 12, 1),
    )

    peers.recompute([(metric.id, running.id)])

    assert_matches(stats_row(metric, running), ["1", "2", "3"], members)


def test_recompute_touches_only_the_groups_given(metric, period):
    other_metric = MetricFactory(direction="higher")
    earlier = ReportingPeriodFactory(year=2026, quarter=2)
    centre = ServiceCentreFactory()
    a = ObservationFactory(centre=centre, metric=metric, period=period, value=Decimal("1"))
    b = ObservationFactory(centre=centre, metric=other_metric, period=period, value=Decimal("2"))
    c = ObservationFactory(centre=centre, metric=metric, period=earlier, value=Decimal("3"))
    assert peers.recompute([(metric.id, period.id)]) == 1
    assert stats_row(other_metric, period) is None
    assert stats_row(metric, earlier) is None

    peers.recompute_all()
    before = {
        (s.metric_id, s.period_id): (s.id, s.median)
        for s in db.session.scalars(db.select(PeerStatistic))
    }
    a.value, b.value, c.value = Decimal("10"), Decimal("20"), Decimal("30")

    assert peers.recompute([(metric.id, period.id), (metric.id, period.id)]) == 1

    after = {
        (s.metric_id, s.period_id): (s.id, s.median)
        for s in db.session.scalars(db.select(PeerStatistic))
    }
    assert after[(metric.id, period.id)][1] == 10.0
    assert after[(other_metric.id, period.id)] == before[(other_metric.id, period.id)]
    assert after[(metric.id, earlier.id)] == before[(metric.id, earlier.id)]


def test_recompute_of_scattered_pairs_leaves_the_groups_between_them(metric, period):
    """(m1, p1) and (m2, p2) asked for: (m1, p2) and (m2, p1) must not be rebuilt."""
    other_metric = MetricFactory()
    earlier = ReportingPeriodFactory(year=2026, quarter=2)
    centre = ServiceCentreFactory()
    observations = {
        (m.id, p.id): ObservationFactory(centre=centre, metric=m, period=p, value=Decimal("1"))
        for m in (metric, other_metric)
        for p in (period, earlier)
    }
    peers.recompute_all()
    for observation in observations.values():
        observation.value = Decimal("9")

    asked = [(metric.id, period.id), (other_metric.id, earlier.id)]
    assert peers.recompute(asked) == 2

    medians = {(s.metric_id, s.period_id): s.median for s in _all_stats()}
    assert medians == {
        (metric.id, period.id): 9.0,
        (other_metric.id, earlier.id): 9.0,
        (metric.id, earlier.id): 1.0,
        (other_metric.id, period.id): 1.0,
    }


def test_a_group_that_becomes_empty_loses_its_statistics(metric, period):
    centres_with(metric, period, ["1"])
    peers.recompute([(metric.id, period.id)])
    assert stats_row(metric, period).n == 1

    db.session.delete(_only_observation())
    assert peers.recompute([(metric.id, period.id)]) == 0
    assert stats_row(metric, period) is None


def _only_observation():
    return db.session.scalars(db.select(Observation)).one()


def test_recompute_period_and_all_agree_with_recompute(metric, period):
    other_metric = MetricFactory(
        direction="higher", percentage=True, service_line=metric.service_line
    )
    values = ["12.5", "40", "40", "99.5", "0"]
    for centre in centres_with(metric, period, values):
        ObservationFactory(centre=centre, metric=other_metric, period=period, value=Decimal("50"))

    peers.recompute([(metric.id, period.id), (other_metric.id, period.id)])
    by_pairs = {(s.metric_id, s.period_id): _figures(s) for s in _all_stats()}
    assert peers.recompute_period(period.id) == 2
    assert {(s.metric_id, s.period_id): _figures(s) for s in _all_stats()} == by_pairs
    assert peers.recompute_all() == 2
    assert {(s.metric_id, s.period_id): _figures(s) for s in _all_stats()} == by_pairs


def _all_stats():
    db.session.expire_all()
    return db.session.scalars(db.select(PeerStatistic)).all()


def _figures(s: PeerStatistic):
    return (s.n, s.minimum, s.p25, s.median, s.p75, s.maximum, s.peer_values, s.peer_centre_ids)


def test_position_reads_percentile_and_band(metric, period):
    values = ["1", "2", "2", "3", "10"]  # lower is better
    centres = centres_with(metric, period, values)
    peers.recompute([(metric.id, period.id)])
    stats = stats_row(metric, period)

    assert peers.position(metric, stats, Decimal("1")) == (100.0, 1)
    assert peers.position(metric, stats, Decimal("2")) == (62.5, 1)
    assert peers.position(metric, stats, Decimal("3")) == (25.0, 3)
    assert peers.position(metric, stats, Decimal("10")) == (0.0, 4)
    # Nobody in the group has this value: it is not a peer's.
    assert peers.position(metric, stats, Decimal("2.5")) == (None, None)
    assert peers.is_peer(stats, centres[0].id)
    assert not peers.is_peer(stats, centres[-1].id + 1000)


def test_a_group_of_one_has_no_position(metric, period):
    centres_with(metric, period, ["7"])
    peers.recompute([(metric.id, period.id)])
    assert peers.position(metric, stats_row(metric, period), Decimal("7")) == (None, None)


def test_stats_for_reads_many_groups_at_once(metric, period):
    earlier = ReportingPeriodFactory(year=2026, quarter=2)
    for p in (period, earlier):
        centres_with(metric, p, ["1", "2", "3"])
    peers.recompute_all()
    db.session.expire_all()

    found = peers.stats_for([metric.id], [period.id, earlier.id], with_values=False)

    assert set(found) == {(metric.id, period.id), (metric.id, earlier.id)}
    assert found[(metric.id, period.id)].median == 2.0
    assert peers.band_only(metric, found[(metric.id, period.id)], Decimal("1")) == 1
    assert peers.stats_for([], [period.id]) == {}


def test_disclosure_follows_min_peer_group(app, metric, period):
    centres_with(metric, period, ["1", "2", "3", "4"])
    peers.recompute([(metric.id, period.id)])
    stats = stats_row(metric, period)
    assert app.config["MIN_PEER_GROUP"] == 5
    assert not peers.disclosable(stats)
    assert peers.disclosable(stats, minimum=4)
    assert not peers.disclosable(None)


def test_an_accreditation_change_redraws_the_groups_from_its_day(metric, period):
    later = ReportingPeriodFactory(year=2026, quarter=4, status="open")
    earlier = ReportingPeriodFactory(year=2026, quarter=2)
    admin = UserFactory(admin=True)
    centres = centres_with(metric, period, ["1", "2", "3"])
    for p in (later, earlier):
        for centre in centres:
            ObservationFactory(centre=centre, metric=metric, period=p, value=Decimal("5"))
    peers.recompute_all()

    # Suspended from 15 September: out of Q3 (ends 30 Sep) and Q4, still in Q2.
    accreditation.change(
        centres[0], "suspend", actor=admin, reason="Audit", effective_on=date(2026, 9, 15)
    )
    assert peers.recompute_for_centre_change(centres[0].id, date(2026, 9, 15)) == 2

    assert stats_row(metric, period).n == 2
    assert stats_row(metric, later).n == 2
    assert stats_row(metric, earlier).n == 3


def test_dropping_a_service_line_takes_the_centre_out_of_every_period(metric, period):
    earlier = ReportingPeriodFactory(year=2025, quarter=1)
    centres = centres_with(metric, period, ["1", "2", "3"], lines=["finance"])
    for centre in centres:
        ObservationFactory(centre=centre, metric=metric, period=earlier, value=Decimal("4"))
    peers.recompute_all()

    centres[0].service_lines = []
    assert peers.recompute_for_centre_change(centres[0].id) == 2

    assert stats_row(metric, period).n == 2
    assert stats_row(metric, earlier).n == 2


def test_a_session_reads_the_new_figures_after_a_recompute(metric, period):
    """No stale copy is served from the session, even if a new row reuses an old id."""
    centres_with(metric, period, ["1"])
    peers.recompute([(metric.id, period.id)])
    before = peers.group_stats(metric.id, period.id)  # held, so the session keeps it
    assert before.median == 1.0
    observation = db.session.scalars(db.select(Observation)).one()
    observation.value = Decimal("7")

    peers.recompute([(metric.id, period.id)])

    assert peers.group_stats(metric.id, period.id).median == 7.0
    assert peers.stats_for([metric.id], [period.id])[(metric.id, period.id)].maximum == 7.0


def test_recompute_of_nothing_is_nothing(db_session):
    assert peers.recompute([]) == 0
