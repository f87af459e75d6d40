"""seed-demo's awarded evaluation and contract: made once, however often it runs."""

from __future__ import annotations

from marketplace.benchmarks.models import ReportingPeriod
from marketplace.contracts.models import Contract, KpiRating
from marketplace.extensions import db
from marketplace.fixtures.cli import DEMO_DIR, load_directory
from marketplace.fixtures.demo_contract import seed_contract
from marketplace.publications import services as publications


def test_the_demo_contract_is_made_once_with_three_rated_kpis(db_session):
    load_directory(DEMO_DIR)
    period = db.session.execute(
        db.select(ReportingPeriod).where(ReportingPeriod.code == "2026-Q3")
    ).scalar_one()
    publications.start_publication(period, actor_label="test")  # rates nothing yet
    seed_contract()
    seed_contract()
    [contract] = db.session.execute(db.select(Contract)).unique().scalars().all()
    assert (contract.organisation.slug, contract.centre.slug) == (
        "national-bridges-agency",
        "northmoor",
    )
    assert len(contract.kpis) == 3
    ratings = db.session.execute(db.select(KpiRating)).scalars().all()
    # Northmoor's 2026-Q3: £3.61 per payslip meets £3.70 (Good); 99.35% accuracy misses
    # 99.50% by 0.15%; 84.8% satisfaction misses 90.0% by 5.8% (Requires improvement).
    assert sorted((r.kpi.metric.code, r.computed) for r in ratings) == [
        ("payroll_accuracy", "approaching_target"),
        ("payroll_cost_per_payslip", "good"),
        ("user_satisfaction", "requires_improvement"),
    ]


def test_the_demo_department_rolls_up_its_albs_contract(db_session):
    """The README's tour: buyer@demo.example (Civic Infrastructure) sees its ALB's payroll
    contract with Northmoor at Northmoor's 2026-Q3 £3.61 per payslip, over 140,000."""
    from decimal import Decimal

    from marketplace.selection import rollup

    load_directory(DEMO_DIR)
    period = db.session.execute(
        db.select(ReportingPeriod).where(ReportingPeriod.code == "2026-Q3")
    ).scalar_one()
    publications.start_publication(period, actor_label="test")
    seed_contract()
    result = rollup.rollup(
        rollup.organisation_for_rollup("civic-infrastructure"), rollup.choose_period(None)
    )
    assert result["period"]["code"] == "2026-Q3"
    [payroll] = result["unit_costs"]
    assert (payroll["service_line"], payroll["volume"]) == ("payroll", 140000)
    assert payroll["average"] == Decimal("3.61")
