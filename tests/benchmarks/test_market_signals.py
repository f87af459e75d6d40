"""The market's latest variations: the same judgement as each centre's chart, kept current."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace import events
from marketplace.benchmarks import market_signals, restatements, spc_series
from marketplace.benchmarks.models import Metric, PendingRestatement
from marketplace.benchmarks.variation_models import LatestVariation
from marketplace.benchmarks.visibility import audience_for
from marketplace.extensions import db
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
)

PUBLISHED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def periods(count, status="published"):
    made = []
    for i in range(2020 * 4, 2020 * 4 + count):
        made.append(
            ReportingPeriodFactory(
                year=i // 4,
                quarter=i % 4 + 1,
                status=status,
                published_at=PUBLISHED_AT if status == "published" else None,
            )
        )
    return made


def stored() -> dict[tuple[int, str], tuple[str, str, str]]:
    rows = db.session.execute(select(LatestVariation)).scalars()
    return {(r.centre_id, r.metric_code): (r.period.code, r.kind, r.rules) for r in rows}


def charted(centres) -> dict[tuple[int, str], tuple[str, str, str]]:
    """What each centre's own chart says, through the per-centre path."""
    found = {}
    for centre in centres:
        for code, series in spc_series.centre_series(centre.id, audience_for(None)).items():
            chart = series.chart()
            if chart.variation is None:
                continue
            point = chart.segments[-1].points[-1]
            found[(centre.id, code)] = (point.period, point.kind, ",".join(point.rules))
    return found


@pytest.fixture
def market():
    rng = random.Random(11)
    quarters = periods(20)
    closed = ReportingPeriodFactory(year=2025, quarter=1, status="closed")
    cost = MetricFactory(code="ap_cost_per_invoice", direction="lower")
    accuracy_v1 = MetricFactory(code="payroll_accuracy", version=1, is_current=False)
    accuracy_v2 = MetricFactory(
        code="payroll_accuracy", version=2, service_line=accuracy_v1.service_line
    )
    centres = [ServiceCentreFactory() for _ in range(6)]
    for n, centre in enumerate(centres):
        for i, period in enumerate(quarters):
            if rng.random() < 0.1:
                continue  # a quarter without a figure is skipped
            value = rng.choice([10, 11, 12]) + (25 if (n == 2 and i == 19) else 0)
            ObservationFactory(centre=centre, metric=cost, period=period, value=Decimal(value))
            # A version break after 10 quarters: the new segment is judged on its own.
            metric = accuracy_v1 if i < 10 else accuracy_v2
            ObservationFactory(
                centre=centre, metric=metric, period=period, value=Decimal(rng.choice([96, 97]))
            )
        # Closed figures are not in the market's (public) judgement.
        ObservationFactory(centre=centre, metric=cost, period=closed, value=Decimal("99"))
    db.session.flush()
    return centres


def test_the_market_judgement_matches_every_centres_chart(market):
    written = market_signals.refresh_market()
    assert written == len(stored()) > 0
    assert stored() == charted(market)
    concern = [key for key, (_p, kind, _r) in stored().items() if kind == "concern"]
    assert (market[2].id, "ap_cost_per_invoice") in concern


def test_the_postgresql_writer_stores_the_rows_the_portable_insert_stores(market):
    """refresh_market writes with one unnested INSERT on PostgreSQL and one INSERT per row
    elsewhere: the same stored rows."""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the unnested INSERT is the PostgreSQL path; SQLite takes the portable one")
    table = LatestVariation.__table__
    columns = [table.c[name] for name in market_signals._COLUMNS]

    def rows():
        db.session.expire_all()
        order = (table.c.centre_id, table.c.metric_code)
        return [tuple(r) for r in db.session.execute(select(*columns).order_by(*order))]

    market_signals.refresh_market()
    unnested = rows()
    db.session.execute(table.delete())
    market_signals._insert_rows([(r[0], r[2], r[3], r[5], r[6]) for r in unnested], unnested[0][-1])
    assert rows() == unnested
    assert len(unnested) == len(stored()) > 0
    assert all(r[-1].tzinfo is not None for r in unnested)


def test_a_series_read_out_of_quarter_order_is_judged_in_quarter_order():
    """Periods made out of order (ids not in quarter order) still give each series in
    quarter order: neither database promises the order an aggregate reads its rows in."""
    centre = ServiceCentreFactory()
    cost = MetricFactory(code="ap_cost_per_invoice", direction="lower")
    # Twelve steady quarters, then a jump in the latest; the latest quarter gets the
    # smallest id, so reading by id would put the jump first.
    values = ["10", "11"] * 6 + ["30"]
    codes = [(2021 + i // 4, i % 4 + 1) for i in range(len(values))]
    made = {}
    for year, quarter in reversed(codes):
        made[(year, quarter)] = ReportingPeriodFactory(
            year=year, quarter=quarter, status="published", published_at=PUBLISHED_AT
        )
    for (year, quarter), value in zip(codes, values, strict=True):
        ObservationFactory(
            centre=centre, metric=cost, period=made[(year, quarter)], value=Decimal(value)
        )
    db.session.flush()
    market_signals.refresh_market()
    assert stored() == charted([centre])
    assert stored()[(centre.id, "ap_cost_per_invoice")][:2] == ("2024-Q1", "concern")


def test_a_segment_under_eight_points_is_not_judged():
    centre = ServiceCentreFactory()
    metric = MetricFactory(code="ap_cost_per_invoice")
    for period in periods(7):
        ObservationFactory(centre=centre, metric=metric, period=period, value=Decimal("10"))
    db.session.flush()
    assert market_signals.refresh_market() == 0


@pytest.mark.parametrize("newer_made_first", [False, True])
def test_a_new_version_too_short_to_judge_hides_the_old_versions_judgement(newer_made_first):
    """The chart's variation is its latest segment's: twelve quarters of version 1 ending in
    a jump, then three of version 2, leave nothing to store, whichever version's figures the
    database hands over first (the metric made first has the smaller id)."""
    centre = ServiceCentreFactory()
    made = {}
    for version in (2, 1) if newer_made_first else (1, 2):
        made[version] = MetricFactory(
            code="payroll_accuracy",
            version=version,
            is_current=version == 2,
            **({"service_line": made[2 if version == 1 else 1].service_line} if made else {}),
        )
    values = ["10", "11"] * 5 + ["10", "30"] + ["10", "11", "10"]
    for i, (period, value) in enumerate(zip(periods(len(values)), values, strict=True)):
        metric = made[1] if i < 12 else made[2]
        ObservationFactory(centre=centre, metric=metric, period=period, value=Decimal(value))
    db.session.flush()
    assert charted([centre]) == {}
    assert market_signals.refresh_market() == 0
    assert stored() == {}


def test_refreshing_one_centre_leaves_the_others_alone(market):
    market_signals.refresh_market()
    before = stored()
    row = db.session.execute(
        select(LatestVariation).where(LatestVariation.centre_id == market[0].id).limit(1)
    ).scalar_one()
    row.kind, row.rules = "concern", "shift"  # a stale judgement of another centre
    other = db.session.execute(
        select(LatestVariation).where(LatestVariation.centre_id == market[1].id).limit(1)
    ).scalar_one()
    other.kind, other.rules = "concern", "shift"
    db.session.flush()
    market_signals.refresh_centres([market[0].id])
    after = stored()
    assert {k: v for k, v in after.items() if k[0] == market[0].id} == {
        k: v for k, v in before.items() if k[0] == market[0].id
    }
    assert after[(market[1].id, other.metric_code)][1:] == ("concern", "shift")


@pytest.mark.parametrize("refresh", ["market", "centre"])
def test_a_refresh_replaces_what_it_no_longer_judges(market, refresh):
    """Rows are updated in place where they can be: a stale metric version is corrected and
    a row no series stands behind any more is removed."""
    market_signals.refresh_market()
    before = stored()
    centre = market[0]
    row = db.session.execute(
        select(LatestVariation).where(
            LatestVariation.centre_id == centre.id,
            LatestVariation.metric_code == "payroll_accuracy",
        )
    ).scalar_one()
    newest = row.metric_id
    older = db.session.execute(
        select(Metric.id).where(Metric.code == "payroll_accuracy", Metric.version == 1)
    ).scalar_one()
    row.metric_id = older
    db.session.add(
        LatestVariation(
            centre_id=centre.id,
            metric_code="retired_code",
            metric_id=older,
            period_id=row.period_id,
            value=Decimal("1"),
            kind="concern",
            rules="shift",
        )
    )
    db.session.flush()
    if refresh == "market":
        market_signals.refresh_market()
    else:
        market_signals.refresh_centres([centre.id])
    assert stored() == before
    again = db.session.execute(
        select(LatestVariation.metric_id).where(
            LatestVariation.centre_id == centre.id,
            LatestVariation.metric_code == "payroll_accuracy",
        )
    ).scalar_one()
    assert again == newest


def test_publishing_a_period_judges_the_market(market):
    period = ReportingPeriodFactory(
        year=2026, quarter=2, status="published", published_at=PUBLISHED_AT
    )
    events.period_published.send(period, actor=None, actor_label="test")
    assert stored() == charted(market)


def test_an_approved_restatement_rejudges_its_centre(market, personas):
    market_signals.refresh_market()
    centre = market[2]
    key = (centre.id, "ap_cost_per_invoice")
    assert stored()[key][1] == "concern"
    latest = spc_series.centre_series(centre.id, audience_for(None))["ap_cost_per_invoice"]
    last_period = latest.segments[-1][-1][0]
    observation = next(
        o
        for o in centre_observations(centre)
        if o.metric.code == "ap_cost_per_invoice" and o.period.code == last_period
    )
    item = PendingRestatement(
        public_id="rst" + "0" * 29,
        observation_id=observation.id,
        submission_id=observation.submission_id,
        value=Decimal("11"),
        reason="The outlier was a keying error.",
        actor_label="test",
    )
    db.session.add(item)
    db.session.flush()
    restatements.approve([item.public_id], actor=personas["admin"])
    assert stored()[key][1] != "concern"
    assert stored() == charted(market)


def centre_observations(centre):
    from marketplace.benchmarks.models import Observation

    return db.session.execute(
        select(Observation).where(Observation.centre_id == centre.id)
    ).scalars()


def test_the_authority_sees_the_market_concerns(market, as_persona):
    market_signals.refresh_market()
    db.session.flush()
    admin = as_persona("admin")
    html = admin.get("/admin/signals").get_data(as_text=True)
    assert "Early warning across the market" in html
    centre = market[2]
    assert f'href="/centres/{centre.slug}#signals">{centre.name}</a>' in html
    assert "outside a process limit" in html
    overview = admin.get("/admin").get_data(as_text=True)
    concerned = len(market_signals.concerns_by_centre())
    assert f"{concerned} centre{'' if concerned == 1 else 's'} with a special cause concern" in (
        overview
    )
    assert as_persona("buyer").get("/admin/signals").status_code == 403
