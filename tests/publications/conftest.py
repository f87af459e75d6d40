"""A small published world: five accredited centres with figures for two quarters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from marketplace.benchmarks import peers
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.catalogue.models import ServiceCentre
from marketplace.extensions import db
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    OrganisationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
)

COSTS = ["4.12", "5.83", "2.07", "10.50", "6.00"]
PAID = ["82.5", "91.0", "77.3", "95.4", "60.0"]
EARLIER_COSTS = ["4.50", "5.90", "2.20", "11.00", "6.10"]


@dataclass
class World:
    q2: ReportingPeriod
    q3: ReportingPeriod
    centres: list[ServiceCentre]
    cost: object
    paid: object
    small: object


@pytest.fixture
def world(db_session) -> World:
    """2026-Q2 published (figures only), 2026-Q3 closed and ready to publish."""
    OrganisationFactory(authority=True, slug="authority", name="Test Accreditation Authority")
    cost = MetricFactory(
        code="ap_cost_per_invoice",
        name="Accounts payable cost per invoice",
        direction="lower",
        unit="gbp",
        numerator_label="Accounts payable process cost (£)",
        denominator_label="Invoices processed",
    )
    paid = MetricFactory(
        percentage=True,
        code="invoices_paid_5_days",
        name="Undisputed invoices paid within 5 days",
        decimals=1,
        target=Decimal("80"),
        numerator_label="Undisputed invoices paid within 5 days",
        denominator_label="Undisputed invoices paid",
    )
    # Reported by only two centres: a peer group too small to disclose.
    small = MetricFactory(code="monthly_close_days", name="Monthly close", unit="days", decimals=1)
    q2 = ReportingPeriodFactory(
        year=2026, quarter=2, status="published", published_at=datetime(2026, 8, 1, 9, tzinfo=UTC)
    )
    q3 = ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    centres = []
    for index, (value, share, before) in enumerate(zip(COSTS, PAID, EARLIER_COSTS, strict=True)):
        centre = ServiceCentreFactory(
            organisation=OrganisationFactory(
                centre=True, slug=f"ssc-{chr(97 + index)}", name=f"Centre {chr(65 + index)}"
            ),
            commentary=f"Commentary of centre {chr(65 + index)}.",
        )
        centres.append(centre)
        ObservationFactory(
            centre=centre,
            metric=cost,
            period=q3,
            value=Decimal(value),
            numerator=Decimal(value) * 1000,
            denominator=Decimal(1000),
        )
        ObservationFactory(
            centre=centre,
            metric=paid,
            period=q3,
            value=Decimal(share),
            numerator=Decimal(share) * 10,
            denominator=Decimal(1000),
        )
        ObservationFactory(centre=centre, metric=cost, period=q2, value=Decimal(before))
        if index < 2:
            ObservationFactory(centre=centre, metric=small, period=q3, value=Decimal("5.5"))
    peers.recompute_all()
    db.session.flush()
    return World(q2=q2, q3=q3, centres=centres, cost=cost, paid=paid, small=small)
