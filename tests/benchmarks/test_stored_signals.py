"""The public's and buyers' special cause concerns come from the market's stored judgement
(latest_variations): after every change to published figures or to how they are segmented,
it must say what judging the series live says (issue 17).

Each step below makes one such change through the service a user's door calls, then holds
the stored path (signals._spc_concerns for an audience that sees only published figures)
equal to the live one (signals._live_concerns, what the centre and admins get) for every
centre and every such audience: the public, a buyer, and another centre's user.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from marketplace import clock, events
from marketplace.admin.services import metrics as metric_library
from marketplace.benchmarks import periods as period_service
from marketplace.benchmarks import restatements, signals
from marketplace.benchmarks.models import Observation, PendingRestatement
from marketplace.benchmarks.visibility import audience_for
from marketplace.catalogue import accreditation
from marketplace.extensions import db
from marketplace.publications import services as publishing
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
)

NOW = datetime(2026, 8, 3, 9, tzinfo=UTC)  # 2026-Q2 has ended; 2026-Q3 runs


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def judged_both_ways(centre, viewer) -> tuple[list, list]:
    context = signals.Context(
        centre=centre,
        audience=audience_for(viewer),
        today=clock.today(),
        centre_page=f"/centres/{centre.slug}",
    )
    return signals._spc_concerns(context), signals._live_concerns(context)


def assert_same(world) -> list:
    """Stored == live for every centre and audience; returns the public's concerns."""
    db.session.flush()
    public = []
    for centre in world["centres"]:
        for viewer in (None, world["buyer"], world["outsider"]):
            stored, live = judged_both_ways(centre, viewer)
            assert stored == live, (centre.slug, viewer)
        public.extend(judged_both_ways(centre, None)[0])
    return public


@pytest.fixture
def world(personas):
    """Three centres, twelve published quarters of a cost (2023-Q2 to 2026-Q1) that the
    market was judged on when they were published."""
    cost = MetricFactory(code="ap_cost_per_invoice", name="Cost per invoice", direction="lower")
    centres = [personas["centre"], personas["other_centre"], ServiceCentreFactory()]
    quarters = [(2023 + (i + 1) // 4, (i + 1) % 4 + 1) for i in range(12)]
    last = None
    for year, quarter in quarters:
        last = ReportingPeriodFactory(
            year=year, quarter=quarter, status="published", published_at=NOW
        )
        for n, centre in enumerate(centres):
            value = Decimal(10 + n + quarter % 2)  # steady: 10, 11, 10, 11 … (+ n)
            ObservationFactory(centre=centre, metric=cost, period=last, value=value)
    db.session.flush()
    events.period_published.send(last, actor=None, actor_label="test")
    return {
        "cost": cost,
        "centres": centres,
        "buyer": personas["buyer"],
        # A centre's user looking at the other centres sees their published figures only.
        "outsider": personas["other_centre_user"],
        "admin": personas["admin"],
        "centre_user": personas["centre_user"],
    }


def test_every_change_to_published_figures_keeps_the_stored_judgement_current(world):
    cost, centres, admin = world["cost"], world["centres"], world["admin"]
    first = centres[0]
    assert assert_same(world) == []

    # A running quarter's figures (open: nobody's chart has them yet), first's far above.
    q2 = ReportingPeriodFactory(year=2026, quarter=2, status="open")
    for n, centre in enumerate(centres):
        value = Decimal("30") if n == 0 else Decimal("11")
        ObservationFactory(centre=centre, metric=cost, period=q2, value=value)
    assert assert_same(world) == []

    # Closed, reopened, closed again: the centre and admins see it, the public does not.
    period_service.close_period(q2, actor=admin)
    assert assert_same(world) == []
    period_service.reopen_period(q2, actor=admin, reason="A late file from one centre.")
    assert assert_same(world) == []
    period_service.close_period(q2, actor=admin)
    assert signals.SPC_CONCERN in [
        s.kind for s in signals.signals_for(first, audience_for(world["admin"]))
    ]
    assert assert_same(world) == []

    # Published: the jump is now everyone's concern, stored as it is judged live.
    publishing.start_publication(q2, actor=admin, actor_label="admin")
    concerns = assert_same(world)
    assert [(s.metric, s.period) for s in concerns] == [("ap_cost_per_invoice", "2026-Q2")]
    assert "£30.00 in Q2 2026" in concerns[0].detail

    # The restatement, once approved, replaces the published figure: no concern left.
    observation = db.session.execute(
        db.select(Observation).where(Observation.centre_id == first.id, Observation.period == q2)
    ).scalar_one()
    item = PendingRestatement(
        public_id="rst" + "1" * 29,
        observation_id=observation.id,
        submission_id=observation.submission_id,
        value=Decimal("11"),
        reason="The jump was a keying error.",
        actor_label="test",
    )
    db.session.add(item)
    db.session.flush()
    assert len(assert_same(world)) == 1  # pending: the published figure stands
    restatements.approve([item.public_id], actor=admin)
    assert assert_same(world) == []

    # A new version of the metric: the old series stays as it was ...
    new = metric_library.publish_version(
        cost.code, {"definition": "AP cost, shared overheads included"}, actor=admin, reason="x"
    )
    assert assert_same(world) == []
    # ... and its first figures start a segment of their own, too short to judge.
    q3 = ReportingPeriodFactory(year=2026, quarter=3, status="open")
    ObservationFactory(centre=first, metric=new, period=q3, value=Decimal("40"))
    assert assert_same(world) == []
    with clock.frozen_at(datetime(2026, 10, 2, 9, tzinfo=UTC)):
        period_service.close_period(q3, actor=admin)
        publishing.start_publication(q3, actor=admin, actor_label="admin")
    assert assert_same(world) == []

    # The centres' standing does not change their figures' judgement.
    accreditation.change(centres[1], "suspend", actor=admin, reason="An audit is due.")
    accreditation.change(centres[1], "withdraw", actor=admin, reason="It left the market.")
    assert assert_same(world) == []


def test_a_centre_and_admins_still_see_their_closed_quarter_judged_live(world):
    """The stored judgement is of published figures only: those who see more judge live."""
    first = world["centres"][0]
    q2 = ReportingPeriodFactory(year=2026, quarter=2, status="closed")
    ObservationFactory(centre=first, metric=world["cost"], period=q2, value=Decimal("30"))
    db.session.flush()
    for viewer in ("centre_user", "admin"):
        kinds = [s.kind for s in signals.signals_for(first, audience_for(world[viewer]))]
        assert signals.SPC_CONCERN in kinds, viewer
    assert signals.SPC_CONCERN not in [
        s.kind for s in signals.signals_for(first, audience_for(None))
    ]


def test_many_centres_at_once_give_each_centre_its_own_summary(world, personas):
    """signals_for_many (the six columns of /compare) reads once for all: the same answer."""
    centres = world["centres"]
    q2 = ReportingPeriodFactory(year=2026, quarter=2, status="closed")
    ObservationFactory(centre=centres[0], metric=world["cost"], period=q2, value=Decimal("30"))
    ObservationFactory(centre=centres[1], metric=world["cost"], period=q2, value=Decimal("11"))
    publishing.start_publication(q2, actor=world["admin"], actor_label="admin")
    centres[1].accreditation_status = "suspended"
    db.session.flush()
    for viewer in (None, personas["buyer"], personas["centre_user"], personas["admin"]):
        audience = audience_for(viewer)
        together = signals.signals_for_many(centres, audience)
        assert together == {c.id: signals.signals_for(c, audience) for c in centres}
    assert [s.kind for s in together[centres[0].id]] == [signals.SPC_CONCERN]
    assert signals.SUSPENDED in [s.kind for s in together[centres[1].id]]
