"""A centre's early-warning summary: each kind of signal, who sees it, the page and the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from marketplace import clock, events
from marketplace.benchmarks import signals
from marketplace.benchmarks.models import PendingRestatement
from marketplace.benchmarks.spc_schemas import SignalsSchema
from marketplace.benchmarks.visibility import audience_for
from marketplace.extensions import db
from tests.factories import (
    CertificationFactory,
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    SubmissionFactory,
)

TODAY = date(2026, 12, 2)
PUBLISHED_AT = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(datetime(2026, 12, 2, 10, tzinfo=UTC)):
        yield


def kinds(centre, viewer=None):
    return [s.kind for s in signals.signals_for(centre, audience_for(viewer))]


def only(centre, kind, viewer=None):
    found = [s for s in signals.signals_for(centre, audience_for(viewer)) if s.kind == kind]
    assert len(found) == 1, found
    return found[0]


def quarters(count: int, *, last=(2026, 3)):
    end = last[0] * 4 + last[1] - 1
    for i in range(end - count + 1, end + 1):
        yield i // 4, i % 4 + 1


def record(centre, metric, values, *, status="published", channel="fixtures"):
    for (year, quarter), value in zip(quarters(len(values)), values, strict=True):
        period = ReportingPeriodFactory(
            year=year,
            quarter=quarter,
            status=status,
            published_at=PUBLISHED_AT if status == "published" else None,
        )
        submission = SubmissionFactory(centre=centre, channel=channel)
        ObservationFactory(
            centre=centre, metric=metric, period=period, value=Decimal(value), submission=submission
        )
    if status == "published":
        # The factory makes the periods published; the follow-ups of publishing (the
        # market's stored judgement, which the public's summary reads) are sent here.
        db.session.flush()
        events.period_published.send(period, actor=None, actor_label="test")


def test_a_centre_in_good_standing_with_steady_figures_has_no_signal(personas):
    centre = personas["centre"]
    record(centre, MetricFactory(code="ap_cost_per_invoice"), ["10", "11"] * 6)
    assert kinds(centre) == []


def test_a_suspension_is_a_signal(personas):
    centre = personas["centre"]
    centre.accreditation_status = "suspended"
    signal = only(centre, signals.SUSPENDED)
    assert signal.detail == (
        "The accreditation is suspended: no contract can be awarded to the centre until the "
        "authority reinstates it."
    )
    assert signal.link == "/centres/centre-a#accreditation"


@pytest.mark.parametrize(("days", "signalled"), [(60, True), (61, False), (1, True)])
def test_accreditation_ending_within_sixty_days(personas, days, signalled):
    centre = personas["centre"]
    centre.accredited_until = TODAY + timedelta(days=days)
    assert (signals.ACCREDITATION_ENDING in kinds(centre)) is signalled
    if signalled:
        detail = only(centre, signals.ACCREDITATION_ENDING).detail
        ending = TODAY + timedelta(days=days)
        assert f"ends on {ending.day} {ending:%B %Y}" in detail
        assert ("1 day from today" if days == 1 else f"{days} days from today") in detail


def test_certifications_ending_or_ended(personas):
    centre = personas["centre"]
    CertificationFactory(centre=centre, scheme="iso27001", expires_on=TODAY + timedelta(days=30))
    CertificationFactory(centre=centre, scheme="iso9001", expires_on=TODAY - timedelta(days=3))
    CertificationFactory(centre=centre, scheme="iso22301", expires_on=TODAY + timedelta(days=90))
    db.session.flush()
    db.session.refresh(centre)
    found = [
        s.detail
        for s in signals.signals_for(centre, audience_for(None))
        if s.kind == signals.CERTIFICATION_ENDING
    ]
    assert len(found) == 2
    assert any("expires on 1 January 2027, 30 days from today" in d for d in found)
    assert any("expired on 29 November 2026" in d for d in found)


def test_no_figures_by_the_deadline_is_a_missed_deadline(personas):
    centre = personas["centre"]
    # 2026-Q3 ended on 30 September; its deadline (30 days) was 30 October.
    ReportingPeriodFactory(year=2026, quarter=3, status="published", published_at=PUBLISHED_AT)
    signal = only(centre, signals.MISSED_DEADLINE)
    assert signal.period == "2026-Q3"
    assert signal.detail == (
        "No figures for Q3 2026 have been sent; they were due by 30 October 2026."
    )


def test_figures_sent_late_are_a_missed_deadline_and_on_time_are_not(personas):
    centre, other = personas["centre"], personas["other_centre"]
    metric = MetricFactory(code="ap_cost_per_invoice")
    with clock.frozen_at(datetime(2026, 11, 5, 9, tzinfo=UTC)):
        record(centre, metric, ["10"], channel="web")
    with clock.frozen_at(datetime(2026, 10, 30, 22, 30, tzinfo=UTC)):  # 23:30 in London
        record(other, metric, ["10"], channel="api")
    db.session.flush()
    assert only(centre, signals.MISSED_DEADLINE).detail == (
        "The figures for Q3 2026 were due by 30 October 2026; the first arrived on 5 November 2026."
    )
    assert signals.MISSED_DEADLINE not in kinds(other)


def test_an_imported_history_is_not_late(personas):
    centre = personas["centre"]
    record(centre, MetricFactory(code="ap_cost_per_invoice"), ["10"], channel="fixtures")
    assert signals.MISSED_DEADLINE not in kinds(centre)


def test_a_centre_accredited_after_the_quarter_owes_nothing_for_it(personas):
    centre = personas["centre"]
    centre.accredited_from = date(2026, 10, 15)
    ReportingPeriodFactory(year=2026, quarter=3, status="published", published_at=PUBLISHED_AT)
    assert signals.MISSED_DEADLINE not in kinds(centre)


def test_a_latest_point_of_special_cause_concern_is_a_signal(personas):
    centre = personas["centre"]
    cost = MetricFactory(code="ap_cost_per_invoice", name="Cost per invoice")
    record(centre, cost, ["10", "11"] * 6 + ["30"])  # a cost far above its limits
    signal = only(centre, signals.SPC_CONCERN)
    assert signal.metric == "ap_cost_per_invoice" and signal.period == "2026-Q3"
    assert signal.detail == (
        "Cost per invoice: the latest figure, £30.00 in Q3 2026, is special cause concern "
        "(outside a process limit)."
    )
    assert signal.link == "/centres/centre-a#early-warning-ap_cost_per_invoice"


def test_an_improvement_is_not_a_signal(personas):
    centre = personas["centre"]
    record(centre, MetricFactory(code="ap_cost_per_invoice"), ["10", "11"] * 6 + ["1"])
    assert signals.SPC_CONCERN not in kinds(centre)


def test_closed_periods_count_for_the_centre_and_admins_only(personas):
    centre = personas["centre"]
    cost = MetricFactory(code="ap_cost_per_invoice")
    record(centre, cost, ["10", "11"] * 6, status="published")
    period = ReportingPeriodFactory(year=2026, quarter=4, status="closed")
    ObservationFactory(centre=centre, metric=cost, period=period, value=Decimal("30"))
    assert signals.SPC_CONCERN not in kinds(centre, personas["buyer"])
    assert signals.SPC_CONCERN in kinds(centre, personas["centre_user"])
    assert signals.SPC_CONCERN in kinds(centre, personas["admin"])


def _restatement(centre, metric, period, *, status, decided_at):
    observation = ObservationFactory(centre=centre, metric=metric, period=period)
    item = PendingRestatement(
        public_id=f"rst{observation.id:029d}",
        observation_id=observation.id,
        submission_id=observation.submission_id,
        value=Decimal("6.25"),
        reason="The invoice count left out one site.",
        actor_label="test",
        status=status,
        decided_at=decided_at,
        decision_reason="",
    )
    db.session.add(item)
    db.session.flush()
    return item


def test_restatements_approved_in_the_last_four_quarters_are_signals(personas):
    centre = personas["centre"]
    cost = MetricFactory(code="ap_cost_per_invoice", name="Cost per invoice")
    q1 = ReportingPeriodFactory(year=2026, quarter=1, status="published", published_at=PUBLISHED_AT)
    q2 = ReportingPeriodFactory(year=2025, quarter=4, status="published", published_at=PUBLISHED_AT)
    q3 = ReportingPeriodFactory(year=2025, quarter=3, status="published", published_at=PUBLISHED_AT)
    _restatement(centre, cost, q1, status="approved", decided_at=datetime(2026, 6, 1, tzinfo=UTC))
    # Approved on the first day of the quarter three quarters back (2026-Q1): still counted.
    _restatement(centre, cost, q2, status="approved", decided_at=datetime(2026, 1, 1, tzinfo=UTC))
    # Before that, and a pending one: not signals.
    _restatement(centre, cost, q3, status="approved", decided_at=datetime(2025, 12, 31, tzinfo=UTC))
    other = ReportingPeriodFactory(
        year=2025, quarter=2, status="published", published_at=PUBLISHED_AT
    )
    _restatement(centre, cost, other, status="pending", decided_at=None)
    found = [
        s for s in signals.signals_for(centre, audience_for(None)) if s.kind == signals.RESTATEMENT
    ]
    assert [s.period for s in found] == ["2025-Q4", "2026-Q1"]
    assert found[1].detail == (
        "Cost per invoice for Q1 2026 was restated to £6.25 on 1 June 2026: The invoice count "
        "left out one site."
    )
    assert found[1].link == "/reports/centre-a/2026-Q1"


def test_areas_above_add_their_own_sources(app, personas):
    def kpis(context):
        return [signals.Signal(signals.KPI_RATING, f"{context.centre.name}: a KPI is Inadequate.")]

    signals.add_source(app, "test", kpis)
    try:
        personas["centre"].accreditation_status = "suspended"
        assert kinds(personas["centre"]) == [signals.SUSPENDED, signals.KPI_RATING]
    finally:
        app.extensions[signals.EXTENSION].pop("test")


def test_the_api_gives_the_summary_in_the_contracts_shape(client, personas):
    centre = personas["centre"]
    centre.accreditation_status = "suspended"
    record(centre, MetricFactory(code="ap_cost_per_invoice"), ["10", "11"] * 6 + ["30"])
    db.session.flush()
    response = client.get("/api/v1/centres/centre-a/signals")
    assert response.status_code == 200
    body = response.get_json()
    assert SignalsSchema().validate(body) == {}
    assert body["centre"] == "centre-a"
    assert [s["kind"] for s in body["signals"]] == ["suspended", "spc_concern"]
    first = body["signals"][1]
    assert set(first) >= {"kind", "metric", "period", "detail"}
    assert first["metric"] == "ap_cost_per_invoice" and first["period"] == "2026-Q3"


def test_the_api_answers_404_for_an_unknown_or_hidden_centre(client, personas):
    assert client.get("/api/v1/centres/nope/signals").status_code == 404
    personas["centre"].accreditation_status = "applied"
    db.session.flush()
    assert client.get("/api/v1/centres/centre-a/signals").status_code == 404


def test_the_centre_page_lists_each_signal_with_its_evidence(client, personas):
    centre = personas["centre"]
    record(
        centre,
        MetricFactory(code="ap_cost_per_invoice", name="Cost per invoice"),
        ["10", "11"] * 6 + ["30"],
    )
    db.session.flush()
    html = client.get("/centres/centre-a").get_data(as_text=True)
    assert 'id="signals"' in html and "Early-warning summary" in html
    assert "Special cause concern" in html
    assert "the latest figure, £30.00 in Q3 2026, is special cause concern" in html
    assert 'href="/centres/centre-a#early-warning-ap_cost_per_invoice"' in html


def test_the_centre_page_says_when_there_is_nothing_to_look_at(client, personas):
    html = client.get("/centres/centre-a").get_data(as_text=True)
    assert "Nothing to look at: no suspension" in html
