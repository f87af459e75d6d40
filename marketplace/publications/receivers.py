"""What the publications area does when a lower area announces a change (marketplace/events.py)."""

from __future__ import annotations

from marketplace import events
from marketplace.publications import services


def _republish_approved(restatements, *, period_ids, actor=None, actor_label=None, **_) -> None:
    # A restatement of a published figure reaches the published outputs only once the
    # authority approves it; then each period is republished once.
    services.after_approval(
        restatements, period_ids=period_ids, actor=actor, actor_label=actor_label
    )


def connect() -> None:
    events.restatements_approved.connect(_republish_approved)
