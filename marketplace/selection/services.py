"""Buyers' evaluations: create, change, score, lock and record the outcome.

Services take the acting user and plain data, flush only, and leave an audit event with every
change. A locked evaluation and its outcome are never changed: every write checks the status
under a row lock, and the database ties an award to the locked shortlist (see models.py).
What a buyer sees is worked out by `evaluate` (snapshots.py); locking (decisions.py)
stores exactly that, and a locked evaluation is only ever shown from the stored snapshot
(`results_for` decides which). Access rules are in access.py, weights (their sealing and
the history of their changes) in weighting.py, the buyer's scores in scoring.py; the
functions of those modules are available from here too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlalchemy import delete

from marketplace import clock
from marketplace.accounts import membership
from marketplace.audit import services as audit
from marketplace.benchmarks.models import Metric, ReportingPeriod
from marketplace.catalogue.models import ServiceCentre, ServiceLine
from marketplace.errors import FieldError, PermissionDenied, ValidationFailed
from marketplace.extensions import db
from marketplace.selection import teams
from marketplace.selection.access import (  # noqa: F401 - part of this module's interface
    can_edit,
    can_view,
    editable,
    get_for_viewer,
    visible_evaluations,
)
from marketplace.selection.decisions import (  # noqa: F401 - part of this module's interface
    fingerprint,
    lock,
    outcome_problems,
    record_outcome,
    standing_changes,
    standings,
)
from marketplace.selection.models import (
    MAX_CANDIDATES,
    MIN_CANDIDATES,
    Evaluation,
    EvaluationCandidate,
    EvaluationCriterion,
    EvaluationScore,
)
from marketplace.selection.scoring import (  # noqa: F401 - part of this module's interface
    SEAL_FIRST,
    ScoreEntry,
    set_scores,
    unscored,
)
from marketplace.selection.snapshots import (  # noqa: F401 - part of this module's interface
    evaluate,
    results_for,
    results_shown,
)
from marketplace.selection.weighting import (  # noqa: F401 - part of this module's interface
    check_reason,
    history,
    record_changes,
    seal,
    set_weights,
)

# Buyer-scored criteria every evaluation starts with (code, name, is social value).
DEFAULT_BUYER_CRITERIA = (
    ("social_value", "Social value", True),
    ("quoted_price", "Quoted price", False),
)


# --- choosing what to evaluate -----------------------------------------------------------------


def accredited_centres(service_lines: Sequence[str] = ()) -> list[ServiceCentre]:
    """Centres that can be chosen today (accredited and not lapsed), by name."""
    today = clock.today()
    query = (
        db.select(ServiceCentre)
        .where(
            ServiceCentre.accreditation_status == "accredited",
            ServiceCentre.accredited_until >= today,
        )
        .order_by(ServiceCentre.name)
    )
    if service_lines:
        query = query.where(ServiceCentre.service_lines.any(ServiceLine.code.in_(service_lines)))
    return list(db.session.execute(query).scalars())


def _resolve(
    period_code: str, line_codes: Sequence[str], slugs: Sequence[str]
) -> tuple[ReportingPeriod | None, list[ServiceLine], list[ServiceCentre], list[FieldError]]:
    errors: list[FieldError] = []
    period = db.session.execute(
        db.select(ReportingPeriod).where(ReportingPeriod.code == period_code)
    ).scalar_one_or_none()
    if period is None:
        errors.append(FieldError("Choose the period whose figures you will evaluate.", "period"))
    lines = list(
        db.session.execute(
            db.select(ServiceLine)
            .where(ServiceLine.code.in_(list(line_codes)))
            .order_by(ServiceLine.position)
        ).scalars()
    )
    if not lines or len(lines) != len(set(line_codes)):
        errors.append(FieldError("Choose the service lines you need.", "service_lines"))
    chosen = {c.slug: c for c in accredited_centres() if c.slug in set(slugs)}
    missing = [slug for slug in slugs if slug not in chosen]
    if missing:
        errors.append(
            FieldError(
                "Only centres accredited today can be shortlisted: "
                + ", ".join(missing)
                + " cannot.",
                "centres",
            )
        )
    elif not MIN_CANDIDATES <= len(slugs) <= MAX_CANDIDATES:
        errors.append(
            FieldError(
                f"Shortlist {MIN_CANDIDATES} to {MAX_CANDIDATES} centres; "
                f"{len(slugs)} were chosen.",
                "centres",
            )
        )
    return period, lines, [chosen[s] for s in slugs if s in chosen], errors


def _metrics_for(lines: Sequence[ServiceLine]) -> list[Metric]:
    return list(
        db.session.execute(
            db.select(Metric)
            .join(Metric.service_line)
            .where(
                Metric.is_current.is_(True),
                Metric.status == "active",
                Metric.service_line_id.in_([line.id for line in lines]),
            )
            .order_by(ServiceLine.position, Metric.position, Metric.code)
        ).scalars()
    )


def _details(data: Mapping) -> tuple[str, str]:
    title = (data.get("title") or "").strip()
    needs = (data.get("needs") or "").strip()
    return title, needs


def create(actor, data: Mapping) -> Evaluation:
    """A draft evaluation; data: title, needs, period, service_lines, centres (slugs)."""
    if getattr(actor, "role", None) != "buyer":
        raise PermissionDenied("Only buyers can start an evaluation.")
    membership.require_member(actor)
    title, needs = _details(data)
    period, lines, centres, errors = _resolve(
        data.get("period") or "", data.get("service_lines") or [], data.get("centres") or []
    )
    if not title:
        errors.insert(0, FieldError("Give the evaluation a title.", "title"))
    if errors:
        raise ValidationFailed("The evaluation could not be started.", errors=errors)
    evaluation = Evaluation(
        organisation_id=actor.organisation_id,
        created_by_id=actor.id,
        title=title,
        needs=needs,
        period_id=period.id,
    )
    evaluation.service_lines = lines
    evaluation.candidates = [
        EvaluationCandidate(centre_id=c.id, position=i) for i, c in enumerate(centres)
    ]
    metrics = _metrics_for(lines)
    criteria = [
        EvaluationCriterion(
            kind="metric",
            metric_id=m.id,
            code=m.code,
            name=m.name,
            weight=Decimal(1),
            position=i,
        )
        for i, m in enumerate(metrics)
    ]
    # Social value starts at the 10% PPN 06/20 asks for: 1/9 of the metrics' weight.
    social_weight = Decimal(max(1, math.ceil(len(metrics) / 9)))
    for offset, (code, name, social) in enumerate(DEFAULT_BUYER_CRITERIA):
        criteria.append(
            EvaluationCriterion(
                kind="buyer",
                code=code,
                name=name,
                weight=social_weight if social else Decimal(0),
                is_social_value=social,
                position=len(metrics) + offset,
            )
        )
    evaluation.criteria = criteria
    db.session.add(evaluation)
    db.session.flush()
    teams.add_creator(evaluation, actor)
    audit.record(
        "evaluation.created",
        actor=actor,
        organisation_id=evaluation.organisation_id,
        object_type="evaluation",
        object_id=evaluation.public_id,
        detail={
            "title": title,
            "period": period.code,
            "service_lines": [line.code for line in lines],
            "centres": [c.slug for c in centres],
        },
    )
    return evaluation


def update_details(actor, evaluation: Evaluation, data: Mapping) -> Evaluation:
    """Change title, needs, period, service lines and shortlist of a draft."""
    evaluation = editable(actor, evaluation)
    title, needs = _details(data)
    period, lines, centres, errors = _resolve(
        data.get("period") or "", data.get("service_lines") or [], data.get("centres") or []
    )
    if not title:
        errors.insert(0, FieldError("Give the evaluation a title.", "title"))
    if errors:
        raise ValidationFailed("The evaluation could not be changed.", errors=errors)
    # Metric criteria follow the service lines; weights of metrics kept are kept. After
    # sealing, a change of the criteria needs a reason; every change is kept.
    metrics = _metrics_for(lines)
    keep = {m.id for m in metrics}
    existing = {c.metric_id: c for c in evaluation.criteria if c.kind == "metric"}
    changes = [
        (c.code, c.name, c.weight, None)
        for c in evaluation.criteria
        if c.kind == "metric" and c.metric_id not in keep
    ] + [(m.code, m.name, None, Decimal(1)) for m in metrics if m.id not in existing]
    reason = (data.get("reason") or "").strip()
    check_reason(evaluation, changes, reason)
    evaluation.title, evaluation.needs, evaluation.period_id = title, needs, period.id
    evaluation.service_lines = lines
    # Candidates: keep those still chosen (with their scores), drop the rest, add new ones.
    wanted = {c.id: i for i, c in enumerate(centres)}
    for candidate in list(evaluation.candidates):
        if candidate.centre_id not in wanted:
            db.session.execute(
                delete(EvaluationScore).where(
                    EvaluationScore.evaluation_id == evaluation.id,
                    EvaluationScore.centre_id == candidate.centre_id,
                )
            )
            evaluation.candidates.remove(candidate)
    present = {c.centre_id: c for c in evaluation.candidates}
    for centre_id, position in wanted.items():
        if centre_id in present:
            present[centre_id].position = position
        else:
            evaluation.candidates.append(
                EvaluationCandidate(centre_id=centre_id, position=position)
            )
    for criterion in list(evaluation.criteria):
        if criterion.kind == "metric" and criterion.metric_id not in keep:
            evaluation.criteria.remove(criterion)
    buyer = [c for c in evaluation.criteria if c.kind == "buyer"]
    ordered = []
    for m in metrics:
        criterion = existing.get(m.id) or EvaluationCriterion(
            kind="metric", metric_id=m.id, code=m.code, name=m.name, weight=Decimal(1)
        )
        if criterion not in evaluation.criteria:
            evaluation.criteria.append(criterion)
        ordered.append(criterion)
    for position, criterion in enumerate([*ordered, *buyer]):
        criterion.position = position
    record_changes(actor, evaluation, changes, reason)
    db.session.flush()
    audit.record(
        "evaluation.updated",
        actor=actor,
        organisation_id=evaluation.organisation_id,
        object_type="evaluation",
        object_id=evaluation.public_id,
        detail={
            "title": title,
            "period": period.code,
            "service_lines": [line.code for line in lines],
            "centres": [c.slug for c in centres],
            "criteria_changed": [code for code, *_rest in changes],
            "reason": reason or None,
        },
    )
    return evaluation
