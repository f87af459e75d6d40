"""A draft evaluation's criteria and weights: set them, seal them, and keep every change.

Part of the evaluation services (services.py re-exports these): they take the acting user
and plain data, flush only, and leave an audit event. Weights before scores: the buyer
settles the criteria and weights and seals them (`seal`); only then are the centres' results
shown (snapshots.results_shown). Every change of a weight, before sealing and after, is kept
in evaluation_weight_changes (who, when, old and new); a change after sealing needs a reason.
The weights are checked all at once, so the page can show every problem together, before
anything is changed. The buyer's scores are in scoring.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from marketplace import clock
from marketplace.audit import services as audit
from marketplace.errors import Conflict, FieldError, ValidationFailed
from marketplace.extensions import db
from marketplace.selection.access import editable
from marketplace.selection.models import (
    Evaluation,
    EvaluationCriterion,
    EvaluationWeightChange,
)
from marketplace.selection.schemas import weight_problems

MAX_REASON = 5000
REASON_NEEDED = "Give the reason for changing the criteria or weights after they were sealed."


def _slug_code(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:50] or "criterion"
    code, n = f"buyer_{base}", 2
    while code in taken:
        code, n = f"buyer_{base}_{n}", n + 1
    return code


def set_weights(
    actor,
    evaluation: Evaluation,
    weights: Mapping[str, Decimal],
    new_criterion: str = "",
    *,
    reason: str = "",
) -> Evaluation:
    """Weights per criterion code and optionally a new buyer-scored criterion (weight 0
    until given one). After sealing, any change needs `reason`."""
    evaluation = editable(actor, evaluation)
    by_code = {c.code: c for c in evaluation.criteria}
    new_criterion = (new_criterion or "").strip()
    reason = (reason or "").strip()
    _check_weights(by_code, weights, new_criterion)
    changes = [
        (code, by_code[code].name, by_code[code].weight, weight)
        for code, weight in weights.items()
        if by_code[code].weight != weight
    ]
    code = None
    if new_criterion:
        code = _slug_code(new_criterion, set(by_code))
        changes.append((code, new_criterion, None, Decimal(0)))
    check_reason(evaluation, changes, reason)
    for code_, weight in weights.items():
        by_code[code_].weight = weight
    if new_criterion:
        evaluation.criteria.append(
            EvaluationCriterion(
                kind="buyer",
                code=code,
                name=new_criterion,
                weight=Decimal(0),
                position=len(evaluation.criteria),
            )
        )
    evaluation.updated_at = clock.now()
    record_changes(actor, evaluation, changes, reason)
    db.session.flush()
    _record_weighted(actor, evaluation, weights, new_criterion, reason)
    return evaluation


def check_reason(evaluation: Evaluation, changes: Sequence, reason: str) -> None:
    """After sealing, a change of the criteria or weights needs a (bounded) reason."""
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            "The weights could not be saved.",
            errors=[FieldError("Keep the reason under 5,000 characters.", "reason")],
        )
    if changes and evaluation.is_sealed and not reason:
        raise ValidationFailed(
            "The weights are sealed; a change needs a reason.",
            errors=[FieldError(REASON_NEEDED, "reason")],
        )


def record_changes(actor, evaluation: Evaluation, changes: Sequence, reason: str) -> None:
    """One history row per (code, name, old weight, new weight) change."""
    now = clock.now()
    for code, name, old, new in changes:
        db.session.add(
            EvaluationWeightChange(
                evaluation_id=evaluation.id,
                changed_by_id=actor.id,
                changed_at=now,
                criterion_code=code,
                criterion_name=name,
                old_weight=old,
                new_weight=new,
                after_sealing=evaluation.is_sealed,
                reason=reason or None,
            )
        )


def seal(actor, evaluation: Evaluation) -> Evaluation:
    """Settle the criteria and weights: from now on the centres' results are shown, and any
    change of a weight needs a reason."""
    evaluation = editable(actor, evaluation)
    if evaluation.is_sealed:
        raise Conflict("The weights are sealed already; change them with a reason.")
    if sum((c.weight for c in evaluation.criteria), Decimal(0)) <= 0:
        raise ValidationFailed(
            "The weights could not be sealed.",
            errors=[FieldError("Give at least one criterion a weight above 0.", "weights")],
        )
    evaluation.weights_sealed_at = clock.now()
    evaluation.weights_sealed_by_id = actor.id
    evaluation.sealed_weights = {c.code: str(c.weight) for c in evaluation.criteria}
    db.session.flush()
    audit.record(
        "evaluation.weights_sealed",
        actor=actor,
        organisation_id=evaluation.organisation_id,
        object_type="evaluation",
        object_id=evaluation.public_id,
        detail={"weights": evaluation.sealed_weights},
    )
    return evaluation


def history(evaluation: Evaluation) -> list[EvaluationWeightChange]:
    """Every change of the evaluation's weights, oldest first."""
    return list(
        db.session.execute(
            db.select(EvaluationWeightChange)
            .where(EvaluationWeightChange.evaluation_id == evaluation.id)
            .order_by(EvaluationWeightChange.changed_at, EvaluationWeightChange.id)
        ).scalars()
    )


def _check_weights(
    by_code: Mapping[str, EvaluationCriterion],
    weights: Mapping[str, Decimal],
    new_criterion: str,
) -> None:
    """Every problem with what was posted at once, then that some weight is above 0."""
    errors = weight_problems({c: k.name for c, k in by_code.items()}, weights, new_criterion)
    if errors:
        raise ValidationFailed("The weights could not be saved.", errors=errors)
    total = sum(
        (weights.get(code, criterion.weight) for code, criterion in by_code.items()), Decimal(0)
    )
    if total <= 0:
        raise ValidationFailed(
            "The weights could not be saved.",
            errors=[FieldError("Give at least one criterion a weight above 0.", "weights")],
        )


def _record_weighted(actor, evaluation: Evaluation, weights, new_criterion: str, reason) -> None:
    audit.record(
        "evaluation.weighted",
        actor=actor,
        organisation_id=evaluation.organisation_id,
        object_type="evaluation",
        object_id=evaluation.public_id,
        detail={
            "weights": {code: str(w) for code, w in weights.items()},
            "new_criterion": new_criterion or None,
            "sealed": evaluation.is_sealed,
            "reason": reason or None,
        },
    )
