"""What a buyer sees of an evaluation, as plain JSON-ready data.

`evaluate` works it out from the current figures for a draft; locking stores its result as
the snapshot, and locked evaluations are shown, exported and audited only from that snapshot,
so a later reader sees exactly what the buyer saw even after the data has changed.
Figures are computed as the evaluating organisation's buyers may see them, whoever looks.
"""

from __future__ import annotations

from decimal import Decimal

from marketplace import clock
from marketplace.benchmarks.statistics import BAND_LABELS
from marketplace.catalogue.services import PUBLIC_STATUSES
from marketplace.extensions import db
from marketplace.selection import compare as comparing
from marketplace.selection import readings
from marketplace.selection.models import Evaluation, EvaluationScore
from marketplace.selection.visibility import Audience, threshold

SNAPSHOT_FORMAT = 1
# The statistics method of DOMAIN.md as implemented: linear-interpolation quartiles,
# direction-aware percentile 100 × (worse + ½ tied) ÷ (n − 1), quartile bands, and a score
# Σ wᵢ·pᵢ ÷ Σ wᵢ over the criteria a centre has, with coverage and shared ranks. Bump it if
# any of these change, so a locked evaluation says which method produced its figures.
METHOD_VERSION = "peer-percentile-1"
SOCIAL_VALUE_MIN_SHARE = 0.10


def _number(value) -> float | None:
    return None if value is None else float(value)


def evaluate(evaluation: Evaluation) -> dict:
    audience = Audience("buyer", evaluation.organisation_id, None, threshold())
    period = evaluation.period
    periods = readings.visible_periods(audience)
    centres = [
        comparing.CentreColumn(
            c.centre.id,
            c.centre.slug,
            c.centre.name,
            c.centre.status,
            c.centre.accreditation_status in PUBLIC_STATUSES,
        )
        for c in evaluation.candidates
    ]
    criteria = list(evaluation.criteria)
    metrics = [c.metric for c in criteria if c.kind == "metric"]
    rows = {
        row.metric.id: row
        for row in comparing.matrix(audience, period, periods, centres, metrics, with_trend=False)
    }
    buyer_scores = {
        (s.criterion_id, s.centre_id): s.score
        for s in db.session.execute(
            db.select(EvaluationScore).where(EvaluationScore.evaluation_id == evaluation.id)
        ).scalars()
    }
    total_weight = float(sum((c.weight for c in criteria), Decimal(0)))
    out_criteria, cells = [], {}
    percentiles: list[dict] = [{} for _ in centres]
    for criterion in criteria:
        weight = float(criterion.weight)
        entry = {
            "code": criterion.code,
            "name": criterion.name,
            "kind": criterion.kind,
            "weight": weight,
            "share": weight / total_weight if total_weight else 0.0,
            "is_social_value": criterion.is_social_value,
            "metric": None,
            "statistics": None,
            "withheld": False,
        }
        cells[criterion.code] = {}
        if criterion.kind == "metric":
            metric, row = criterion.metric, rows[criterion.metric_id]
            entry["metric"] = {
                "code": metric.code,
                "version": metric.version,
                "unit": metric.unit,
                "unit_label": metric.unit_label,
                "direction": metric.direction,
                "decimals": metric.decimals,
                "definition": metric.definition,
            }
            if row.stats_visible:
                s = row.stats
                entry["statistics"] = {
                    "n": s.n,
                    "min": s.minimum,
                    "p25": s.p25,
                    "median": s.median,
                    "p75": s.p75,
                    "max": s.maximum,
                }
            entry["withheld"] = row.stats is not None and not row.stats_visible
            for i, (centre, cell) in enumerate(zip(centres, row.cells, strict=True)):
                cells[criterion.code][centre.slug] = {
                    "value": None if cell.value is None else str(cell.value),
                    "percentile": cell.percentile,
                    "band": cell.band,
                    "band_label": BAND_LABELS.get(cell.band) if cell.band else None,
                    "score": None,
                }
                percentiles[i][criterion.code] = cell.percentile
        else:
            for i, centre in enumerate(centres):
                score = _number(buyer_scores.get((criterion.id, centre.id)))
                cells[criterion.code][centre.slug] = {
                    "value": None,
                    "percentile": None,
                    "band": None,
                    "band_label": None,
                    "score": score,
                }
                percentiles[i][criterion.code] = score
        out_criteria.append(entry)
    comparing.score_centres(centres, percentiles, {c.code: float(c.weight) for c in criteria})
    social_share = sum(c["share"] for c in out_criteria if c["is_social_value"])
    return {
        "format": SNAPSHOT_FORMAT,
        "method_version": METHOD_VERSION,
        "computed_at": clock.now().isoformat(),
        "evaluation": {
            "id": evaluation.public_id,
            "title": evaluation.title,
            "needs": evaluation.needs,
            "organisation": evaluation.organisation.name,
        },
        "period": {
            "code": period.code,
            "label": period.label,
            "status": period.status,
            "published": period.status == "published",
        },
        "threshold": audience.threshold,
        "service_lines": [{"code": s.code, "name": s.name} for s in evaluation.service_lines],
        "candidates": [
            {"slug": c.slug, "name": c.name, "status": c.status, "warning": c.warning}
            for c in centres
        ],
        "criteria": out_criteria,
        "cells": cells,
        "results": [
            {
                "slug": c.slug,
                "name": c.name,
                "score": c.score,
                "coverage": c.coverage,
                "rank": c.rank,
            }
            for c in centres
        ],
        "total_weight": total_weight,
        "social_value_share": social_share,
        "warnings": _warnings(social_share, period, centres),
        "caveat": comparing.CAVEAT,
    }


def _warnings(social_share: float, period, centres) -> list[str]:
    warnings = []
    if social_share < SOCIAL_VALUE_MIN_SHARE:
        warnings.append(
            f"Social value carries {social_share * 100:.0f}% of the total weight. Procurement "
            "policy note PPN 06/20 asks for at least 10%."
        )
    if period.status != "published":
        warnings.append(
            f"The figures for {period.label} are validated but not yet published; they may "
            "still be restated."
        )
    for centre in centres:
        if centre.status != "accredited":
            warnings.append(
                f"{centre.name} is {centre.status}: only centres accredited today can be chosen."
            )
    return warnings
