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
from marketplace.benchmarks.models import Metric
from marketplace.catalogue.models import ServiceLine
from marketplace.extensions import db


@dataclass(frozen=True)
class Driver:
    code: str
    label: str  # "Payslips a year"
    noun: str  # "payslips"
    metric_code: str
    per: Decimal = Decimal(1)

    def amount(self, volume: int) -> str:
        """'150,000 invoices'; spend in pounds: '£150,000 of spend managed'."""
        if self.code == "spend":
            return f"£{formatting.count(volume)} of spend managed"
        return f"{formatting.count(volume)} {self.noun}"


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


def line_drivers() -> dict[str, tuple[Driver, Metric]]:
    """service line code -> (driver, current unit-cost metric): the first driver whose
    metric belongs to the line, in DRIVERS order. A contract's annual volume of a line counts
    this driver (the award form says so, and the roll-up prices it at this metric)."""
    codes = [driver.metric_code for driver in DRIVERS]
    metrics = {
        m.code: m
        for m in db.session.execute(
            db.select(Metric).where(Metric.code.in_(codes), Metric.is_current.is_(True))
        ).scalars()
    }
    lines = {line.id: line.code for line in db.session.execute(db.select(ServiceLine)).scalars()}
    result: dict[str, tuple[Driver, Metric]] = {}
    for driver in DRIVERS:
        metric = metrics.get(driver.metric_code)
        if metric is not None:
            result.setdefault(lines[metric.service_line_id], (driver, metric))
    return result


def _line_names() -> dict[str, str]:
    return {line.code: line.name for line in db.session.execute(db.select(ServiceLine)).scalars()}


def volume_texts(volumes: dict[str, int]) -> list[str]:
    """A contract's annual volumes in words, one a line: 'Finance: 150,000 invoices'. The
    contract page, its PDF and the decision record all show them so."""
    mapping = line_drivers()
    names = _line_names()
    texts = []
    for code, volume in volumes.items():
        driver = mapping.get(code, (None, None))[0]
        amount = driver.amount(int(volume)) if driver else formatting.count(int(volume))
        texts.append(f"{names.get(code, code)}: {amount}")
    return texts


def volume_labels(line_codes) -> dict[str, str]:
    """The award form's label of each line's annual volume: 'Finance: invoices a year'."""
    mapping = line_drivers()
    names = _line_names()
    labels = {}
    for code in line_codes:
        driver = mapping.get(code, (None, None))[0]
        unit = driver.label.lower() if driver else "annual volume"
        labels[code] = f"{names.get(code, code)}: {unit}"
    return labels
