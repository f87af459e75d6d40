"""Who may see and change an evaluation, and reading one under a row lock.

Visible to its own organisation, to the parent department of an ALB's evaluation, and to
admins; changed only by buyers of its own organisation. Everyone else (centres, other
buyers) is told nothing, not even that it exists.
"""

from __future__ import annotations

from sqlalchemy import or_

from marketplace.accounts.models import Organisation
from marketplace.errors import Conflict, NotFound, PermissionDenied
from marketplace.extensions import db
from marketplace.selection.models import Evaluation


def can_view(viewer, evaluation: Evaluation) -> bool:
    """Its own organisation, the parent department of an ALB's evaluation, and admins."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.role == "admin":
        return True
    if viewer.role != "buyer":
        return False
    organisation = evaluation.organisation
    return viewer.organisation_id in (organisation.id, organisation.parent_id)


def can_edit(viewer, evaluation: Evaluation) -> bool:
    return (
        viewer is not None
        and getattr(viewer, "role", None) == "buyer"
        and viewer.organisation_id == evaluation.organisation_id
    )


def visible_evaluations(viewer) -> list[Evaluation]:
    query = db.select(Evaluation).order_by(Evaluation.updated_at.desc(), Evaluation.id.desc())
    if viewer.role != "admin":
        children = db.select(Organisation.id).where(
            Organisation.parent_id == viewer.organisation_id
        )
        query = query.where(
            or_(
                Evaluation.organisation_id == viewer.organisation_id,
                Evaluation.organisation_id.in_(children),
            )
        )
    return list(db.session.execute(query).scalars())


def get_for_viewer(public_id: str, viewer) -> Evaluation:
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
        raise PermissionDenied("Only buyers of the organisation that owns it can change it.")
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
