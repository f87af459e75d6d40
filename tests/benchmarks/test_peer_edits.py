"""Peer groups edited in place give the rows a full rebuild gives, bit for bit."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace import clock
from marketplace.benchmarks import peer_edits, peers
from marketplace.benchmarks.models import Observation, PeerStatistic
from marketplace.extensions import db
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
    ServiceLineFactory,
)

COLUMNS = ("n", "minimum", "p25", "median", "p75", "maximum", "peer_values", "peer_centre_ids")


def stored() -> dict:
    db.session.expire_all()
    rows = db.session.execute(select(PeerStatistic)).scalars()
    return {
        (r.metric_id, r.period_id): tuple(
            list(getattr(r, c)) if c.startswith("peer_") else getattr(r, c) for c in COLUMNS
        )
        for r in rows
    }


@pytest.fixture
def market():
    """Two ended quarters and the running one; a finance and a payroll metric; members, a
    centre never accredited, and one that does not offer payroll."""
    today = clock.today()
    year, quarter = today.year, (today.month - 1) // 3 + 1
    running = ReportingPeriodFactory(year=year, quarter=quarter, status="open")
    ended = [ReportingPeriodFactory(year=2025, quarter=q, status="open") for q in (2, 3)]
    cost = MetricFactory(code="ap_cost_per_invoice", direction="lower")
    accuracy = MetricFactory(
        code="payroll_accuracy", service_line=ServiceLineFactory(code="payroll")
    )
    centres = [ServiceCentreFactory() for _ in range(7)]
    centres.append(ServiceCentreFactory(accreditation_status="applied"))
    centres.append(ServiceCentreFactory(lines=["finance"]))
    return {"periods": [*ended, running], "metrics": [cost, accuracy], "centres": centres}


def fill(market, rng):
    for centre in market["centres"][1:]:
        for metric in market["metrics"]:
            for period in market["periods"]:
                if rng.random() < 0.8:
                    value = Decimal(rng.choice(["1.5", "2", "2", "3.25", "7", "10.000001"]))
                    ObservationFactory(centre=centre, metric=metric, period=period, value=value)
    db.session.flush()


def write(centre, metric, period, value) -> tuple:
    """Set one figure as ingest would; returns the edit (before, now) it makes."""
    held = db.session.execute(
        select(Observation).where(
            Observation.centre_id == centre.id,
            Observation.metric_id == metric.id,
            Observation.period_id == period.id,
        )
    ).scalar_one_or_none()
    if held is None:
        ObservationFactory(centre=centre, metric=metric, period=period, value=value)
        return (None, value)
    before = held.value
    held.value = value
    return (before, value)


@pytest.mark.parametrize("seed", range(12))
def test_edits_in_place_match_a_rebuild(market, seed, monkeypatch):
    rng = random.Random(seed)
    fill(market, rng)
    centre = market["centres"][0]  # a member in every group of its lines
    # Some groups already hold it; the others will gain it.
    for metric in market["metrics"]:
        for period in market["periods"]:
            if rng.random() < 0.5:
                ObservationFactory(centre=centre, metric=metric, period=period, value=Decimal("2"))
    db.session.flush()
    peers.recompute_all()
    for _round in range(3):
        edits = {}
        for metric in market["metrics"]:
            for period in market["periods"]:
                if rng.random() < 0.7:
                    value = Decimal(rng.choice(["0.5", "2", "3.25", "7", "12", "10.000001"]))
                    edits[(metric.id, period.id)] = write(centre, metric, period, value)
        db.session.flush()
        rebuilt = []
        real_recompute = peers.recompute

        def recompute(pairs, rebuilt=rebuilt, real_recompute=real_recompute):
            pairs = list(pairs)
            rebuilt.extend(pairs)
            return real_recompute(pairs)

        with monkeypatch.context() as patch:
            patch.setattr(peers, "recompute", recompute)
            peers.apply_edits(centre.id, edits)
        edited = stored()
        peers.recompute_all()
        assert edited == stored()
        # Only the running quarter's groups were rebuilt; the ended ones were edited.
        running = market["periods"][-1].id
        assert {p for _m, p in rebuilt} <= {running}
        assert any(p != running for _m, p in edits)


def test_a_member_outside_a_group_leaves_it_alone_and_a_disagreeing_group_is_rebuilt(market):
    fill(market, random.Random(99))
    cost, accuracy = market["metrics"]
    ended = market["periods"][0]
    applied, finance_only = market["centres"][-2:]
    member = market["centres"][1]
    peers.recompute_all()
    before = stored()
    # Figures of centres outside the groups: nothing to edit, and nothing changes.
    edits = {(cost.id, ended.id): write(applied, cost, ended, Decimal("99"))}
    db.session.flush()
    peers.apply_edits(applied.id, edits)
    edits = {(accuracy.id, ended.id): write(finance_only, accuracy, ended, Decimal("99"))}
    db.session.flush()
    peers.apply_edits(finance_only.id, edits)
    assert stored() == before
    # A figure changed behind the groups' back: the stored group lacks the old value now,
    # so the next edit rebuilds it rather than trusting it.
    edit = write(member, cost, ended, Decimal("42"))
    db.session.flush()
    if edit[0] is None:
        pytest.skip("the seed gave this member no figure to change")
    wrong = (Decimal("123.456"), Decimal("42"))
    assert peer_edits.apply(member.id, {(cost.id, ended.id): wrong}, {ended.id: ended.ends_on})[
        1
    ] == [(cost.id, ended.id)]
    peers.apply_edits(member.id, {(cost.id, ended.id): wrong})
    edited = stored()
    peers.recompute_all()
    assert edited == stored()
