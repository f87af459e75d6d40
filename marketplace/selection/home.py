"""What a buyer has on: their evaluations and decisions, their organisation's live contracts
with each KPI's latest rating, and what changed at the centres they follow — on their live
shortlists or under a live contract (issue 14 "landing pages"; the early-warning summary of
issue 16). Selection sits above contracts, so it reads them directly."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from marketplace import clock, formatting
from marketplace.benchmarks import signals
from marketplace.benchmarks.visibility import audience_for
from marketplace.catalogue.models import ServiceCentre
from marketplace.contracts import services as contracts
from marketplace.contracts import signals as contract_signals
from marketplace.contracts.models import RATING_LABELS, Contract
from marketplace.selection import access
from marketplace.selection.models import Evaluation

EXTENSION = "marketplace.buyer_home_sections"


@dataclass(frozen=True)
class KpiLine:
    """One KPI of a contract as the landing page shows it, in the latest rated quarter."""

    metric: str  # the metric's name
    target: str  # formatted with its unit
    figure: str | None  # None: no figure that quarter
    rating: str | None  # code of the rating that stands (the override, else computed)
    rating_label: str
    overridden: bool


@dataclass(frozen=True)
class ContractLine:
    contract: Contract
    period: str | None  # the latest quarter with a rating, 'Q3 2026'; None before any
    kpis: list[KpiLine]


@dataclass(frozen=True)
class Watched:
    centre: ServiceCentre
    evaluations: list[Evaluation]  # the buyer's live evaluations that shortlist it
    signals: list[signals.Signal]
    contracts: list[Contract] = field(default_factory=list)  # live contracts you can see


@dataclass(frozen=True)
class BuyerHome:
    live: list[Evaluation]
    decided: list[Evaluation]
    watched: list[Watched]  # centres with at least one signal first, then by name
    contracts: list[ContractLine] = field(default_factory=list)


def live_contracts(viewer) -> list[Contract]:
    """The live contracts (today within the term) the buyer may see: their organisation's,
    and a department's also those of its ALBs (contracts.services.visible)."""
    today = clock.today()
    return [c for c in contracts.visible_contracts(viewer) if c.starts_on <= today <= c.ends_on]


def contract_line(contract: Contract) -> ContractLine:
    """The contract with each KPI's rating in the newest published quarter rated."""
    ratings = contract_signals.latest_ratings(contract)
    if not ratings:
        period = None
    else:
        period = max((r.period for r in ratings), key=lambda p: (p.year, p.quarter))
    in_period = {r.kpi_id: r for r in ratings if period is not None and r.period_id == period.id}
    lines = []
    for kpi in contract.kpis:
        metric, rating = kpi.metric, in_period.get(kpi.id)
        lines.append(
            KpiLine(
                metric=metric.name,
                target=formatting.figure(kpi.target, metric.decimals, metric.unit),
                figure=formatting.figure(rating.figure, metric.decimals, metric.unit)
                if rating
                else None,
                rating=rating.rating if rating else None,
                rating_label=RATING_LABELS[rating.rating] if rating else "No figure",
                overridden=bool(rating and rating.override is not None),
            )
        )
    return ContractLine(contract, period.label if period else None, lines)


def buyer_home(viewer) -> BuyerHome:
    evaluations = access.visible_evaluations(viewer)
    live = [e for e in evaluations if e.outcome is None]
    decided = [e for e in evaluations if e.outcome is not None]
    held = live_contracts(viewer)
    by_centre: dict[int, tuple[ServiceCentre, list[Evaluation], list[Contract]]] = {}
    for evaluation in live:
        for candidate in evaluation.candidates:
            entry = by_centre.setdefault(candidate.centre_id, (candidate.centre, [], []))
            entry[1].append(evaluation)
    for contract in held:
        by_centre.setdefault(contract.centre_id, (contract.centre, [], []))[2].append(contract)
    audience = audience_for(viewer)
    summaries = signals.signals_for_many([c for c, _s, _h in by_centre.values()], audience)
    watched = [
        Watched(centre, shortlists, summaries[centre.id], held_here)
        for centre, shortlists, held_here in by_centre.values()
    ]
    watched.sort(key=lambda w: (not w.signals, w.centre.name))
    return BuyerHome(
        live=live,
        decided=decided,
        watched=watched,
        contracts=[contract_line(c) for c in held],
    )


def extra_sections() -> list[tuple[str, callable]]:
    """(template, context(viewer)) pairs areas above add to the page (contracts)."""
    return list(current_app.extensions.get(EXTENSION, {}).values())


def add_section(app, name: str, template: str, context) -> None:
    app.extensions.setdefault(EXTENSION, {})[name] = (template, context)
