"""The accreditation lifecycle (DOMAIN.md): allowed transitions only, every step recorded.

applied -> accredited (valid_from, valid_until) <-> suspended -> withdrawn
accredited whose valid_until has passed reads as 'expired' (derived, never stored)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func

from marketplace import clock, events, formatting
from marketplace.audit import services as audit
from marketplace.catalogue.models import AccreditationEvent, ServiceCentre
from marketplace.errors import (
    Conflict,
    FieldError,
    IllegalTransition,
    NotFound,
    ValidationFailed,
)
from marketplace.extensions import db


@dataclass(frozen=True)
class Transition:
    action: str
    from_statuses: tuple[str, ...]  # as seen today, so 'expired' is a status here
    to_status: str
    needs_reason: bool
    verb: str


TRANSITIONS = {
    t.action: t
    for t in (
        Transition("accredit", ("applied",), "accredited", False, "accredit"),
        Transition("suspend", ("accredited",), "suspended", True, "suspend"),
        Transition("reinstate", ("suspended",), "accredited", True, "reinstate"),
        Transition(
            "withdraw", ("accredited", "expired", "suspended"), "withdrawn", True, "withdraw"
        ),
        Transition("renew", ("accredited", "expired"), "accredited", False, "renew"),
    )
}
ACTIONS = tuple(TRANSITIONS)
# The reason of a change, whichever door it comes through (admin page, API, CLI).
REASON_MAX_LENGTH = 5000
REASON_TOO_LONG = f"Keep the reason to {REASON_MAX_LENGTH:,} characters or fewer."


def allowed_actions(centre: ServiceCentre, day: date | None = None) -> list[str]:
    status = centre.status_on(day)
    return [t.action for t in TRANSITIONS.values() if status in t.from_statuses]


def _lock(centre: ServiceCentre) -> ServiceCentre:
    """Re-read the centre under a row lock so two admins cannot interleave changes."""
    locked = db.session.execute(
        db.select(ServiceCentre)
        .where(ServiceCentre.id == centre.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if locked is None:
        raise NotFound("That service centre no longer exists.")
    return locked


def record_application(
    centre: ServiceCentre,
    *,
    actor=None,
    actor_label: str | None = None,
    effective_on: date | None = None,
    reason: str = "",
) -> AccreditationEvent:
    """The first step of every centre's history."""
    event = AccreditationEvent(
        centre=centre,
        action="apply",
        from_status=None,
        to_status="applied",
        effective_on=effective_on or clock.today(),
        reason=reason,
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label or getattr(actor, "email", None) or audit.SYSTEM,
    )
    centre.accreditation_status = "applied"
    db.session.add(event)
    db.session.flush()
    audit.record(
        "accreditation.apply",
        actor=actor,
        actor_label=actor_label,
        organisation_id=centre.organisation_id,
        object_type="centre",
        object_id=centre.slug,
        detail={"to": "applied", "reason": reason},
    )
    return event


def change(
    centre: ServiceCentre,
    action: str,
    *,
    actor=None,
    actor_label: str | None = None,
    reason: str = "",
    valid_from: date | None = None,
    valid_until: date | None = None,
    effective_on: date | None = None,
) -> AccreditationEvent:
    """Apply one lifecycle action, or refuse it with a message that says why."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValidationFailed(
            f"'{action}' is not an accreditation action.",
            errors=[FieldError(f"Choose one of: {', '.join(ACTIONS)}.", field="action")],
        )
    centre = _lock(centre)
    day = effective_on or clock.today()
    current = centre.status_on(day)
    if current not in transition.from_statuses:
        allowed = allowed_actions(centre, day)
        hint = f" You can: {', '.join(allowed)}." if allowed else " No change is possible."
        raise IllegalTransition(f"{centre.name} is {current}; it cannot be {_past(action)}.{hint}")
    _refuse_a_renewal_that_does_not_extend(centre, action, valid_until)
    reason = (reason or "").strip()
    errors: list[FieldError] = []
    if transition.needs_reason and not reason:
        errors.append(FieldError(f"Give the reason to {transition.verb} this centre.", "reason"))
    elif len(reason) > REASON_MAX_LENGTH:
        errors.append(FieldError(REASON_TOO_LONG, "reason"))
    new_from, new_until = _validity(centre, action, day, valid_from, valid_until, errors)
    if errors:
        raise ValidationFailed(f"{centre.name} could not be {_past(action)}.", errors=errors)
    event = _record(
        centre, action, transition, current, day, new_from, new_until, reason, actor, actor_label
    )
    # Who counts as a peer depends on who was accredited on a period's last day, so the
    # benchmarks area redraws the groups this change alters (see benchmarks/receivers.py).
    events.accreditation_changed.send(event)
    return event


def _refuse_a_renewal_that_does_not_extend(centre, action, valid_until) -> None:
    """409, not 422: the date is wrong only against the validity the centre has now."""
    current_until = centre.accredited_until
    if action != "renew" or valid_until is None or current_until is None:
        return
    if valid_until <= current_until:
        until = formatting.date_text(current_until)
        message = f"A renewal must extend validity beyond {until}."
        raise Conflict(
            f"{centre.name} is accredited until {until}. {message}",
            errors=[FieldError(message, "valid_until")],
        )


def _validity(centre, action, day, valid_from, valid_until, errors) -> tuple:
    """The validity dates after `action`, adding to `errors` what is wrong with them."""
    new_from, new_until = centre.accredited_from, centre.accredited_until
    if action == "accredit":
        new_from = valid_from or day
        new_until = valid_until
        if new_until is None:
            errors.append(
                FieldError("Enter the date the accreditation is valid until.", "valid_until")
            )
    elif action == "renew":
        new_until = valid_until
        if new_until is None:
            errors.append(
                FieldError("Enter the new date the accreditation is valid until.", "valid_until")
            )
    if new_from is not None and new_until is not None and new_until < new_from:
        errors.append(FieldError("'Valid until' must be on or after 'valid from'.", "valid_until"))
    if action in ("accredit", "renew") and new_until is not None and new_until < day:
        errors.append(FieldError("'Valid until' must not be in the past.", "valid_until"))
    return new_from, new_until


def _record(
    centre, action, transition, current, day, new_from, new_until, reason, actor, actor_label
) -> AccreditationEvent:
    """The lifecycle event, the centre's new standing, and the audit event, together."""
    event = AccreditationEvent(
        centre=centre,
        action=action,
        from_status=current,
        to_status=transition.to_status,
        valid_from=new_from,
        valid_until=new_until,
        effective_on=day,
        reason=reason,
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label or getattr(actor, "email", None) or audit.SYSTEM,
    )
    centre.accreditation_status = transition.to_status
    centre.accredited_from, centre.accredited_until = new_from, new_until
    db.session.add(event)
    db.session.flush()
    audit.record(
        f"accreditation.{action}",
        actor=actor,
        actor_label=actor_label,
        organisation_id=centre.organisation_id,
        object_type="centre",
        object_id=centre.slug,
        detail={
            "from": current,
            "to": transition.to_status,
            "reason": reason,
            "valid_from": new_from,
            "valid_until": new_until,
            "effective_on": day,
        },
    )
    return event


def _past(action: str) -> str:
    return {
        "accredit": "accredited",
        "suspend": "suspended",
        "reinstate": "reinstated",
        "withdraw": "withdrawn",
        "renew": "renewed",
    }.get(action, action)


def accredited_centre_ids_on(day: date):
    """A select of centre ids accredited on a day, judged from the history as it stood then."""
    latest = (
        db.select(AccreditationEvent.centre_id, func.max(AccreditationEvent.id).label("event_id"))
        .where(AccreditationEvent.effective_on <= day)
        .group_by(AccreditationEvent.centre_id)
        .subquery()
    )
    return (
        db.select(AccreditationEvent.centre_id)
        .join(latest, and_(latest.c.event_id == AccreditationEvent.id))
        .where(
            AccreditationEvent.to_status == "accredited",
            AccreditationEvent.valid_from <= day,
            AccreditationEvent.valid_until >= day,
        )
    )
