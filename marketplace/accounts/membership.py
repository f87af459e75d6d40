"""Joining an organisation: a self-registered buyer's request waits for approval.

THE rule for buyer-specific work is `User.acts_as_buyer` (accounts/models.py): a buyer whose
latest join request is pending or refused is not yet a member, and every door asks it:
`require_member` here (role_required on pages, token creation, the selection access
functions that the pages, the API and services share), and the read model of figures
(catalogue.access, benchmarks.visibility) treats such an account as the public.

Who decides: an approver of the organisation the request names (a buyer member with
is_approver) or an admin. Never anyone else, and never the requester. Each decision is audited
in its transaction and e-mailed to the requester through the outbox. Callers commit.
"""

from __future__ import annotations

from collections.abc import Callable

from marketplace import clock
from marketplace.accounts.models import JOIN_REASON_MAX, JoinRequest, Organisation, User
from marketplace.audit import services as audit
from marketplace.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from marketplace.extensions import db
from marketplace.mail import services as mail

AUTHORITY = "the accreditation authority"


class MembershipPending(PermissionDenied):
    """A buyer-specific door refused because the account is not yet (or not) a member."""

    title = "Your request to join is waiting for approval"

    def __init__(self, request: JoinRequest):
        organisation = request.organisation.name
        if request.status == "refused":
            self.heading = f"Your request to join {organisation} was refused"
            detail = (
                f"Your request to join {organisation} was refused: {request.reason} "
                "Your account cannot use buyer pages, evaluations, decision records or API "
                f"tokens. If you think this is wrong, contact {AUTHORITY}."
            )
        else:
            self.heading = self.title
            detail = (
                f"Your request to join {organisation} is waiting for approval by "
                f"{organisation}'s approvers or {AUTHORITY}. Until it is approved your "
                "account cannot use buyer pages, evaluations, decision records or API "
                "tokens. We will e-mail you when it is decided."
            )
        super().__init__(detail)
        self.join_request = request


def require_member(user: User) -> None:
    """Refuse a buyer who is not (yet) a member of their organisation; others pass."""
    waiting = user.join_request_waiting if user is not None else None
    if waiting is not None:
        raise MembershipPending(waiting)


def approvers_of(organisation: Organisation) -> list[User]:
    """The active approvers who are members of the organisation."""
    people = db.session.execute(
        db.select(User)
        .where(
            User.organisation_id == organisation.id,
            User.role == "buyer",
            User.is_approver.is_(True),
            User.active.is_(True),
        )
        .order_by(User.email)
    ).scalars()
    return [person for person in people if person.acts_as_buyer]


def ask_to_join(
    user: User,
    organisation: Organisation,
    *,
    domain: str | None = None,
    link: Callable[[str], str] | None = None,
):
    """A new pending request (the caller made the account for it). With `link` (the public
    id of the request -> the address of its decision page) the organisation's approvers are
    e-mailed that someone is waiting."""
    request = JoinRequest(user=user, organisation=organisation, status="pending")
    db.session.add(request)
    db.session.flush()
    if link is not None:
        for approver in approvers_of(organisation):
            if approver.id == user.id:
                continue
            mail.queue(
                approver.email,
                f"{user.name or user.email} asks to join {organisation.name}",
                "join_request_waiting",
                approver=approver,
                person=user,
                organisation=organisation.name,
                link=link(request.public_id),
            )
    audit.record(
        "join_request.created",
        actor=user,
        organisation_id=organisation.id,
        object_type="join_request",
        object_id=request.public_id,
        detail={"user": user.email, "organisation": organisation.slug, "domain": domain},
    )
    return request


def may_decide(approver, request: JoinRequest) -> bool:
    if approver is None or not getattr(approver, "is_authenticated", False):
        return False
    if approver.id == request.user_id:
        return False
    if approver.role == "admin":
        return True
    return (
        approver.is_approver
        and approver.acts_as_buyer
        and approver.organisation_id == request.organisation_id
    )


def is_approver(user) -> bool:
    """Someone who decides join requests: an admin, or an approver who is a member."""
    return user.role == "admin" or (user.is_approver and user.acts_as_buyer)


def pending_for(approver) -> list[JoinRequest]:
    """The waiting requests this person may decide, oldest first."""
    query = (
        db.select(JoinRequest)
        .where(JoinRequest.status == "pending")
        .order_by(JoinRequest.created_at, JoinRequest.id)
    )
    if approver.role != "admin":
        if not is_approver(approver):
            return []
        query = query.where(
            JoinRequest.organisation_id == approver.organisation_id,
            JoinRequest.user_id != approver.id,
        )
    return list(db.session.execute(query).scalars())


def get_for_approver(public_id: str, approver) -> JoinRequest:
    """Someone who may not decide it learns nothing, not even that it exists."""
    request = db.session.execute(
        db.select(JoinRequest).where(JoinRequest.public_id == public_id)
    ).scalar_one_or_none()
    if request is None or not may_decide(approver, request):
        raise NotFound("There is no join request at this address.")
    return request


def decide(request: JoinRequest, *, approver, approve: bool, reason: str = "") -> JoinRequest:
    """Approve or refuse (with a reason) a pending request, under a row lock."""
    if not may_decide(approver, request):
        raise PermissionDenied("Only the organisation's approvers or admins can decide this.")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationFailed(
            "Give the reason.",
            errors=[FieldError("Give the reason for refusing; the person will see it.", "reason")],
        )
    if len(reason) > JOIN_REASON_MAX:
        raise ValidationFailed(
            "The reason is too long.",
            errors=[FieldError(f"Enter {JOIN_REASON_MAX} characters or fewer.", "reason")],
        )
    request = db.session.execute(
        db.select(JoinRequest)
        .where(JoinRequest.id == request.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if request.status != "pending":
        raise Conflict(f"This request was already {request.status}.")
    request.status = "approved" if approve else "refused"
    request.reason = reason
    request.decided_by_id = approver.id
    request.decided_at = clock.now()
    db.session.flush()
    audit.record(
        f"join_request.{request.status}",
        actor=approver,
        organisation_id=request.organisation_id,
        object_type="join_request",
        object_id=request.public_id,
        detail={"user": request.user.email, "organisation": request.organisation.slug}
        | ({"reason": reason} if reason else {}),
    )
    mail.queue(
        request.user.email,
        f"Your request to join {request.organisation.name} was {request.status}",
        "join_request_decided",
        name=request.user.name,
        organisation=request.organisation.name,
        approved=approve,
        reason=reason,
        decided_at=request.decided_at,
    )
    return request


def set_approver(user: User, approver: bool, *, actor=None, actor_label: str | None = None):
    """Let a buyer decide requests to join its organisation (or stop them)."""
    if approver and user.role != "buyer":
        raise ValidationFailed(
            "Only buyers approve requests to join.",
            errors=[
                FieldError("Only a buyer can approve requests to join its organisation.", "form")
            ],
        )
    if user.is_approver == approver:
        raise Conflict(
            f"{user.email} {'is already' if approver else 'is not'} an approver; nothing changed."
        )
    user.is_approver = approver
    db.session.flush()
    audit.record(
        "user.approver_granted" if approver else "user.approver_removed",
        actor=actor,
        actor_label=actor_label,
        organisation_id=user.organisation_id,
        object_type="user",
        object_id=user.email,
    )
    return user
