"""People, as the authority manages them: find, move to another role, deactivate.

Roles must fit the organisation (accounts.models.ROLE_ORG_KINDS), so changing a role
usually means moving the person to another organisation. Either ends their sessions at once
(their permissions changed under them), and their API tokens stop working because a token
acts only for the organisation it was made in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_

from marketplace.accounts import services as accounts
from marketplace.accounts.models import ROLE_ORG_KINDS, Organisation, User
from marketplace.audit import services as audit
from marketplace.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from marketplace.extensions import db


@dataclass(frozen=True)
class UserQuery:
    q: str | None = None
    role: str | None = None
    state: str | None = None  # 'active' or 'deactivated'


def find(query: UserQuery, *, limit: int = 200) -> list[User]:
    statement = db.select(User).join(User.organisation).order_by(User.email).limit(limit)
    if query.q:
        term = query.q.strip()
        statement = statement.where(
            or_(
                User.email.icontains(term, autoescape=True),
                User.name.icontains(term, autoescape=True),
                Organisation.name.icontains(term, autoescape=True),
                Organisation.slug == term,
            )
        )
    if query.role:
        statement = statement.where(User.role == query.role)
    if query.state == "active":
        statement = statement.where(User.active)
    elif query.state == "deactivated":
        statement = statement.where(~User.active)
    return list(db.session.execute(statement).scalars())


def get(public_id: str) -> User:
    user = db.session.execute(
        db.select(User).where(User.public_id == public_id)
    ).scalar_one_or_none()
    if user is None:
        raise NotFound("There is no such user.")
    return user


def _lock(user: User) -> User:
    return db.session.execute(
        db.select(User)
        .where(User.id == user.id)
        .with_for_update(of=User)
        .execution_options(populate_existing=True)
    ).scalar_one()


def _other_active_admins(user: User) -> int:
    return db.session.execute(
        db.select(func.count())
        .select_from(User)
        .where(User.role == "admin", User.active, User.id != user.id)
    ).scalar_one()


def _require_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            f"Give the reason to {what}.",
            errors=[FieldError(f"Give the reason to {what}.", "reason")],
        )
    return reason


def change_role(user: User, *, role: str, organisation: Organisation, actor, reason: str) -> User:
    reason = _require_reason(reason, "change this person's role")
    user = _lock(user)
    if role not in ROLE_ORG_KINDS:
        raise ValidationFailed(
            "Unknown role.", errors=[FieldError("Choose buyer, centre or admin.", "role")]
        )
    if organisation.kind not in ROLE_ORG_KINDS[role]:
        allowed = " or ".join(ROLE_ORG_KINDS[role])
        raise ValidationFailed(
            "The role does not fit the organisation.",
            errors=[
                FieldError(
                    f"A {role} account must belong to a {allowed} organisation; "
                    f"{organisation.name} is a {organisation.kind}.",
                    "role",
                )
            ],
        )
    if role == user.role and organisation.id == user.organisation_id:
        raise ValidationFailed(
            "Nothing would change.",
            errors=[FieldError("Choose a different role or organisation.", "role")],
        )
    if user.id == getattr(actor, "id", None):
        raise PermissionDenied("You cannot change your own role; ask another administrator.")
    if user.role == "admin" and role != "admin" and user.active and not _other_active_admins(user):
        raise Conflict("This is the last active administrator; make another one first.")
    before = {"role": user.role, "organisation": user.organisation.slug}
    user.role = role
    user.organisation = organisation
    # Approving joins is for one's own organisation: a move ends it (the DB checks buyers).
    user.is_approver = False
    user.session_version += 1
    db.session.flush()
    audit.record(
        "user.role_changed",
        actor=actor,
        organisation_id=organisation.id,
        object_type="user",
        object_id=user.email,
        detail={
            "before": before,
            "after": {"role": role, "organisation": organisation.slug},
            "reason": reason,
        },
    )
    return user


def deactivate(user: User, *, actor, reason: str) -> User:
    reason = _require_reason(reason, "deactivate this account")
    user = _lock(user)
    if not user.active:
        raise Conflict(f"{user.email} is already deactivated.")
    if user.id == getattr(actor, "id", None):
        raise PermissionDenied("You cannot deactivate your own account.")
    if user.role == "admin" and not _other_active_admins(user):
        raise Conflict("This is the last active administrator; make another one first.")
    accounts.set_active(user, False, actor=actor, reason=reason)
    return user


def reactivate(user: User, *, actor, reason: str) -> User:
    reason = _require_reason(reason, "reactivate this account")
    user = _lock(user)
    if user.active:
        raise Conflict(f"{user.email} is already active.")
    accounts.set_active(user, True, actor=actor, reason=reason)
    return user
