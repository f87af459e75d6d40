"""A contract awarded on the selection bench: Department for Personas' ALB buys finance
from Centre A for 2026-2028, with three KPIs.

On the bench (tests/selection/conftest.py) Centre A's AP cost per invoice is £4.00, £3.50
and £3.20 in 2026-Q1, Q2 (both published) and Q3 (closed); its payroll accuracy is 99.1% in
Q2 only; nobody reports invoice cycle time.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from marketplace.contracts.models import Contract
from marketplace.extensions import db
from marketplace.selection import services as selection
from tests.selection.conftest import add_kpi_metric, build_bench, ready_to_lock

TERMS = {
    "contract_value": Decimal("1250000"),
    "contract_starts_on": date(2026, 1, 1),
    "contract_ends_on": date(2028, 12, 31),
    "annual_volumes": {"finance": 120000},
    "kpis": [
        {"metric": "ap_cost_per_invoice", "target": Decimal("3.80")},
        {"metric": "payroll_accuracy", "target": Decimal("99.0")},
        {"metric": "invoice_cycle_days", "target": Decimal("5.0")},
    ],
}


def award(personas, terms=None) -> Contract:
    buyer = personas["alb_buyer"]
    evaluation = selection.create(
        buyer,
        {
            "title": "Finance shared service 2026",
            "needs": "120,000 invoices a year",
            "period": "2026-Q2",
            "service_lines": ["finance"],
            "centres": ["centre-a", "centre-b", "peer-4"],
        },
    )
    ready_to_lock(buyer, evaluation)
    selection.lock(buyer, evaluation)
    outcome = selection.record_outcome(
        buyer, evaluation, "awarded", "centre-a", "Best value", contract=terms or TERMS
    )
    return db.session.execute(
        db.select(Contract).where(Contract.outcome_id == outcome.id)
    ).scalar_one()


@pytest.fixture
def bench(personas):
    bench = build_bench(personas)
    add_kpi_metric()
    return bench


@pytest.fixture
def contract(bench, personas) -> Contract:
    contract = award(personas)
    db.session.commit()
    return contract
