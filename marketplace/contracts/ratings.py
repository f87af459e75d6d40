"""KPI ratings, after the Procurement Act 2023's: exactly as DOMAIN.md says, in Decimal.

- **Good**: the figure meets the target: at or above it when higher is better, at or below
  it when lower is better.
- Otherwise the relative miss m = |figure − target| ÷ |target|; when the target is 0 the
  division has no meaning, so the miss is measured in the metric's own units against one
  step of its `decimals` (10^−decimals): m = |figure| ÷ 10^−decimals. So a rate with target
  0.0% (decimals 1) at 0.004% is m = 0.004 ÷ 0.1 = 4% (Approaching target), at 0.01% is
  10% (Requires improvement), and at 0.1%, one whole step off, 100% (Inadequate).
- **Approaching target** m ≤ 5%; **Requires improvement** m ≤ 15%; **Inadequate** beyond.
  The boundaries belong to the better band (m exactly 5% is Approaching target).
- The figure is the centre's stored figure for the KPI's metric (the metric version the
  KPI was agreed on) in the period, unrounded. A quarter without a figure gets no rating
  row: the pages and open data say "No figure" for it.

`rate_period(period)` rates every contract live in the period (its term overlaps the
quarter) and is idempotent: a second run with the same figures changes nothing; a run after
an approved restatement updates the figure and the computed rating, and keeps the buyer's
override (shown beside the new computed rating, which the override no longer need match).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import selectinload

from marketplace.audit import services as audit
from marketplace.benchmarks.models import Observation, ReportingPeriod
from marketplace.contracts.models import Contract, KpiRating
from marketplace.extensions import db

APPROACHING = Decimal("0.05")
REQUIRES_IMPROVEMENT = Decimal("0.15")


def relative_miss(figure: Decimal, target: Decimal, decimals: int) -> Decimal:
    """m = |figure − target| ÷ |target|; against one decimals step when the target is 0."""
    miss = abs(Decimal(figure) - Decimal(target))
    base = abs(Decimal(target)) if Decimal(target) != 0 else Decimal(1).scaleb(-int(decimals))
    return miss / base


def meets(figure: Decimal, target: Decimal, direction: str) -> bool:
    if direction == "higher":
        return Decimal(figure) >= Decimal(target)
    return Decimal(figure) <= Decimal(target)


def rate(figure: Decimal, target: Decimal, direction: str, decimals: int) -> str:
    """The computed rating of one figure against its target."""
    if meets(figure, target, direction):
        return "good"
    miss = relative_miss(figure, target, decimals)
    if miss <= APPROACHING:
        return "approaching_target"
    if miss <= REQUIRES_IMPROVEMENT:
        return "requires_improvement"
    return "inadequate"


def _figures(contracts: list[Contract], period: ReportingPeriod) -> dict[tuple[int, int], Decimal]:
    """{(centre_id, metric_id): value} of the period for the contracts' centres."""
    centre_ids = {c.centre_id for c in contracts}
    if not centre_ids:
        return {}
    rows = db.session.execute(
        db.select(Observation.centre_id, Observation.metric_id, Observation.value).where(
            Observation.period_id == period.id, Observation.centre_id.in_(centre_ids)
        )
    ).all()
    return {(r.centre_id, r.metric_id): r.value for r in rows}


def rate_contracts(
    contracts: list[Contract], period: ReportingPeriod, *, actor_label: str | None = None
) -> list[KpiRating]:
    """Rate the KPIs of these contracts for one published period; flush only.

    Returns the ratings added or changed (none when nothing moved)."""
    if period.status != "published":
        return []
    live = [c for c in contracts if c.live_in(period)]
    figures = _figures(live, period)
    kpi_ids = [kpi.id for contract in live for kpi in contract.kpis]
    existing = {
        r.kpi_id: r
        for r in db.session.execute(
            db.select(KpiRating).where(
                KpiRating.period_id == period.id, KpiRating.kpi_id.in_(kpi_ids)
            )
        ).scalars()
    }
    changed: list[KpiRating] = []
    for contract in live:
        for kpi in contract.kpis:
            figure = figures.get((contract.centre_id, kpi.metric_id))
            if figure is None:
                continue
            computed = rate(figure, kpi.target, kpi.direction, kpi.metric.decimals)
            rating = existing.get(kpi.id)
            if rating is None:
                rating = KpiRating(kpi=kpi, period_id=period.id, figure=figure, computed=computed)
                db.session.add(rating)
            elif rating.figure == figure and rating.computed == computed:
                continue
            else:
                rating.figure, rating.computed = figure, computed
            changed.append(rating)
    db.session.flush()
    # One audit event per contract and period, listing the KPIs whose rating was set.
    by_contract: dict[int, list[KpiRating]] = {}
    for rating in changed:
        by_contract.setdefault(rating.kpi.contract_id, []).append(rating)
    for items in by_contract.values():
        contract = items[0].kpi.contract
        audit.record(
            "contract.kpis_rated",
            actor_label=actor_label or audit.SYSTEM,
            organisation_id=contract.organisation_id,
            object_type="contract",
            object_id=contract.public_id,
            detail={
                "period": period.code,
                "ratings": [
                    {
                        "metric": r.kpi.metric.code,
                        "figure": str(r.figure),
                        "target": str(r.kpi.target),
                        "computed": r.computed,
                    }
                    for r in items
                ],
            },
        )
    return changed


def rate_period(period: ReportingPeriod, *, actor_label: str | None = None) -> list[KpiRating]:
    """Rate every live contract's KPIs for a published period (idempotent; flush only)."""
    contracts = list(
        db.session.execute(
            db.select(Contract)
            .where(Contract.starts_on <= period.ends_on, Contract.ends_on >= period.starts_on)
            .options(selectinload(Contract.kpis))
            .order_by(Contract.id)
        )
        .unique()
        .scalars()
    )
    return rate_contracts(contracts, period, actor_label=actor_label)


def published_periods_in_term(contract: Contract) -> list[ReportingPeriod]:
    return list(
        db.session.execute(
            db.select(ReportingPeriod)
            .where(
                ReportingPeriod.status == "published",
                ReportingPeriod.starts_on <= contract.ends_on,
                ReportingPeriod.ends_on >= contract.starts_on,
            )
            .order_by(ReportingPeriod.year, ReportingPeriod.quarter)
        ).scalars()
    )
