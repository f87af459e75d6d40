"""Who hears of a centre's alerts: the centre's own people first, then after the grace
period the buyers following it and the authority's administrators; never someone who muted
the centre, never an inactive account, and never a buyer still waiting to join (or refused:
`User.acts_as_buyer`).

A buyer follows a centre when they are on a live evaluation that shortlists it (its team,
its creator or the buyer who locked it: selection.teams.people), or when their organisation
holds a live contract with it (today within the contract's term): every buyer of that
organisation, each once."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, has_app_context
from sqlalchemy import select

from marketplace import clock
from marketplace.accounts.models import User
from marketplace.alerts.models import AlertMute
from marketplace.catalogue.models import ServiceCentre
from marketplace.contracts.models import Contract
from marketplace.extensions import db
from marketplace.selection import teams
from marketplace.selection.models import (
    Evaluation,
    EvaluationCandidate,
    EvaluationMember,
    EvaluationOutcome,
)
from marketplace.selection.receivers import live_evaluations_with

EXTENSION = "marketplace.alert_followers"

# followers(centre) -> the buyers an area above says follow the centre.
Followers = Callable[[ServiceCentre], list[User]]


def add_followers(app, name: str, followers: Followers) -> None:
    app.extensions.setdefault(EXTENSION, {})[name] = followers


def centre_people(centre: ServiceCentre) -> list[User]:
    return list(
        db.session.execute(
            select(User)
            .where(
                User.role == "centre",
                User.organisation_id == centre.organisation_id,
                User.active.is_(True),
            )
            .order_by(User.email)
        ).scalars()
    )


def evaluation_buyers(centre: ServiceCentre) -> list[User]:
    buyers: dict[int, User] = {}
    for evaluation in live_evaluations_with(centre.id):
        buyers.update((user.id, user) for user in teams.people(evaluation))
    return list(buyers.values())


def _live_contract_organisations(today):
    """A select() of the organisations holding a contract whose term includes today."""
    return select(Contract.organisation_id).where(
        Contract.starts_on <= today, Contract.ends_on >= today
    )


def contract_buyers(centre: ServiceCentre) -> list[User]:
    """Every buyer of an organisation holding a live contract with the centre."""
    holders = _live_contract_organisations(clock.today()).where(Contract.centre_id == centre.id)
    return list(
        db.session.execute(
            select(User)
            .where(User.role == "buyer", User.active.is_(True), User.organisation_id.in_(holders))
            .order_by(User.email)
        ).scalars()
    )


def _follows(user: User) -> bool:
    return user.active and (user.role != "buyer" or user.acts_as_buyer)


def followers(centre: ServiceCentre) -> list[User]:
    """Buyers following the centre, and the authority's administrators."""
    found: dict[int, User] = {user.id: user for user in evaluation_buyers(centre)}
    found.update((user.id, user) for user in contract_buyers(centre))
    if has_app_context():
        for source in current_app.extensions.get(EXTENSION, {}).values():
            found.update((user.id, user) for user in source(centre))
    admins = db.session.execute(
        select(User).where(User.role == "admin", User.active.is_(True))
    ).scalars()
    found.update((user.id, user) for user in admins)
    return sorted((u for u in found.values() if _follows(u)), key=lambda u: u.email)


def muted_by(centre: ServiceCentre) -> set[int]:
    return set(
        db.session.execute(
            select(AlertMute.user_id).where(AlertMute.centre_id == centre.id)
        ).scalars()
    )


def followed_centres(user: User) -> list[ServiceCentre]:
    """The centres whose alerts reach this person (before any mute)."""
    if user.role == "centre":
        return list(
            db.session.execute(
                select(ServiceCentre).where(ServiceCentre.organisation_id == user.organisation_id)
            ).scalars()
        )
    if user.role == "admin":
        return []  # every centre: admins mute one by one from its alerts

    if not _follows(user):
        return []
    decided = select(EvaluationOutcome.evaluation_id)
    shortlisted = (
        select(EvaluationCandidate.centre_id)
        .join(Evaluation, Evaluation.id == EvaluationCandidate.evaluation_id)
        .where(
            Evaluation.id.not_in(decided),
            # The same people as teams.people, asked the other way round.
            (Evaluation.created_by_id == user.id)
            | (Evaluation.locked_by_id == user.id)
            | Evaluation.id.in_(
                select(EvaluationMember.evaluation_id).where(EvaluationMember.user_id == user.id)
            ),
        )
    )
    contracted = select(Contract.centre_id).where(
        Contract.organisation_id == user.organisation_id,
        Contract.starts_on <= clock.today(),
        Contract.ends_on >= clock.today(),
    )
    centres = db.session.execute(
        select(ServiceCentre)
        .where(ServiceCentre.id.in_(shortlisted) | ServiceCentre.id.in_(contracted))
        .order_by(ServiceCentre.name)
    ).scalars()
    return list(centres)
