"""Locking an evaluation's shortlist and recording its outcome: both final.

Locking stores what `evaluate` (snapshots.py) shows the buyer as the snapshot; the
confirmation page carries a fingerprint of what it showed, and locking is refused if the
figures have changed since, so the snapshot is exactly what the buyer looked at. The outcome
is written once; the database ties an award to the locked shortlist (models.py) and, on
PostgreSQL, refuses any later change (migration 0003). An award also makes the contract
(marketplace/contracts), with its KPIs, in the same transaction.
"""

from __future__ import annotations

import hashlib
import json

from marketplace import clock
from marketplace.audit import services as audit
from marketplace.contracts import services as contracts
from marketplace.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from marketplace.extensions import db
from marketplace.selection import scoring, snapshots
from marketplace.selection.access import can_edit, editable, locked_row
from marketplace.selection.models import (
    MAX_CANDIDATES,
    MIN_CANDIDATES,
    OUTCOME_KINDS,
    Evaluation,
    EvaluationOutcome,
)
from marketplace.selection.snapshot_schema import LockedBy

CONTRACT_ENDS_BEFORE_START = "The contract must end after it starts."


def fingerprint(view: dict) -> str:
    """A digest of what a buyer is shown (leaving out when it was worked out)."""
    shown = {key: value for key, value in view.items() if key != "computed_at"}
    encoded = json.dumps(shown, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def lock(actor, evaluation: Evaluation, seen: str | None = None) -> Evaluation:
    """Freeze the shortlist and store everything the buyer sees now.

    `seen` is the fingerprint of the page the buyer confirmed; if the figures have changed
    since (a restatement, a recompute), locking is refused so that they look again.
    """
    evaluation = editable(actor, evaluation)
    problems = [
        FieldError(
            f"{c.centre.name} is no longer accredited ({c.centre.status}); remove it first.",
            "centres",
        )
        for c in evaluation.candidates
        if c.centre.status != "accredited"
    ]
    if not MIN_CANDIDATES <= len(evaluation.candidates) <= MAX_CANDIDATES:
        problems.append(
            FieldError(f"Shortlist {MIN_CANDIDATES} to {MAX_CANDIDATES} centres.", "centres")
        )
    built = snapshots.build(evaluation)
    shown = snapshots.dump_snapshot(built)
    if not evaluation.is_sealed:
        problems.append(FieldError("Seal the weights before locking the shortlist.", "weights"))
    else:
        # Every weighted criterion scored for every centre, or marked not scored with a reason.
        problems.extend(scoring.unscored(shown))
    if problems:
        raise ValidationFailed("The shortlist could not be locked.", errors=problems)
    now = clock.now()
    if seen is not None and seen != fingerprint(shown):
        raise Conflict(
            "The figures changed after you opened this page (a centre restated a value, or "
            "the peer statistics were recomputed). Review the evaluation again, then lock it."
        )
    built.locked_at = now.isoformat()
    built.locked_by = LockedBy(actor.name, actor.email)
    snapshot = snapshots.dump_snapshot(built)
    evaluation.snapshot = snapshot
    evaluation.method_version = snapshot["method_version"]
    evaluation.locked_at = now
    evaluation.locked_by_id = actor.id
    evaluation.status = "locked"
    db.session.flush()
    audit.record(
        "evaluation.locked",
        actor=actor,
        organisation_id=evaluation.organisation_id,
        object_type="evaluation",
        object_id=evaluation.public_id,
        detail={
            "period": snapshot["period"]["code"],
            "centres": [c["slug"] for c in snapshot["candidates"]],
            "results": snapshot["results"],
            "method_version": snapshot["method_version"],
        },
    )
    return evaluation


def standings(evaluation: Evaluation) -> dict[str, str]:
    """Each shortlisted centre's accreditation standing today {slug: status}."""
    return {c.centre.slug: c.centre.status for c in evaluation.candidates}


def standing_changes(evaluation: Evaluation) -> list[dict]:
    """Shortlisted centres whose standing changed since the shortlist was locked."""
    if not evaluation.is_locked or not evaluation.snapshot:
        return []
    at_lock = {c["slug"]: c for c in evaluation.snapshot.get("candidates", [])}
    now = standings(evaluation)
    changes = []
    for slug, locked in at_lock.items():
        current = now.get(slug)
        if current is not None and current != locked.get("status"):
            changes.append(
                {"slug": slug, "name": locked["name"], "at_lock": locked["status"], "now": current}
            )
    return changes


def _contract(contract: dict | None, errors: list[FieldError], lines: list[str]) -> dict:
    """The contract basics of an award: value, start and end dates, annual volumes."""
    contract = contract or {}
    value = contract.get("contract_value")
    starts, ends = contract.get("contract_starts_on"), contract.get("contract_ends_on")
    if value is None:
        errors.append(FieldError("Give the contract value in pounds.", "contract_value"))
    if starts is None:
        errors.append(FieldError("Give the date the contract starts.", "contract_starts_on"))
    if ends is None:
        errors.append(FieldError("Give the date the contract ends.", "contract_ends_on"))
    elif starts is not None and ends <= starts:
        errors.append(FieldError(CONTRACT_ENDS_BEFORE_START, "contract_ends_on"))
    volumes = {k: int(v) for k, v in (contract.get("annual_volumes") or {}).items()}
    unknown = sorted(set(volumes) - set(lines))
    if unknown:
        errors.append(
            FieldError(
                f"Give volumes only for the evaluation's service lines ({', '.join(lines)}).",
                "annual_volumes",
            )
        )
    return {
        "contract_value": value,
        "contract_starts_on": starts,
        "contract_ends_on": ends,
        "annual_volumes": volumes,
    }


def outcome_problems(
    evaluation: Evaluation,
    kind: str,
    centre_slug: str | None,
    rationale: str,
    *,
    contract: dict | None = None,
) -> list[FieldError]:
    """What record_outcome would refuse in these answers, without writing anything: the form
    asks when its schema already found problems, so that every error is shown at once."""
    return _checked(evaluation, kind, centre_slug, (rationale or "").strip(), contract)[0]


def _checked(evaluation, kind, centre_slug, rationale, contract):
    errors: list[FieldError] = []
    centre_id, terms, kpis = None, {}, []
    if kind not in OUTCOME_KINDS:
        errors.append(FieldError("Choose the outcome.", "kind"))
    elif kind == "awarded":
        centre_id = _awardable_centre(evaluation, centre_slug, errors)
        terms = _contract(contract, errors, [line.code for line in evaluation.service_lines])
        kpis = contracts.check_kpis((contract or {}).get("kpis"), errors)
    if not rationale:
        errors.append(FieldError("Give the rationale for the outcome.", "rationale"))
    return errors, centre_id, terms, kpis


def record_outcome(
    actor,
    evaluation: Evaluation,
    kind: str,
    centre_slug: str | None,
    rationale: str,
    *,
    contract: dict | None = None,
) -> EvaluationOutcome:
    """Awarded (to a centre on the locked shortlist, accredited today, with the contract
    basics and at least three KPIs), none suitable, or cancelled; once.

    `contract` holds the basics (contract_value, contract_starts_on, contract_ends_on,
    annual_volumes) and `kpis`: [{"metric": code, "target": Decimal}, …]. An award makes
    the contract (contracts.create_for_award) in this transaction; the outcome keeps its
    copy of the basics, as the decision record shows them."""
    if not can_edit(actor, evaluation):
        raise PermissionDenied("Only buyers of the organisation that owns it can decide.")
    evaluation = locked_row(evaluation)
    if not evaluation.is_locked:
        raise Conflict("Lock the shortlist before recording the outcome.")
    if evaluation.outcome is not None:
        raise Conflict("The outcome has been recorded already; it cannot be changed.")
    rationale = (rationale or "").strip()
    errors, centre_id, terms, kpis = _checked(evaluation, kind, centre_slug, rationale, contract)
    if errors:
        raise ValidationFailed("The outcome could not be recorded.", errors=errors)
    outcome = EvaluationOutcome(
        evaluation_id=evaluation.id,
        kind=kind,
        centre_id=centre_id,
        rationale=rationale,
        decided_by_id=actor.id,
        decided_at=clock.now(),
        standings=standings(evaluation),
        **(terms if kind == "awarded" else {}),
    )
    db.session.add(outcome)
    db.session.flush()
    _audit_outcome(actor, evaluation, outcome, centre_slug if centre_id else None)
    if kind == "awarded":
        contracts.create_for_award(
            actor,
            outcome_id=outcome.id,
            organisation_id=evaluation.organisation_id,
            centre_id=centre_id,
            title=evaluation.title,
            terms=terms,
            kpis=kpis,
        )
    db.session.refresh(evaluation)
    return outcome


def _awardable_centre(evaluation: Evaluation, centre_slug: str | None, errors: list) -> int | None:
    """The id of the shortlisted centre to award, if it may be awarded today (else errors)."""
    shortlist = {c.centre.slug: c.centre for c in evaluation.candidates}
    if not centre_slug:
        errors.append(FieldError("Choose the centre you awarded.", "centre"))
        return None
    if centre_slug not in shortlist:
        errors.append(
            FieldError(
                f"'{centre_slug}' was not on the locked shortlist; an award must go to "
                "a shortlisted centre.",
                "centre",
            )
        )
        return None
    centre = shortlist[centre_slug]
    if centre.status != "accredited":
        errors.append(
            FieldError(
                f"{centre.name} is {centre.status_label.lower()} today; only a centre "
                "accredited on the day can be awarded.",
                "centre",
            )
        )
        return None
    return centre.id


def _audit_outcome(actor, evaluation: Evaluation, outcome, centre_slug: str | None) -> None:
    contract = {}
    if outcome.kind == "awarded":
        contract = {
            "contract_value": str(outcome.contract_value),
            "contract_starts_on": outcome.contract_starts_on.isoformat(),
            "contract_ends_on": outcome.contract_ends_on.isoformat(),
            "annual_volumes": outcome.annual_volumes,
        }
    audit.record(
        "evaluation.outcome_recorded",
        actor=actor,
        organisation_id=evaluation.organisation_id,
        object_type="evaluation",
        object_id=evaluation.public_id,
        detail={
            "kind": outcome.kind,
            "centre": centre_slug,
            "rationale": outcome.rationale,
            "standings": outcome.standings,
            **contract,
        },
    )
