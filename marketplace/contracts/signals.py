"""The contracts area's source of early-warning signals (benchmarks/signals.py `add_source`):
contract KPIs whose latest rating is Requires improvement or Inadequate.

- Only a **live** contract counts: today falls within its term (starts_on to ends_on).
- A KPI's latest rating is its rating of the newest published quarter that has one; the
  rating that counts is the one that stands (the buyer's override, else the computed one),
  and the evidence says so when an override differs from the computed rating.
- **Who sees it follows the contract's own visibility** (services.can_view): the buyers of
  the organisation holding the contract and of its parent department, the centre's own
  people and admins. Everyone else (the public, another organisation's buyers, another
  centre, a buyer still waiting to join) does not see the signal at all, so a centre's
  summary never names another organisation's contract, its targets or its figures.
- Alerts ask with `include_restricted`: they get every such signal, each carrying in
  `visible_to` the rule of who may be told (the same services.can_view), and tell only them.
"""

from __future__ import annotations

from datetime import date

from flask import Flask

from marketplace import formatting
from marketplace.benchmarks import signals
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.benchmarks.visibility import Audience
from marketplace.catalogue.models import ServiceCentre
from marketplace.contracts import services
from marketplace.contracts.models import RATING_LABELS, Contract, ContractKpi, KpiRating
from marketplace.extensions import db

CONCERNING = ("requires_improvement", "inadequate")
SOURCE_NAME = "contracts.kpi_ratings"

# The contract page of each kind of viewer (contracts/views.py).
PAGES = {"buyer": "/buyer/contracts/", "centre": "/centre/contracts/", "admin": "/admin/contracts/"}


def latest_ratings(contract: Contract) -> list[KpiRating]:
    """Each KPI's rating of the newest published quarter rated, in the contract's KPI order."""
    return latest_ratings_of([contract.id]).get(contract.id, [])


def latest_ratings_of(contract_ids: list[int]) -> dict[int, list[KpiRating]]:
    """latest_ratings of several contracts, by contract id, in one query."""
    if not contract_ids:
        return {}
    rows = db.session.execute(
        db.select(ContractKpi.contract_id, KpiRating)
        .join(ContractKpi, ContractKpi.id == KpiRating.kpi_id)
        .join(ReportingPeriod, ReportingPeriod.id == KpiRating.period_id)
        .where(ContractKpi.contract_id.in_(contract_ids), ReportingPeriod.status == "published")
        .order_by(ContractKpi.position, ReportingPeriod.year, ReportingPeriod.quarter)
    ).all()
    latest: dict[int, dict[int, KpiRating]] = {}
    for contract_id, rating in rows:
        latest.setdefault(contract_id, {})[rating.kpi_id] = rating  # later quarters win
    return {contract_id: list(by_kpi.values()) for contract_id, by_kpi in latest.items()}


def concerning_across_market(today: date) -> list[tuple[Contract, list[KpiRating]]]:
    """For the authority (/admin/signals): every live contract whose KPIs' latest ratings
    include Requires improvement or Inadequate, with those ratings; contracts by centre name
    then award. The same rule as kpi_signals (live today, newest published quarter rated,
    the rating that stands), read in two queries however many contracts there are."""
    contracts = list(
        db.session.execute(
            db.select(Contract)
            .join(ServiceCentre, ServiceCentre.id == Contract.centre_id)
            .where(Contract.starts_on <= today, Contract.ends_on >= today)
            .order_by(ServiceCentre.name, Contract.awarded_at, Contract.id)
        )
        .unique()
        .scalars()
    )
    latest = latest_ratings_of([c.id for c in contracts])
    found = []
    for contract in contracts:
        bad = [r for r in latest.get(contract.id, []) if r.rating in CONCERNING]
        if bad:
            found.append((contract, bad))
    return found


def audience_may_see(audience: Audience, contract: Contract) -> bool:
    """services.can_view, for an audience (benchmarks.visibility) rather than a person."""
    if audience.role == "admin":
        return True
    if audience.role == "buyer":
        return audience.organisation_id in (
            contract.organisation_id,
            contract.organisation.parent_id,
        )
    if audience.role == "centre":
        return audience.own_centre_id == contract.centre_id
    return False


def contract_link(contract: Contract, role: str | None) -> str:
    """The viewer's own page of the contract; for a reader not known yet (an alert, read by
    several kinds of people), the address that sends each to theirs."""
    return PAGES.get(role or "", "/contracts/") + contract.public_id


def evidence(contract: Contract, rating: KpiRating) -> str:
    kpi = rating.kpi
    metric = kpi.metric
    figure = formatting.figure(rating.figure, metric.decimals, metric.unit)
    target = formatting.figure(kpi.target, metric.decimals, metric.unit)
    better = "higher" if kpi.direction == "higher" else "lower"
    text = (
        f"{contract.title} ({contract.organisation.name}, "
        f"{formatting.date_text(contract.starts_on)} to {formatting.date_text(contract.ends_on)}): "
        f"{metric.name} was {figure} in {rating.period.label} against a target of {target} "
        f"({better} is better), rated {RATING_LABELS[rating.rating]}"
    )
    if rating.override is not None and rating.override != rating.computed:
        text += (
            f" by the buyer (computed: {RATING_LABELS[rating.computed]}; the buyer's reason: "
            f"{rating.override_reason})"
        )
    return text + "."


def live_contracts_of(centre_ids: list[int], today: date) -> dict[int, list[Contract]]:
    """Each centre's contracts whose term includes today, by centre id, in one query."""
    found: dict[int, list[Contract]] = {}
    for contract in (
        db.session.execute(
            db.select(Contract)
            .where(
                Contract.centre_id.in_(centre_ids),
                Contract.starts_on <= today,
                Contract.ends_on >= today,
            )
            .order_by(Contract.awarded_at, Contract.id)
        )
        .unique()
        .scalars()
    ):
        found.setdefault(contract.centre_id, []).append(contract)
    return found


def kpi_signals(context: signals.Context) -> list[signals.Signal]:
    """The source benchmarks.signals calls: see the module's docstring for who sees what."""
    if context.audience.role is None and not context.include_restricted:
        return []  # the public sees no contract (audience_may_see), so none is read
    found = []
    contracts = context.per_centre(
        SOURCE_NAME, lambda ids: live_contracts_of(ids, context.today), []
    )
    for contract in contracts:
        allowed = audience_may_see(context.audience, contract)
        if not (allowed or context.include_restricted):
            continue
        for rating in latest_ratings(contract):
            if rating.rating not in CONCERNING:
                continue
            found.append(
                signals.Signal(
                    signals.KPI_RATING,
                    evidence(contract, rating),
                    metric=rating.kpi.metric.code,
                    period=rating.period.code,
                    link=contract_link(contract, context.audience.role if allowed else None),
                    # A new rating of the quarter (worse, better but still short, or an
                    # override) is new evidence: a new alert.
                    key="|".join(
                        (
                            signals.KPI_RATING,
                            contract.public_id,
                            rating.kpi.metric.code,
                            rating.period.code,
                            rating.rating,
                        )
                    ),
                    visible_to=lambda user, contract=contract: services.can_view(user, contract),
                )
            )
    return found


def register(app: Flask) -> None:
    signals.add_source(app, SOURCE_NAME, kpi_signals)
