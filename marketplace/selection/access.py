"""Who may see and change an evaluation, and reading one under a row lock.

DOMAIN.md: the evaluation belongs to its team, the buyer who started it and the colleagues
it invites (selection.teams). So:
- its team members see it and change it while it is live (not locked);
- once locked, every buyer of its organisation and of the parent department of an ALB's
  evaluation sees it (and its decision record), read-only;
- admins see every evaluation, read-only;
- everyone else (centres, other buyers, colleagues outside the team while it is live, and a
  buyer whose request to join is waiting or refused) is told nothing, not even that it
  exists.
A buyer counts only when `User.acts_as_buyer` (accounts.membership): the one rule for
buyer-specific work, asked by these functions for the pages, the API and the services alike.
"""

from __future__ import annotations

from sqlalchemy import or_

from marketplace.accounts import membership
from marketplace.accounts.models import Organisation
from marketplace.errors import Conflict, NotFound, PermissionDenied
from marketplace.extensions import db
from marketplace.selection.models import Evaluation, EvaluationMember


def _acting_buyer(viewer) -> bool:
    return (
        viewer is not None
        and getattr(viewer, "is_authenticated", False)
        and getattr(viewer, "role", None) == "buyer"
        and viewer.acts_as_buyer
    )


def is_member(viewer, evaluation: Evaluation) -> bool:
    """On the evaluation's team (whatever the viewer's standing now)."""
    if viewer is None or getattr(viewer, "id", None) is None or evaluation.id is None:
        return False
    return (
        db.session.get(EvaluationMember, (evaluation.id, viewer.id)) is not None
        and viewer.organisation_id == evaluation.organisation_id
    )


def can_view(viewer, evaluation: Evaluation) -> bool:
    """Its team; once locked, its organisation and an ALB's parent department; admins."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.role == "admin":
        return True
    if not _acting_buyer(viewer):
        return False
    if is_member(viewer, evaluation):
        return True
    organisation = evaluation.organisation
    return evaluation.is_locked and viewer.organisation_id in (
        organisation.id,
        organisation.parent_id,
    )


def can_edit(viewer, evaluation: Evaluation) -> bool:
    """A member of its team (whether it is still live is checked by `editable`)."""
    return _acting_buyer(viewer) and is_member(viewer, evaluation)


def visible_evaluations(viewer) -> list[Evaluation]:
    query = db.select(Evaluation).order_by(Evaluation.updated_at.desc(), Evaluation.id.desc())
    if viewer.role != "admin":
        if not _acting_buyer(viewer):
            return []
        children = db.select(Organisation.id).where(
            Organisation.parent_id == viewer.organisation_id
        )
        teams = db.select(EvaluationMember.evaluation_id).where(
            EvaluationMember.user_id == viewer.id
        )
        query = query.where(
            or_(
                Evaluation.id.in_(teams) & (Evaluation.organisation_id == viewer.organisation_id),
                (Evaluation.status == "locked")
                & or_(
                    Evaluation.organisation_id == viewer.organisation_id,
                    Evaluation.organisation_id.in_(children),
                ),
            )
        )
    return list(db.session.execute(query).scalars())


def get_for_viewer(public_id: str, viewer) -> Evaluation:
    if getattr(viewer, "is_authenticated", False) and viewer.role == "buyer":
        # Waiting to join (or refused): the page that says so, whichever evaluation is asked.
        membership.require_member(viewer)
    evaluation = db.session.execute(
        db.select(Evaluation).where(Evaluation.public_id == public_id)
    ).scalar_one_or_none()
    # Someone who may not see it learns nothing, not even that it exists.
    if evaluation is None or not can_view(viewer, evaluation):
        raise NotFound("There is no evaluation at this address.")
    return evaluation


def editable(actor, evaluation: Evaluation) -> Evaluation:
    """Re-read under a row lock; refuse other organisations and locked evaluations."""
    if not can_edit(actor, evaluation):
        raise PermissionDenied("Only the evaluation's team can change it.")
    evaluation = locked_row(evaluation)
    if evaluation.is_locked:
        raise Conflict("This evaluation is locked; a locked evaluation cannot be changed.")
    return evaluation


def locked_row(evaluation: Evaluation) -> Evaluation:
    return db.session.execute(
        db.select(Evaluation)
        .where(Evaluation.id == evaluation.id)
        # OF: the joined-eager organisation and period are outer joins PostgreSQL cannot lock.
        .with_for_update(of=Evaluation)
        .execution_options(populate_existing=True)
    ).scalar_one()
