"""What a buyer has on: their evaluations and decisions, and what changed at the centres on
their live shortlists (issue 14 "landing pages"; the early-warning summary of issue 16)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from marketplace.benchmarks import signals
from marketplace.benchmarks.visibility import audience_for
from marketplace.catalogue.models import ServiceCentre
from marketplace.selection import access
from marketplace.selection.models import Evaluation

EXTENSION = "marketplace.buyer_home_sections"


@dataclass(frozen=True)
class Watched:
    centre: ServiceCentre
    evaluations: list[Evaluation]  # the buyer's live evaluations that shortlist it
    signals: list[signals.Signal]


@dataclass(frozen=True)
class BuyerHome:
    live: list[Evaluation]
    decided: list[Evaluation]
    watched: list[Watched]  # centres with at least one signal first, then by name


def buyer_home(viewer) -> BuyerHome:
    evaluations = access.visible_evaluations(viewer)
    live = [e for e in evaluations if e.outcome is None]
    decided = [e for e in evaluations if e.outcome is not None]
    by_centre: dict[int, tuple[ServiceCentre, list[Evaluation]]] = {}
    for evaluation in live:
        for candidate in evaluation.candidates:
            entry = by_centre.setdefault(candidate.centre_id, (candidate.centre, []))
            entry[1].append(evaluation)
    audience = audience_for(viewer)
    watched = [
        Watched(centre, shortlists, signals.signals_for(centre, audience))
        for centre, shortlists in by_centre.values()
    ]
    watched.sort(key=lambda w: (not w.signals, w.centre.name))
    return BuyerHome(live=live, decided=decided, watched=watched)


def extra_sections() -> list[tuple[str, callable]]:
    """(template, context(viewer)) pairs areas above add to the page (contracts)."""
    return list(current_app.extensions.get(EXTENSION, {}).values())


def add_section(app, name: str, template: str, context) -> None:
    app.extensions.setdefault(EXTENSION, {})[name] = (template, context)
