"""A draft evaluation's weights per criterion and the buyer's own scores per centre.

Part of the evaluation services (services.py re-exports set_weights): it takes the acting
user and plain data, flushes only, and leaves an audit event. The weights are checked all
at once, so the page can show every problem together, before anything is changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from marketplace import clock
from marketplace.audit import services as audit
from marketplace.errors import FieldError, ValidationFailed
from marketplace.extensions import db
from marketplace.selection.access import editable
from marketplace.selection.models import Evaluation, EvaluationCriterion, EvaluationScore


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
    scores: Mapping[str, Mapping[str, Decimal | None]],
    new_criterion: str = "",
) -> Evaluation:
    """Weights per criterion code, buyer scores per (criterion code, centre slug), and
    optionally a new buyer-scored criterion (weight 0 until given one)."""
    evaluation = editable(actor, evaluation)
    by_code = {c.code: c for c in evaluation.criteria}
    slugs = {c.centre.slug: c.centre_id for c in evaluation.candidates}
    new_criterion = (new_criterion or "").strip()
    _check_weights(by_code, slugs, weights, scores, new_criterion)
    for code, weight in weights.items():
        by_code[code].weight = weight
    _write_scores(evaluation, by_code, slugs, scores)
    if new_criterion:
        evaluation.criteria.append(
            EvaluationCriterion(
                kind="buyer",
                code=_slug_code(new_criterion, set(by_code)),
                name=new_criterion,
                weight=Decimal(0),
                position=len(evaluation.criteria),
            )
        )
    evaluation.updated_at = clock.now()
    db.session.flush()
    _record_weighted(actor, evaluation, weights, scores, new_criterion)
    return evaluation


def _check_weights(
    by_code: Mapping[str, EvaluationCriterion],
    slugs: Mapping[str, int],
    weights: Mapping[str, Decimal],
    scores: Mapping[str, Mapping[str, Decimal | None]],
    new_criterion: str,
) -> None:
    """Every problem with what was posted at once, then that some weight is above 0."""
    errors: list[FieldError] = []
    for code, weight in weights.items():
        if code not in by_code:
            errors.append(FieldError(f"'{code}' is not a criterion here.", f"weight-{code}"))
        elif weight is None or not weight.is_finite() or weight < 0 or weight > 1000:
            errors.append(
                FieldError(
                    f"Enter a weight from 0 to 1000 for {by_code[code].name}.", f"weight-{code}"
                )
            )
    for code, by_slug in scores.items():
        criterion = by_code.get(code)
        if criterion is None or criterion.kind != "buyer":
            errors.append(FieldError(f"'{code}' is not a criterion you score.", "scores"))
            continue
        for slug, score in by_slug.items():
            if slug not in slugs:
                errors.append(FieldError(f"'{slug}' is not on the shortlist.", "scores"))
            elif score is not None and (not score.is_finite() or not 0 <= score <= 100):
                errors.append(
                    FieldError(
                        f"Enter a score from 0 to 100 for {criterion.name}.",
                        f"score-{code}-{slug}",
                    )
                )
    if len(new_criterion) > 200:
        errors.append(FieldError("Keep the criterion name under 200 characters.", "new"))
    if errors:
        raise ValidationFailed("The weights and scores could not be saved.", errors=errors)
    total = sum(
        (weights.get(code, criterion.weight) for code, criterion in by_code.items()), Decimal(0)
    )
    if total <= 0:
        raise ValidationFailed(
            "The weights could not be saved.",
            errors=[FieldError("Give at least one criterion a weight above 0.", "weights")],
        )


def _write_scores(
    evaluation: Evaluation,
    by_code: Mapping[str, EvaluationCriterion],
    slugs: Mapping[str, int],
    scores: Mapping[str, Mapping[str, Decimal | None]],
) -> None:
    """Add, change or (for a blanked score) delete the buyer's scores."""
    existing = {
        (s.criterion_id, s.centre_id): s
        for s in db.session.execute(
            db.select(EvaluationScore).where(EvaluationScore.evaluation_id == evaluation.id)
        ).scalars()
    }
    for code, by_slug in scores.items():
        criterion = by_code[code]
        for slug, score in by_slug.items():
            key = (criterion.id, slugs[slug])
            if score is None:
                if key in existing:
                    db.session.delete(existing[key])
            elif key in existing:
                existing[key].score = score
            else:
                db.session.add(
                    EvaluationScore(
                        evaluation_id=evaluation.id,
                        criterion_id=criterion.id,
                        centre_id=slugs[slug],
                        score=score,
                    )
                )


def _record_weighted(actor, evaluation: Evaluation, weights, scores, new_criterion: str) -> None:
    audit.record(
        "evaluation.weighted",
        actor=actor,
        organisation_id=evaluation.organisation_id,
        object_type="evaluation",
        object_id=evaluation.public_id,
        detail={
            "weights": {code: str(w) for code, w in weights.items()},
            "scores": {
                code: {slug: None if s is None else str(s) for slug, s in by_slug.items()}
                for code, by_slug in scores.items()
            },
            "new_criterion": new_criterion or None,
        },
    )
