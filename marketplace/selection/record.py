"""The parts of a decision record beyond the results: the sealed weights and every change of
them, the buyer's scores with their rationale (and "not scored" with the reason), each
shortlisted centre's accreditation standing at lock and at award, and the contract an award
records. Ready to print, written through marketplace/formatting.py.

The evaluation page and the decision-record PDF (publications/decision_records.py) both show
these, from the same function, so the two cannot disagree. A locked evaluation's parts come
from its snapshot (what was locked) and its outcome (written once); a draft's from the live
view. Snapshots locked before format 2 have no weights section or rationale: their record says
so rather than inventing them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from marketplace import formatting
from marketplace.benchmarks import drivers
from marketplace.catalogue.models import STATUS_LABELS
from marketplace.selection.models import Evaluation


def _weight(text: str | None) -> str:
    if text is None:
        return "–"
    value = Decimal(text)
    return formatting.number(value, 0 if value == value.to_integral_value() else 2)


def _when(iso: str | None) -> str:
    return formatting.datetime_text(datetime.fromisoformat(iso)) if iso else "–"


def _status(code: str | None) -> str:
    return STATUS_LABELS.get(code, code) if code else "–"


def parts(evaluation: Evaluation, view: dict) -> dict:
    """The record's parts from `view` (the snapshot once locked) and the outcome."""
    weights = view.get("weights")
    return {
        "recorded": weights is not None,
        "sealed": _sealed(weights),
        "changes": _changes(weights),
        "scores": _scores(view),
        "standings": _standings(evaluation, view),
        "contract": _contract(evaluation, view),
    }


def _sealed(weights: dict | None) -> dict | None:
    if not weights or not weights.get("sealed_at"):
        return None
    return {
        "at": _when(weights["sealed_at"]),
        "by": weights["sealed_by"]["email"],
        "weights": [{"name": w["name"], "weight": _weight(w["weight"])} for w in weights["sealed"]],
    }


def _changes(weights: dict | None) -> list[dict]:
    return [
        {
            "when": _when(change["changed_at"]),
            "who": change["changed_by"]["email"],
            "criterion": change["name"],
            "old": "Not a criterion" if change["old"] is None else _weight(change["old"]),
            "new": "Removed" if change["new"] is None else _weight(change["new"]),
            "stage": "After sealing" if change["after_sealing"] else "Before sealing",
            "reason": change["reason"] or "",
        }
        for change in (weights or {}).get("changes", [])
    ]


def _scores(view: dict) -> list[dict]:
    """Every score the buyer gave, with its rationale, and every "not scored" with its reason."""
    rows = []
    for criterion in view["criteria"]:
        for candidate in view["candidates"]:
            cell = view["cells"][criterion["code"]][candidate["slug"]]
            if cell.get("not_scored_reason"):
                text, why = "Not scored", cell["not_scored_reason"]
            elif cell.get("score") is not None and cell.get("percentile") is None:
                text, why = formatting.number(cell["score"], 0), cell.get("rationale") or ""
            else:
                continue
            rows.append(
                {
                    "criterion": criterion["name"],
                    "weight": _weight(str(criterion["weight"])),
                    "centre": candidate["name"],
                    "score": text,
                    "why": why or "No rationale was recorded (scored before it was required).",
                    "not_scored": text == "Not scored",
                }
            )
    return rows


def _standings(evaluation: Evaluation, view: dict) -> list[dict]:
    """Each shortlisted centre's standing when locked (the snapshot) and at the award."""
    if not evaluation.is_locked:
        return []
    outcome = evaluation.outcome
    at_award = (outcome.standings or {}) if outcome is not None else {}
    return [
        {
            "centre": candidate["name"],
            "at_lock": _status(candidate["status"]),
            "at_award": _status(at_award.get(candidate["slug"]))
            if outcome is not None and outcome.standings is not None
            else ("No outcome yet" if outcome is None else "Not recorded"),
        }
        for candidate in view["candidates"]
    ]


def _contract(evaluation: Evaluation, view: dict) -> dict | None:
    outcome = evaluation.outcome
    if outcome is None or outcome.kind != "awarded" or outcome.contract_value is None:
        return None
    return {
        "value": formatting.money(outcome.contract_value, 0),
        "starts": formatting.date_text(outcome.contract_starts_on),
        "ends": formatting.date_text(outcome.contract_ends_on),
        # In the award form's words: each line's volume counts its cost driver.
        "volumes": drivers.volume_texts(outcome.annual_volumes or {}),
    }
