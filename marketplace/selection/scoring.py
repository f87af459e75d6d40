"""The buyer's scores: each with its rationale, or "not scored" with a reason; and the rule
that every weighted criterion is scored for every shortlisted centre before locking.

Part of the evaluation services (services.py re-exports these). Scoring comes after the
weights are sealed (weighting.seal), since it needs the centres' figures: a metric criterion
is scored from the figures (the centre's percentile in its peer group), and only where a
centre has no figure that can be scored (none sent, or a peer group too small to rank) does
the buyer score it; buyer-scored criteria (social value, quoted price, the buyer's own) are
scored by the buyer for every centre. A score needs its rationale, the evidence for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from marketplace.audit import services as audit
from marketplace.errors import Conflict, FieldError, ValidationFailed
from marketplace.extensions import db
from marketplace.selection import snapshots
from marketplace.selection.access import editable
from marketplace.selection.models import Evaluation, EvaluationScore

MAX_TEXT = 5000
SEAL_FIRST = "Seal the weights before scoring: the centres' results appear once they are sealed."


@dataclass(frozen=True)
class ScoreEntry:
    """What the buyer gave for one (criterion, centre): a score with its rationale, "not
    scored" with its reason, or nothing (which clears an earlier entry)."""

    score: Decimal | None = None
    rationale: str = ""
    not_scored: bool = False
    reason: str = ""


def field(prefix: str, code: str, slug: str) -> str:
    """The form field of one entry, also the key its errors are reported under."""
    return f"{prefix}:{code}:{slug}"


def set_scores(
    actor, evaluation: Evaluation, entries: Mapping[tuple[str, str], ScoreEntry]
) -> Evaluation:
    """Entries by (criterion code, centre slug), all checked before anything is written."""
    evaluation = editable(actor, evaluation)
    if not evaluation.is_sealed:
        raise Conflict(SEAL_FIRST)
    view = snapshots.evaluate(evaluation)
    by_code = {c.code: c for c in evaluation.criteria}
    centres = {c.centre.slug: c.centre for c in evaluation.candidates}
    errors: list[FieldError] = []
    rows: dict[tuple[int, int], ScoreEntry | None] = {}
    for (code, slug), entry in entries.items():
        criterion, centre = by_code.get(code), centres.get(slug)
        if criterion is None or centre is None:
            errors.append(FieldError(f"'{code}' for '{slug}' is not in this evaluation.", "scores"))
            continue
        cell = view["cells"][code][slug]
        if criterion.kind == "metric" and cell["percentile"] is not None:
            if _given(entry):
                errors.append(
                    FieldError(
                        f"{criterion.name} is scored from {centre.name}'s figure; "
                        "there is nothing to enter.",
                        field("score", code, slug),
                    )
                )
            continue
        problem = _problem(entry, criterion.name, centre.name, code, slug)
        if problem is not None:
            errors.append(problem)
        rows[criterion.id, centre.id] = entry if _given(entry) else None
    if errors:
        raise ValidationFailed("The scores could not be saved.", errors=errors)
    _write(evaluation, rows)
    db.session.flush()
    audit.record(
        "evaluation.scored",
        actor=actor,
        organisation_id=evaluation.organisation_id,
        object_type="evaluation",
        object_id=evaluation.public_id,
        detail={
            f"{code}:{slug}": None
            if not _given(entry)
            else (
                {"not_scored": entry.reason.strip()}
                if entry.not_scored
                else {"score": str(entry.score), "rationale": entry.rationale.strip()}
            )
            for (code, slug), entry in entries.items()
        },
    )
    return evaluation


def _given(entry: ScoreEntry) -> bool:
    return (
        entry.score is not None
        or entry.not_scored
        or bool(entry.rationale.strip())
        or bool(entry.reason.strip())
    )


def _problem(entry: ScoreEntry, criterion: str, centre: str, code: str, slug: str):
    """What is wrong with one entry, if anything (an empty entry is fine: it clears)."""
    rationale, reason = entry.rationale.strip(), entry.reason.strip()
    if len(rationale) > MAX_TEXT or len(reason) > MAX_TEXT:
        return FieldError(
            "Keep the rationale and the reason under 5,000 characters.",
            field("rationale", code, slug),
        )
    if entry.not_scored:
        if entry.score is not None or rationale:
            return FieldError(
                f"Either score {centre} on {criterion} or mark it not scored, not both.",
                field("score", code, slug),
            )
        if not reason:
            return FieldError(
                f"Give the reason {centre} is not scored on {criterion}.",
                field("reason", code, slug),
            )
        return None
    if reason:
        return FieldError(
            f'Tick "not scored" for {centre} on {criterion} if that is the reason, or clear it.',
            field("not_scored", code, slug),
        )
    if entry.score is None:
        if rationale:
            return FieldError(
                f"Enter the score for {centre} on {criterion} that the rationale explains.",
                field("score", code, slug),
            )
        return None
    if not entry.score.is_finite() or not 0 <= entry.score <= 100:
        return FieldError(
            f"Enter a score from 0 to 100 for {centre} on {criterion}.", field("score", code, slug)
        )
    if not rationale:
        return FieldError(
            f"Give the rationale (the evidence) for the {criterion} score of {centre}.",
            field("rationale", code, slug),
        )
    return None


def _write(evaluation: Evaluation, rows: Mapping[tuple[int, int], ScoreEntry | None]) -> None:
    existing = {
        (s.criterion_id, s.centre_id): s
        for s in db.session.execute(
            db.select(EvaluationScore).where(EvaluationScore.evaluation_id == evaluation.id)
        ).scalars()
    }
    for (criterion_id, centre_id), entry in rows.items():
        row = existing.get((criterion_id, centre_id))
        if entry is None:
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            row = EvaluationScore(
                evaluation_id=evaluation.id, criterion_id=criterion_id, centre_id=centre_id
            )
            db.session.add(row)
        if entry.not_scored:
            row.score, row.rationale, row.not_scored_reason = None, None, entry.reason.strip()
        else:
            row.score, row.rationale, row.not_scored_reason = (
                entry.score,
                entry.rationale.strip(),
                None,
            )


def unscored(view: dict) -> list[FieldError]:
    """Each (criterion with weight > 0, shortlisted centre) with neither a score (from the
    figures or the buyer's, with rationale) nor "not scored" with a reason, by name."""
    problems = []
    for criterion in view["criteria"]:
        if criterion["weight"] <= 0:
            continue
        for candidate in view["candidates"]:
            cell = view["cells"][criterion["code"]][candidate["slug"]]
            if criterion["kind"] == "metric" and cell["percentile"] is not None:
                continue
            if cell.get("score") is not None or cell.get("not_scored_reason"):
                continue
            why = (
                "has no figure that can be scored; score it with your rationale"
                if criterion["kind"] == "metric"
                else "is not scored yet; score it with your rationale"
            )
            problems.append(
                FieldError(
                    f"{criterion['name']}: {candidate['name']} {why}, or mark it not scored "
                    "with a reason.",
                    "scores",
                )
            )
    return problems
