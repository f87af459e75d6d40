"""What the selection area does when a lower area announces a change (marketplace/events.py).

When a centre's accreditation standing changes, the buyers of every live evaluation (one
without an outcome yet) that shortlists it (its team) are told by e-mail, in the same
transaction as the change, whichever door made it. The locked evaluation page shows the
change itself (decisions.standing_changes).
"""

from __future__ import annotations

from sqlalchemy import select

from marketplace import events
from marketplace.catalogue.models import STATUS_LABELS, ServiceCentre
from marketplace.extensions import db
from marketplace.mail import services as mail
from marketplace.selection import teams
from marketplace.selection.models import Evaluation, EvaluationCandidate, EvaluationOutcome


def live_evaluations_with(centre_id: int) -> list[Evaluation]:
    """Evaluations without an outcome that have the centre on their shortlist."""
    decided = select(EvaluationOutcome.evaluation_id)
    return list(
        db.session.execute(
            select(Evaluation)
            .join(EvaluationCandidate, EvaluationCandidate.evaluation_id == Evaluation.id)
            .where(EvaluationCandidate.centre_id == centre_id, Evaluation.id.not_in(decided))
            .order_by(Evaluation.id)
        )
        .unique()
        .scalars()
    )


def _tell_buyers(event, **_) -> None:
    if event.from_status == event.to_status:
        return
    centre = db.session.get(ServiceCentre, event.centre_id)
    for evaluation in live_evaluations_with(event.centre_id):
        for buyer in teams.people(evaluation):
            mail.queue(
                buyer.email,
                f"{centre.name} is now {STATUS_LABELS.get(event.to_status, event.to_status)}: "
                f"your evaluation '{evaluation.title}'",
                "standing_changed",
                buyer=buyer,
                centre=centre,
                evaluation=evaluation,
                event=event,
                from_label=STATUS_LABELS.get(event.from_status or "", event.from_status),
                to_label=STATUS_LABELS.get(event.to_status, event.to_status),
            )


def connect() -> None:
    events.accreditation_changed.connect(_tell_buyers)
