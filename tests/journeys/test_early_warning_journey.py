"""Issue 16's journey, end to end through the web: "an award with three KPIs; the next
published quarter rates them; a centre's figure breaks a limit; the centre sees the signal at
once, the buyer after the grace period, by e-mail and feed."

The world: Centre A and Centre B, both accredited, with eight published quarters of AP cost
per invoice (2024-Q3 to 2026-Q2; Centre A steady between £3.40 and £3.50), payroll accuracy
and invoice cycle time. 2026-Q3 is closed, its figures in: Centre A's cost per invoice jumps
to £4.40, above the upper process limit (about £3.82) and 15.8% over the KPI target of £3.80.

1. Persona Agency's buyer shortlists both centres, seals, scores and locks (the services the
   earlier pages call), then awards Centre A through the outcome form, with three KPIs.
2. The authority publishes 2026-Q3 through the admin door: the KPIs are rated (Inadequate,
   Good, Approaching target).
3. `flask alerts run`: Centre A hears at once (page, e-mail, feed) of the special cause
   concern and of the KPI; the buyer hears nothing yet.
4. A day later (ALERT_GRACE_HOURS = 24) `flask alerts run` again: the buyer's digest is in the
   outbox, their feed and alerts page list both, and the e-mail's evidence link opens the
   contract. Another department following Centre A through a live evaluation hears of the
   special cause concern but never of Persona Agency's contract.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from marketplace import clock
from marketplace.contracts.models import Contract
from marketplace.extensions import db
from marketplace.mail.models import OutboxEmail
from marketplace.selection import services as selection
from marketplace.selection import teams
from marketplace.selection.models import Evaluation, EvaluationCandidate
from tests.conftest import sign_in
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    OrganisationFactory,
    ReportingPeriodFactory,
    ServiceLineFactory,
    UserFactory,
)
from tests.selection.conftest import ready_to_lock

NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)
ATOM = {"a": "http://www.w3.org/2005/Atom"}
PUBLISHED_AT = datetime(2026, 8, 1, tzinfo=UTC)

# Eight published quarters, then 2026-Q3 (closed, to be published in the journey).
QUARTERS = [(2024, 3), (2024, 4), (2025, 1), (2025, 2), (2025, 3), (2025, 4), (2026, 1), (2026, 2)]
COST_A = ["3.40", "3.50", "3.40", "3.50", "3.40", "3.50", "3.40", "3.50"]
COST_B = ["5.10", "5.00", "5.20", "5.00", "5.10", "5.00", "5.10", "5.00"]
Q3 = {  # 2026-Q3: (centre-a, centre-b)
    "ap_cost_per_invoice": ("4.40", "5.10"),
    "payroll_accuracy": ("99.2", "98.0"),
    "invoice_cycle_days": ("5.2", "7.0"),
}


def text_of(html: str) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"\(\s+", "(", re.sub(r"\s+([,.;:)])", r"\1", text))


def feed_titles(client, path) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ElementTree.fromstring(response.data)  # noqa: S314 - our own feed
    return sorted(e.findtext("a:title", namespaces=ATOM) for e in root.findall("a:entry", ATOM))


def feed_path(client) -> str:
    """Make the person's private feed on /alerts and read its address, shown once."""
    assert client.post("/alerts/feed-key", data={"action": "create"}).status_code == 302
    page = client.get("/alerts").get_data(as_text=True)
    return re.search(r"(/alerts/feed/[A-Za-z0-9_-]+\.atom)", page).group(1)


def digests_to(address) -> list[OutboxEmail]:
    return list(
        db.session.execute(
            select(OutboxEmail).where(
                OutboxEmail.to_address == address, OutboxEmail.template == "alerts_digest"
            )
        ).scalars()
    )


def alerts_run(app) -> str:
    result = app.test_cli_runner().invoke(args=["alerts", "run"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def world(personas):
    finance = ServiceLineFactory(code="finance", name="Finance", position=1)
    payroll = ServiceLineFactory(code="payroll", name="Payroll", position=2)
    metrics = {
        "ap_cost_per_invoice": MetricFactory(
            code="ap_cost_per_invoice", name="AP cost per invoice", service_line=finance
        ),
        "payroll_accuracy": MetricFactory(
            code="payroll_accuracy",
            name="Payroll accuracy",
            service_line=payroll,
            percentage=True,
            decimals=1,
        ),
        "invoice_cycle_days": MetricFactory(
            code="invoice_cycle_days",
            name="Invoice cycle time",
            service_line=finance,
            unit="days",
            decimals=1,
        ),
    }
    centres = (personas["centre"], personas["other_centre"])
    for index, (year, quarter) in enumerate(QUARTERS):
        period = ReportingPeriodFactory(
            year=year, quarter=quarter, status="published", published_at=PUBLISHED_AT
        )
        for centre, cost in zip(centres, (COST_A[index], COST_B[index]), strict=True):
            ObservationFactory(
                centre=centre,
                metric=metrics["ap_cost_per_invoice"],
                period=period,
                value=Decimal(cost),
            )
    q3 = ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    for code, values in Q3.items():
        for centre, value in zip(centres, values, strict=True):
            ObservationFactory(centre=centre, metric=metrics[code], period=q3, value=Decimal(value))
    # The running quarter, so that its opening is not part of the journey.
    ReportingPeriodFactory(year=2026, quarter=4, status="open")
    # Another department follows Centre A through a live evaluation of its own.
    outsider = UserFactory(
        email="buyer@elsewhere.example.gov.uk",
        organisation=OrganisationFactory(slug="elsewhere", name="Department Elsewhere"),
    )
    db.session.flush()
    evaluation = Evaluation(
        title="Finance 2027 (elsewhere)",
        organisation_id=outsider.organisation_id,
        created_by_id=outsider.id,
        period_id=q3.id,
    )
    db.session.add(evaluation)
    db.session.flush()
    teams.add_creator(evaluation, outsider)
    db.session.add(EvaluationCandidate(evaluation_id=evaluation.id, centre_id=centres[0].id))
    from marketplace.benchmarks import peers

    peers.recompute_all()
    db.session.commit()
    return {"outsider": outsider}


def client_for(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def test_an_award_rated_badly_warns_the_centre_at_once_and_the_buyer_after_the_grace(
    app, personas, world
):
    buyer_user = personas["alb_buyer"]
    buyer, centre = client_for(app, buyer_user), client_for(app, personas["centre_user"])
    admin, outsider = client_for(app, personas["admin"]), client_for(app, world["outsider"])

    with clock.frozen_at(NOW):
        # 1. The award, through the outcome form, with three KPIs.
        evaluation = selection.create(
            buyer_user,
            {
                "title": "Finance shared service 2026 to 2028",
                "needs": "120,000 invoices a year",
                "period": "2026-Q2",
                "service_lines": ["finance"],
                "centres": ["centre-a", "centre-b"],
            },
        )
        ready_to_lock(buyer_user, evaluation)
        db.session.commit()
        url = f"/buyer/evaluations/{evaluation.public_id}"
        assert buyer.post(url + "/lock").status_code == 302
        form = buyer.get(url + "/outcome").get_data(as_text=True)
        assert 'value="award:centre-a"' in form
        response = buyer.post(
            url + "/outcome",
            data={
                "outcome": "award:centre-a",
                "rationale": "Lowest cost per invoice, steady for two years.",
                "contract_value": "1250000",
                # The outcome form's dates are Day, Month and Year boxes.
                "contract_starts_on-day": "1",
                "contract_starts_on-month": "7",
                "contract_starts_on-year": "2026",
                "contract_ends_on-day": "30",
                "contract_ends_on-month": "June",
                "contract_ends_on-year": "2028",
                "volume_finance": "120,000",
                "kpi_metric_1": "ap_cost_per_invoice",
                "kpi_target_1": "3.80",
                "kpi_metric_2": "payroll_accuracy",
                "kpi_target_2": "99.0",
                "kpi_metric_3": "invoice_cycle_days",
                "kpi_target_3": "5.0",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        contract = db.session.execute(select(Contract)).scalar_one()
        contract_page = f"/buyer/contracts/{contract.public_id}"
        page = text_of(buyer.get(contract_page).get_data(as_text=True))
        assert "AP cost per invoice" in page and "Invoice cycle time" in page
        # No quarter of the term is published yet: nothing rated, no KPI signal.
        home = text_of(buyer.get("/buyer").get_data(as_text=True))
        assert "No quarter of its term has been published yet" in home
        assert "Contract KPI below target" not in home

        # 2. The authority publishes 2026-Q3: the next published quarter rates the KPIs.
        done = admin.post("/admin/periods/2026-Q3/publish", data={"confirm": "yes"})
        assert done.status_code == 302
        page = text_of(buyer.get(contract_page).get_data(as_text=True))
        assert "Q3 2026 £4.40 Inadequate Inadequate" in page
        assert "Q3 2026 99.2% Good Good" in page
        assert "Q3 2026 5.2 days Approaching target Approaching target" in page
        home = text_of(buyer.get("/buyer").get_data(as_text=True))
        assert "KPI ratings, Q3 2026 (the latest quarter rated)" in home
        assert "AP cost per invoice £3.80 £4.40 Inadequate" in home

        # The centre's early-warning summary: the limit broken, and the KPI.
        summary = text_of(centre.get("/centres/centre-a").get_data(as_text=True))
        assert "Special cause concern" in summary
        assert "AP cost per invoice: the latest figure, £4.40 in Q3 2026" in summary
        assert "Contract KPI below target" in summary
        assert "AP cost per invoice was £4.40 in Q3 2026 against a target of £3.80" in summary

        # 3. The hourly run: Centre A hears at once, the buyer not yet.
        output = alerts_run(app)
        assert "2 new alerts" in output
        expected = [
            "Centre A Services: Contract KPI below target",
            "Centre A Services: Special cause concern",
        ]
        alerts_page = text_of(centre.get("/alerts").get_data(as_text=True))
        for title in expected:
            assert title in alerts_page
        (centre_mail,) = digests_to("user@centre-a.example.org")
        assert centre_mail.subject == "2 early-warning alerts about centres you follow"
        assert "rated Inadequate" in centre_mail.body_text
        assert f"Evidence: http://localhost/contracts/{contract.public_id}" in (
            centre_mail.body_text
        )
        assert feed_titles(centre, feed_path(centre)) == expected

        buyer_feed = feed_path(buyer)
        assert feed_titles(buyer, buyer_feed) == []
        assert digests_to("buyer@alb.example.gov.uk") == []
        assert "Contract KPI below target" not in buyer.get("/alerts").get_data(as_text=True)

    # 4. A day later: the buyer hears, by e-mail and feed.
    with clock.frozen_at(NOW + timedelta(hours=23, minutes=59)):
        alerts_run(app)
        assert digests_to("buyer@alb.example.gov.uk") == []
        assert feed_titles(buyer, buyer_feed) == []
    with clock.frozen_at(NOW + timedelta(hours=24, minutes=5)):
        output = alerts_run(app)
        assert "0 new alerts" in output
        (mail,) = digests_to("buyer@alb.example.gov.uk")
        assert mail.subject == "2 early-warning alerts about centres you follow"
        assert (
            "Finance shared service 2026 to 2028 (Persona Agency, 1 July 2026 to 30 June 2028): "
            "AP cost per invoice was £4.40 in Q3 2026 against a target of £3.80 (lower is "
            "better), rated Inadequate." in mail.body_text
        )
        link = re.search(r"Evidence: http://localhost(/contracts/\w+)", mail.body_text).group(1)
        opened = buyer.get(link)
        assert opened.status_code == 302 and opened.headers["Location"].endswith(contract_page)
        assert feed_titles(buyer, buyer_feed) == expected
        alerts_page = text_of(buyer.get("/alerts").get_data(as_text=True))
        for title in expected:
            assert title in alerts_page
        # The authority hears too; the other department only of what is public.
        (admin_mail,) = digests_to("admin@authority.example.gov.uk")
        assert "rated Inadequate" in admin_mail.body_text
        (outsider_mail,) = digests_to("buyer@elsewhere.example.gov.uk")
        assert outsider_mail.subject == "Centre A Services: Special cause concern"
        assert "Persona Agency" not in outsider_mail.body_text
        assert feed_titles(outsider, feed_path(outsider)) == [
            "Centre A Services: Special cause concern"
        ]
