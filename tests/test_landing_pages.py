"""Landing pages by role: each person signs in to what they have to do (a `next` still wins)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from marketplace import clock
from marketplace.benchmarks.models import PendingRestatement
from marketplace.extensions import db
from marketplace.selection import teams
from marketplace.selection.models import Evaluation, EvaluationCandidate
from tests.accounts.helpers import PASSWORD
from tests.factories import MetricFactory, ObservationFactory, ReportingPeriodFactory

NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def sign_in(client, user, next_=None):
    return client.post(
        "/login",
        query_string={"next": next_} if next_ else None,
        data={"email": user.email, "password": PASSWORD},
    )


@pytest.mark.parametrize(
    ("persona", "home"), [("buyer", "/buyer"), ("centre_user", "/centre"), ("admin", "/admin")]
)
def test_each_role_lands_on_its_own_page(app, personas, persona, home):
    response = sign_in(app.test_client(), personas[persona])
    assert response.headers["Location"] == home


def test_next_still_wins(app, personas):
    response = sign_in(app.test_client(), personas["buyer"], next_="/metrics")
    assert response.headers["Location"] == "/metrics"


def test_a_centre_sees_what_is_due_and_what_waits(as_persona, personas):
    centre = personas["centre"]
    q3 = ReportingPeriodFactory(year=2026, quarter=3, status="published", published_at=NOW)
    metric = MetricFactory(code="ap_cost_per_invoice", name="Cost per invoice")
    observation = ObservationFactory(centre=centre, metric=metric, period=q3)
    db.session.add(
        PendingRestatement(
            public_id="rst" + "1" * 29,
            observation_id=observation.id,
            submission_id=observation.submission_id,
            value=Decimal("4.25"),
            reason="Recounted invoices.",
            actor_label="test",
        )
    )
    db.session.flush()
    html = as_persona("centre_user").get("/centre").get_data(as_text=True)
    assert "What to do now" in html
    assert "You have sent 1 figure for Q3 2026." in html
    assert "The quarter running now is Q4 2026 (ending 31 December 2026)" in html
    assert "1 restatement of published figures waiting for the authority’s approval" in html
    assert "£4.25" in html and "No figure to confirm" in html


def test_a_centre_is_warned_when_its_figures_are_due(as_persona, personas):
    ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    with clock.frozen_at(datetime(2026, 10, 20, 9, tzinfo=UTC)):
        html = as_persona("centre_user").get("/centre").get_data(as_text=True)
    assert "Your figures for Q3 2026 are due by 30 October 2026: 10 days from today." in html


def test_a_missed_deadline_is_said_plainly(as_persona, personas):
    ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    html = as_persona("centre_user").get("/centre").get_data(as_text=True)
    assert "Your figures for Q3 2026 were due by 30 October 2026 and have not arrived." in html
    assert "Submission deadline missed" in html  # its signal, which the buyers will hear of


def test_a_buyer_sees_what_changed_at_shortlisted_centres(as_persona, personas):
    period = ReportingPeriodFactory(year=2026, quarter=4, status="open")
    buyer = personas["buyer"]
    evaluation = Evaluation(
        title="Payroll 2027",
        organisation_id=buyer.organisation_id,
        created_by_id=buyer.id,
        period_id=period.id,
    )
    db.session.add(evaluation)
    db.session.flush()
    teams.add_creator(evaluation, buyer)  # a live evaluation is its team's (issue 11)
    for centre in (personas["centre"], personas["other_centre"]):
        db.session.add(EvaluationCandidate(evaluation_id=evaluation.id, centre_id=centre.id))
    personas["centre"].accreditation_status = "suspended"
    db.session.flush()
    html = as_persona("buyer").get("/buyer").get_data(as_text=True)
    assert "Your work" in html and "Payroll 2027" in html
    assert "Centre A Services" in html and "Accreditation suspended" in html
    # A centre with nothing to report is not listed among the changes.
    changes = html.split('id="changes"')[1].split('id="live"')[0]
    assert "Centre B Services" not in changes


def test_a_buyer_without_shortlists_is_pointed_to_the_catalogue(as_persona):
    html = as_persona("buyer").get("/buyer").get_data(as_text=True)
    assert "You have no live shortlist yet." in html


def test_the_pages_are_for_their_roles(as_persona):
    assert as_persona("centre_user").get("/buyer").status_code == 403
    assert as_persona("buyer").get("/centre").status_code == 403
    assert as_persona(None).get("/buyer").status_code == 302
