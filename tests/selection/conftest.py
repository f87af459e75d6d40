"""A peer group big enough to publish: seven centres, two metrics, three periods.

- ap_cost_per_invoice (£, lower is better, finance): every centre, every period.
- payroll_accuracy (%, higher is better, payroll): only four centres in 2026-Q2, a group
  below the confidentiality threshold (MIN_PEER_GROUP = 5).
- 2026-Q1 and 2026-Q2 are published; 2026-Q3 is closed (validated, not yet published).
Statistics are computed by the statistics engineer's peers.recompute_all().
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from marketplace.benchmarks import peers
from marketplace.benchmarks.models import Metric, ReportingPeriod
from marketplace.catalogue.models import ServiceCentre, ServiceLine
from marketplace.extensions import db
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    OrganisationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
    ServiceLineFactory,
)

D = Decimal

# The contract an award records (issues 12 and 16): value, dates, annual volumes per line,
# and at least three KPIs (library metrics with targets; invoice_cycle_days has no figures).
KPIS = [
    {"metric": "ap_cost_per_invoice", "target": Decimal("3.80")},
    {"metric": "payroll_accuracy", "target": Decimal("99.0")},
    {"metric": "invoice_cycle_days", "target": Decimal("5.0")},
]
CONTRACT = {
    "contract_value": Decimal("1250000"),
    "contract_starts_on": date(2027, 4, 1),
    "contract_ends_on": date(2030, 3, 31),
    "annual_volumes": {"finance": 120000},
    "kpis": KPIS,
}

# Cost per invoice by centre (index 0 = centre-a, 1 = centre-b, then the others), per period.
COSTS = {
    "2026-Q1": ["4.00", "6.00", "5.00", "3.00", "8.00", "7.00", "2.50"],
    "2026-Q2": ["3.50", "6.50", "5.00", "3.00", "8.00", "7.00", "2.50"],
    "2026-Q3": ["3.20", "6.40", "5.10", "2.90", "8.10", "7.20", "2.60"],
}
ACCURACY_Q2 = ["99.1", "98.2", "97.5", "99.8"]


@dataclass
class Bench:
    centres: list[ServiceCentre]
    cost: Metric
    accuracy: Metric
    q1: ReportingPeriod
    q2: ReportingPeriod
    q3: ReportingPeriod
    observations: dict = field(default_factory=dict)

    @property
    def slugs(self) -> list[str]:
        return [c.slug for c in self.centres]


def build_bench(personas) -> Bench:
    finance = ServiceLineFactory(code="finance", name="Finance", position=1)
    payroll = ServiceLineFactory(code="payroll", name="Payroll", position=2)
    cost = MetricFactory(
        code="ap_cost_per_invoice",
        name="AP cost per invoice",
        service_line=finance,
        decimals=2,
        position=1,
    )
    accuracy = MetricFactory(
        code="payroll_accuracy",
        name="Payroll accuracy",
        service_line=payroll,
        percentage=True,
        decimals=1,
        position=1,
    )
    published_at = datetime(2026, 8, 1, tzinfo=UTC)
    q1 = ReportingPeriodFactory(year=2026, quarter=1, status="published", published_at=published_at)
    q2 = ReportingPeriodFactory(year=2026, quarter=2, status="published", published_at=published_at)
    q3 = ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    centres = [personas["centre"], personas["other_centre"]]
    for i in range(5):
        centres.append(
            ServiceCentreFactory(
                organisation=OrganisationFactory(
                    centre=True, slug=f"peer-{i}", name=f"Peer {i} Shared Services"
                )
            )
        )
    bench = Bench(centres, cost, accuracy, q1, q2, q3)
    for period in (q1, q2, q3):
        for centre, value in zip(centres, COSTS[period.code], strict=True):
            bench.observations[cost.code, period.code, centre.slug] = ObservationFactory(
                centre=centre, metric=cost, period=period, value=D(value)
            )
    for centre, value in zip(centres, ACCURACY_Q2, strict=False):
        bench.observations[accuracy.code, q2.code, centre.slug] = ObservationFactory(
            centre=centre, metric=accuracy, period=q2, value=D(value)
        )
    peers.recompute_all()
    # Committed (to the test's savepoint) so that a view's rollback after a refused form
    # does not take the data with it.
    db.session.commit()
    return bench


@pytest.fixture
def bench(personas) -> Bench:
    return build_bench(personas)


def ready_to_lock(buyer, evaluation, *, score: Decimal = Decimal(70), not_scored: str = ""):
    """Seal the weights (if they are not) and enter the buyer's part of every weighted
    criterion for every shortlisted centre, as locking requires: a score with its rationale,
    or, given `not_scored`, "not scored" with that reason. Returns the entries given."""
    from marketplace.selection import services

    if not evaluation.is_sealed:
        services.seal(buyer, evaluation)
    entries = {}
    for problem_key in _needing(evaluation):
        if not_scored:
            entries[problem_key] = services.ScoreEntry(not_scored=True, reason=not_scored)
        else:
            entries[problem_key] = services.ScoreEntry(
                score=score, rationale=f"Evidence for {problem_key[0]} of {problem_key[1]}."
            )
    if entries:
        services.set_scores(buyer, evaluation, entries)
    return entries


def _needing(evaluation) -> list[tuple[str, str]]:
    """(criterion code, centre slug) pairs the buyer must score: weighted buyer criteria, and
    weighted metrics where a centre has no figure that can be scored."""
    from marketplace.selection import services

    view = services.evaluate(evaluation)
    pairs = []
    for criterion in view["criteria"]:
        if criterion["weight"] <= 0:
            continue
        for candidate in view["candidates"]:
            cell = view["cells"][criterion["code"]][candidate["slug"]]
            if criterion["kind"] == "buyer" or cell["percentile"] is None:
                pairs.append((criterion["code"], candidate["slug"]))
    return pairs


def add_kpi_metric() -> Metric:
    """The third KPI metric of CONTRACT (invoice_cycle_days): no centre reports it, so its
    KPI has no baseline and no figure. Made only by tests that award, so the comparison's
    metrics stay two."""
    finance = db.session.execute(
        db.select(ServiceLine).where(ServiceLine.code == "finance")
    ).scalar_one()
    metric = MetricFactory(
        code="invoice_cycle_days",
        name="Invoice cycle time",
        service_line=finance,
        unit="days",
        decimals=1,
        position=2,
    )
    db.session.commit()
    return metric
