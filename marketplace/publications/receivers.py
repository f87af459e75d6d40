"""What the publications area does when a lower area announces a change (marketplace/events.py)."""

from __future__ import annotations

from marketplace import events
from marketplace.publications import services


def _republish_restatements(outcome, *, actor=None, actor_label: str | None = None, **_) -> None:
    # A restated published figure is never left behind its report.
    services.after_submission(outcome, actor=actor, actor_label=actor_label)


def connect() -> None:
    events.submission_accepted.connect(_republish_restatements)
