"""What the benchmarks area does when a lower area announces a change (marketplace/events.py)."""

from __future__ import annotations

from marketplace import events
from marketplace.benchmarks import market_signals, peers


def _redraw_after_accreditation(event, **_) -> None:
    # Who counts as a peer depends on who was accredited on a period's last day, so a
    # suspension today changes the statistics of every period still running.
    peers.recompute_for_centre_change(event.centre_id, event.effective_on)


def _redraw_after_edit(centre, *, changed: dict, **_) -> None:
    peers.after_catalogue_edit(centre.id, changed)


def _judge_the_market(period, **_) -> None:
    # Newly published figures: every centre's latest point may have changed kind.
    market_signals.refresh_market()


def _judge_restated_centres(approved, **_) -> None:
    market_signals.refresh_centres(item.observation.centre_id for item in approved)


def connect() -> None:
    events.period_published.connect(_judge_the_market)
    events.restatements_approved.connect(_judge_restated_centres)
    events.accreditation_changed.connect(_redraw_after_accreditation)
    events.centre_edited.connect(_redraw_after_edit)
