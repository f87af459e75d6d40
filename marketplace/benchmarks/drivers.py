"""Cost drivers: what a buyer counts per year, and the unit-cost metric that prices it.

DOMAIN.md's projected cost: a buyer gives annual volumes for a metric's driver; the projected
annual cost is volume × the centre's unit cost. Each driver is the denominator of one £
metric of the library (its `denominator_label` says so); `per` is how many of the driver one
unit of the metric covers (procurement is priced per £1,000 of spend managed). A metric
measured per quarter (cost per invoice processed in the quarter) is still a cost per unit,
so an annual volume priced at it is an annual cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marketplace import formatting


@dataclass(frozen=True)
class Driver:
    code: str
    label: str  # "Payslips a year"
    noun: str  # "payslips"
    metric_code: str
    per: Decimal = Decimal(1)


DRIVERS: tuple[Driver, ...] = (
    Driver("payslips", "Payslips a year", "payslips", "payroll_cost_per_payslip"),
    Driver("invoices", "Invoices a year", "invoices", "ap_cost_per_invoice"),
    Driver("employees_served", "Employees served", "employees served", "hr_cost_per_employee"),
    Driver("hires", "Hires a year", "hires", "cost_per_hire"),
    Driver("tickets", "Service desk tickets a year", "tickets", "cost_per_ticket"),
    Driver("transactions", "Transactions a year", "transactions", "cost_per_transaction"),
    Driver(
        "spend",
        "Spend managed a year (£)",
        "£ of spend managed",
        "procurement_cost_per_1000_spend",
        Decimal(1000),
    ),
)
BY_CODE = {driver.code: driver for driver in DRIVERS}
DRIVER_CODES = tuple(BY_CODE)
# Bounded volumes: whole numbers from 1 to a thousand million a year.
MIN_VOLUME = 1
MAX_VOLUME = 10**9


def annual_cost(volume: int, unit_cost, driver: Driver) -> Decimal:
    """volume ÷ per × unit cost, exactly (Decimal): the figure is rounded only when shown.

    A stored unit cost is a Decimal; a peer quartile (a double) goes through its shortest
    repr (formatting.exact), so £2.345 prices as 2.345 and not as its binary neighbour.
    """
    return Decimal(volume) * formatting.exact(unit_cost) / driver.per
