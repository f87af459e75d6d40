"""An evaluation's team: the buyer who started it and the colleagues it invites.

Team members invite a colleague of the same organisation (a buyer who is a member of it,
accounts.membership) and remove one, never the last. Only while the evaluation is live: a
locked one is read-only for everyone. Each change is audited in its transaction. Callers
commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketplace import clock
from marketplace.accounts.models import User
from marketplace.audit import services as audit
from marketplace.errors import Conflict, FieldError, ValidationFailed
from marketplace.extensions import db
from marketplace.selection.access import can_edit, editable
from marketplace.selection.models import Evaluation, EvaluationMember


def add_creator(evaluation: Evaluation, actor: User) -> EvaluationMember:
    """The buyer who starts an evaluation is its first member (services.create)."""
    member = EvaluationMember(
        evaluation_id=evaluation.id, user_id=actor.id, added_by_id=actor.id, added_at=clock.now()
    )
    db.session.add(member)
    db.session.flush()
    return member


def members(evaluation: Evaluation) -> list[EvaluationMember]:
    return list(
        db.session.execute(
            db.select(EvaluationMember)
            .where(EvaluationMember.evaluation_id == evaluation.id)
            .order_by(EvaluationMember.added_at, EvaluationMember.user_id)
        ).scalars()
    )


def people(evaluation: Evaluation) -> list[User]:
    """Everyone who hears about an evaluation's centres: its team, and whoever started or
    locked it (an evaluation made before teams existed may have no member rows). In e-mail
    order, each once. The standing-change e-mail (selection.receivers) and the alerts
    (alerts.recipients) both ask here, so the two cannot disagree on who follows a centre."""
    found = {member.user.id: member.user for member in members(evaluation)}
    for user in (evaluation.created_by, evaluation.locked_by):
        if user is not None:
            found[user.id] = user
    return sorted(found.values(), key=lambda user: user.email)


def colleagues_to_invite(evaluation: Evaluation) -> list[User]:
    """Active buyers of the organisation who are members of it and not yet on the team."""
    on_team = db.select(EvaluationMember.user_id).where(
        EvaluationMember.evaluation_id == evaluation.id
    )
    people = db.session.execute(
        db.select(User)
        .where(
            User.organisation_id == evaluation.organisation_id,
            User.role == "buyer",
            User.active.is_(True),
            User.id.not_in(on_team),
        )
        .order_by(User.name, User.email)
    ).scalars()
    return [person for person in people if person.acts_as_buyer]


@dataclass(frozen=True)
class TeamView:
    members: list[EvaluationMember]
    invitable: list[User]
    can_change: bool


def team_view(evaluation: Evaluation, viewer) -> TeamView:
    """What the evaluation page's team section shows this viewer."""
    change = can_edit(viewer, evaluation) and not evaluation.is_locked
    return TeamView(
        members=members(evaluation),
        invitable=colleagues_to_invite(evaluation) if change else [],
        can_change=change,
    )


def _person(public_id: str) -> User | None:
    return db.session.execute(
        db.select(User).where(User.public_id == (public_id or ""))
    ).scalar_one_or_none()


def invite(actor, evaluation: Evaluation, person_id: str) -> EvaluationMember:
    """Add a colleague (by their public id) to the team of a live evaluation."""
    evaluation = editable(actor, evaluation)
    person = _person(person_id)
    if person is None or person.id not in {p.id for p in colleagues_to_invite(evaluation)}:
        raise ValidationFailed(
            "Choose a colleague to invite.",
            errors=[
                FieldError(
                    "Choose a buyer of your organisation who is not on the team yet.", "member"
                )
            ],
        )
    member = EvaluationMember(
        evaluation_id=evaluation.id, user_id=person.id, added_by_id=actor.id, added_at=clock.now()
    )
    db.session.add(member)
    db.session.flush()
    audit.record(
        "evaluation.member_added",
        actor=actor,
        organisation_id=evaluation.organisation_id,
        object_type="evaluation",
        object_id=evaluation.public_id,
        detail={"member": person.email},
    )
    return member


def remove(actor, evaluation: Evaluation, person_id: str) -> User:
    """Take someone off the team of a live evaluation; the last member stays."""
    evaluation = editable(actor, evaluation)  # locks the evaluation row: one change at a time
    team = members(evaluation)
    member = next((m for m in team if m.user.public_id == person_id), None)
    if member is None:
        raise ValidationFailed(
            "That person is not on the team.",
            errors=[FieldError("Choose someone on the team.", "member")],
        )
    if len(team) == 1:
        raise Conflict(
            "The last member of the team cannot be removed: an evaluation always has a team."
        )
    person = member.user
    db.session.delete(member)
    db.session.flush()
    audit.record(
        "evaluation.member_removed",
        actor=actor,
        organisation_id=evaluation.organisation_id,
        object_type="evaluation",
        object_id=evaluation.public_id,
        detail={"member": person.email},
    )
    return person
