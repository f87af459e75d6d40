"""Restatements of published figures wait for the authority (DOMAIN.md, "Reporting periods").

A submission that changes a figure of a published period is accepted, but that figure is
held here as a PendingRestatement: the observation, the peer statistics and so every
published output keep the published figure. An admin approves or refuses each (with a
reason the centre sees, audited). Approving applies the values, as a new revision of each
observation carrying the centre's reason, recomputes the peer groups they are in, and sends
events.restatements_approved once for the whole approval, so publications republishes once
per period however many restatements it approves.

Wording: "restated" is kept for published figures; a change inside an open period is a
"correction".
"""

from __future__ import annotations

import secrets

from sqlalchemy import and_, delete, func, select

from marketplace import clock, events
from marketplace.audit import services as audit
from marketplace.benchmarks import bulk, peers
from marketplace.benchmarks.models import (
    RESTATEMENT_STATUSES,
    Observation,
    ObservationRevision,
    PendingRestatement,
    ReportingPeriod,
)
from marketplace.errors import Conflict, FieldError, NotFound, ValidationFailed
from marketplace.extensions import db

# The refusal's reason and the approval's note, on the page, in the API and on the CLI.
REASON_MAX_LENGTH = 2000
REFUSAL_MAX_LENGTH = REASON_MAX_LENGTH
DECISIONS = ("approve", "refuse")
STATUSES = RESTATEMENT_STATUSES


def hold(request, submission, pairs: set[tuple[int, int]]) -> list[PendingRestatement]:
    """Move the staged rows of `pairs` (metric id, period id) into pending restatements."""
    if not pairs:
        return []
    s, o = bulk.staging, bulk.o
    rows = (
        db.session.connection()
        .execute(
            select(
                o.c.id,
                s.c.metric_id,
                s.c.period_id,
                s.c.value,
                s.c.numerator,
                s.c.denominator,
                s.c.comment,
            ).select_from(
                s.join(
                    o,
                    and_(
                        o.c.centre_id == request.centre.id,
                        o.c.metric_id == s.c.metric_id,
                        o.c.period_id == s.c.period_id,
                    ),
                )
            )
        )
        .all()
    )
    held = []
    for observation_id, metric_id, period_id, value, numerator, denominator, comment in rows:
        if (metric_id, period_id) not in pairs:
            continue
        # A newer restatement of the same figure replaces one still waiting.
        db.session.execute(
            PendingRestatement.__table__.update()
            .where(
                PendingRestatement.observation_id == observation_id,
                PendingRestatement.status == "pending",
            )
            .values(status="superseded")
        )
        item = PendingRestatement(
            public_id=secrets.token_hex(8),
            observation_id=observation_id,
            submission_id=submission.id,
            value=value,
            numerator=numerator,
            denominator=denominator,
            comment=comment or "",
            reason=request.reason,
            actor_id=request.actor_id,
            actor_label=request.actor_label,
            status="pending",
            created_at=clock.now(),
        )
        db.session.add(item)
        held.append(item)
        db.session.connection().execute(
            delete(s).where(s.c.metric_id == metric_id, s.c.period_id == period_id)
        )
    db.session.flush()
    return held


def pending(*, centre_id: int | None = None) -> list[PendingRestatement]:
    query = (
        select(PendingRestatement)
        .join(Observation, Observation.id == PendingRestatement.observation_id)
        .where(PendingRestatement.status == "pending")
        .order_by(PendingRestatement.id)
    )
    if centre_id is not None:
        query = query.where(Observation.centre_id == centre_id)
    return list(db.session.scalars(query))


def listed(status: str = "pending", *, page: int = 1, per_page: int = 50):
    """(restatements with the status, oldest first, one page; how many there are)."""
    query = select(PendingRestatement).where(PendingRestatement.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.order_by(PendingRestatement.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(items), total


def decide(
    decision: str, public_ids: list[str], *, actor, reason: str = "", actor_label=None
) -> list[PendingRestatement]:
    """Approve or refuse, as the page, the API and the CLI all ask (RestatementDecisionSchema)."""
    if decision == "approve":
        return approve(public_ids, actor=actor, note=reason, actor_label=actor_label)
    if decision == "refuse":
        return refuse(public_ids, actor=actor, reason=reason, actor_label=actor_label)
    raise ValidationFailed(
        "Choose whether to approve or refuse.",
        errors=[FieldError("Choose whether to approve or refuse.", "decision")],
    )


def for_submission(submission_id: int) -> list[PendingRestatement]:
    return list(
        db.session.scalars(
            select(PendingRestatement)
            .where(PendingRestatement.submission_id == submission_id)
            .order_by(PendingRestatement.id)
        )
    )


def _chosen(public_ids: list[str]) -> list[PendingRestatement]:
    if not public_ids:
        raise ValidationFailed(
            "Nothing was chosen.",
            errors=[FieldError("Choose at least one restatement.", "restatements")],
        )
    items = list(
        db.session.scalars(
            select(PendingRestatement)
            .where(PendingRestatement.public_id.in_(public_ids))
            .with_for_update()
            .order_by(PendingRestatement.id)
        )
    )
    if len(items) != len(set(public_ids)):
        raise NotFound("One of the restatements chosen does not exist.")
    decided = [i for i in items if i.status != "pending"]
    if decided:
        raise Conflict(f"Restatement {decided[0].public_id} is {decided[0].status} already.")
    return items


def _audit(action: str, item: PendingRestatement, actor, detail: dict, actor_label=None) -> None:
    observation = item.observation
    audit.record(
        action,
        actor=actor,
        actor_label=actor_label,
        organisation_id=observation.centre.organisation_id,
        object_type="restatement",
        object_id=item.public_id,
        detail={
            "centre": observation.centre.slug,
            "metric": observation.metric.code,
            "period": observation.period.code,
            "published": str(observation.value),
            "restated": str(item.value),
            "reason": item.reason,
            **detail,
        },
    )


def approve(
    public_ids: list[str], *, actor, note: str = "", actor_label: str | None = None
) -> list[PendingRestatement]:
    """Apply the chosen restatements, then republish once per period (through the event)."""
    note = (note or "").strip()
    if len(note) > REASON_MAX_LENGTH:
        raise ValidationFailed(
            "The restatements could not be approved.",
            errors=[FieldError("The note must be 2,000 characters or fewer.", "reason")],
        )
    items = _chosen(public_ids)
    now = clock.now()
    pairs: set[tuple[int, int]] = set()
    for item in items:
        observation = item.observation
        _audit("restatement.approved", item, actor, {"note": note}, actor_label)
        db.session.add(
            ObservationRevision(
                observation_id=observation.id,
                revision=observation.revision,
                value=observation.value,
                numerator=observation.numerator,
                denominator=observation.denominator,
                comment=observation.comment,
                submission_id=observation.submission_id,
                superseded_by_submission_id=item.submission_id,
                superseded_at=now,
                reason=item.reason,
                actor_id=item.actor_id,
                actor_label=item.actor_label,
            )
        )
        observation.value = item.value
        observation.numerator = item.numerator
        observation.denominator = item.denominator
        observation.comment = item.comment
        observation.submission_id = item.submission_id
        observation.revision = observation.revision + 1
        observation.flag_status = "none"
        observation.flag_score = None
        item.status = "approved"
        item.decided_by_id = getattr(actor, "id", None)
        item.decided_at = now
        item.decision_reason = note
        pairs.add((observation.metric_id, observation.period_id))
    db.session.flush()
    peers.recompute(sorted(pairs))
    period_ids = sorted({period_id for _metric, period_id in pairs})
    events.restatements_approved.send(
        items,
        period_ids=period_ids,
        actor=actor,
        actor_label=actor_label or getattr(actor, "email", None),
    )
    return items


def refuse(
    public_ids: list[str], *, actor, reason: str, actor_label: str | None = None
) -> list[PendingRestatement]:
    """Keep the published figures; the centre sees the reason."""
    reason = (reason or "").strip()
    if not reason or len(reason) > REFUSAL_MAX_LENGTH:
        raise ValidationFailed(
            "The restatements could not be refused.",
            errors=[
                FieldError(
                    "Give the reason the centre will see (up to 2,000 characters).", "reason"
                )
            ],
        )
    items = _chosen(public_ids)
    now = clock.now()
    for item in items:
        item.status = "refused"
        item.decided_by_id = getattr(actor, "id", None)
        item.decided_at = now
        item.decision_reason = reason
        _audit("restatement.refused", item, actor, {"refusal": reason}, actor_label)
    db.session.flush()
    return items


def period_of(item: PendingRestatement) -> ReportingPeriod:
    return item.observation.period
