"""Decision records: a locked evaluation and its outcome as an accessible PDF.

Built only from what selection froze — the evaluation's locked snapshot and its outcome —
never from live figures, so the PDF shows exactly what the buyer saw. It is rendered the same
safe way as published reports (render.py: escaped primitives, the locked-down fetcher, a
capped child process) and dated at the decision (or the lock, before an outcome), so the same
record always gives the same bytes. The file is kept in content-addressed storage under the
hash of its primitives: the first download renders it, later ones are served as stored.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from marketplace import formatting
from marketplace.errors import Conflict
from marketplace.publications import formatting as fmt
from marketplace.publications import private_pdfs
from marketplace.publications.storage import StoredFile
from marketplace.selection import record
from marketplace.selection.models import OUTCOME_LABELS, Evaluation

TEMPLATE = "reports/decision_record.html"


def _figure(value, metric: dict) -> str:
    if value is None:
        return "No value"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return fmt.figure(number, metric["decimals"], metric["unit"])


def record_primitives(evaluation: Evaluation) -> dict:
    """The snapshot and outcome, as strings and numbers ready to print."""
    if not evaluation.is_locked or not evaluation.snapshot:
        raise Conflict("Only a locked evaluation has a decision record; lock the shortlist first.")
    view = evaluation.snapshot
    candidates = view["candidates"]
    results = sorted(view["results"], key=lambda r: (r["rank"] is None, r["rank"] or 0))
    outcome = evaluation.outcome
    return {
        "kind": "decision_record",
        "title": f"Decision record: {view['evaluation']['title']}",
        "evaluation": {
            "id": view["evaluation"]["id"],
            "title": view["evaluation"]["title"],
            "organisation": view["evaluation"]["organisation"],
            "needs": view["evaluation"]["needs"],
        },
        "period": {
            "code": view["period"]["code"],
            "label": view["period"]["label"],
            "published": view["period"]["published"],
        },
        "service_lines": [line["name"] for line in view["service_lines"]],
        "candidates": [
            {"name": c["name"], "slug": c["slug"], "status": c["status"]} for c in candidates
        ],
        "criteria": [_criterion(criterion, view) for criterion in view["criteria"]],
        "results": [
            {
                "rank": r["rank"],
                "name": r["name"],
                "score_text": "No score"
                if r["score"] is None
                else formatting.number(r["score"], 1),
                "coverage_text": formatting.percent(r["coverage"] * 100, 0),
            }
            for r in results
        ],
        "threshold": view["threshold"],
        "warnings": list(view.get("warnings", [])),
        "caveat": view["caveat"],
        "method_version": view["method_version"],
        "locked_at": fmt.datetime_text(datetime.fromisoformat(view["locked_at"])),
        "locked_by": view["locked_by"]["email"],
        "outcome": None if outcome is None else _outcome(outcome),
        # The sealed weights and their changes, the buyer's scores with rationale, standings
        # at lock and at award, the contract: the same parts the evaluation page shows.
        "record": record.parts(evaluation, view),
    }


def _criterion(criterion: dict, view: dict) -> dict:
    """One criterion of the snapshot: how it is weighed, its peers, and each centre's mark."""
    metric = criterion.get("metric")
    stats = criterion.get("statistics")
    return {
        "name": criterion["name"],
        "kind": "Scored by the buyer, 0 to 100"
        if not metric
        else f"{formatting.unit_phrase(metric['unit'])}, {metric['direction']} is better",
        "weight_text": f"{criterion['weight']:g}",
        "share_text": formatting.percent(criterion["share"] * 100, 1),
        "social_value": bool(criterion.get("is_social_value")),
        "median_text": _figure(stats["median"], metric) if metric and stats else "",
        "median_n": stats["n"] if stats else None,
        "withheld": bool(criterion.get("withheld")),
        "cells": [
            _cell(view["cells"][criterion["code"]][candidate["slug"]], metric)
            for candidate in view["candidates"]
        ],
    }


def _cell(cell: dict, metric: dict | None) -> dict:
    """A centre's figure with its band and percentile, or the buyer's score."""
    if not metric:
        score = cell.get("score")
        return {
            "text": "Not scored" if score is None else formatting.number(score, 0),
            "detail": "",
        }
    detail = ""
    if cell.get("percentile") is None and cell.get("score") is not None:
        detail = f"Scored by the buyer: {formatting.number(cell['score'], 0)}"
    elif cell.get("not_scored_reason"):
        detail = "Not scored"
    elif cell.get("value") is not None:
        detail = f"Band {cell['band']}" if cell.get("band") else "Not banded"
        if cell.get("percentile") is not None:
            detail += f", percentile {fmt.percentile_text(cell['percentile'])}"
    return {"text": _figure(cell.get("value"), metric), "detail": detail}


def _outcome(outcome) -> dict:
    return {
        "label": OUTCOME_LABELS[outcome.kind],
        "centre": outcome.centre.name if outcome.centre is not None else "",
        "rationale": outcome.rationale,
        "decided_at": fmt.datetime_text(outcome.decided_at),
        "decided_by": outcome.decided_by.email,
    }


def dated(evaluation: Evaluation) -> datetime:
    """The record's date: the decision, or the lock while no outcome is recorded."""
    if evaluation.outcome is not None:
        return evaluation.outcome.decided_at
    return evaluation.locked_at


def decision_record(evaluation: Evaluation) -> tuple[StoredFile, str]:
    """The stored PDF of this record (rendered on first use) and its download name."""
    data = record_primitives(evaluation)
    moment = dated(evaluation)
    author = data["evaluation"]["organisation"]
    stored = private_pdfs.stored_pdf("decisions", TEMPLATE, data, moment, author)
    return stored, _filename(evaluation)


def _filename(evaluation: Evaluation) -> str:
    state = "decision" if evaluation.outcome is not None else "locked-shortlist"
    return f"evaluation-{evaluation.public_id}-{state}-record.pdf"
