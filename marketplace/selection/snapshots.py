"""What a buyer sees of an evaluation: the snapshot, worked out, and which one to show.

`evaluate` works it out from the current figures for a draft; locking stores its result as
the snapshot, and locked evaluations are shown, exported and audited only from that snapshot,
so a later reader sees exactly what the buyer saw even after the data has changed.
Figures are computed as the evaluating organisation's buyers may see them, whoever looks.
The snapshot's shape is in snapshot_schema.py.
"""

from __future__ import annotations

from decimal import Decimal

from marketplace import clock
from marketplace.benchmarks import readings
from marketplace.benchmarks.statistics import BAND_LABELS
from marketplace.benchmarks.visibility import Audience, threshold
from marketplace.catalogue.services import PUBLIC_STATUSES
from marketplace.extensions import db
from marketplace.selection import compare as comparing
from marketplace.selection.models import Evaluation, EvaluationCriterion, EvaluationScore
from marketplace.selection.snapshot_schema import (
    Candidate,
    CellView,
    Criterion,
    EvaluationRef,
    MetricRef,
    PeriodRef,
    Result,
    ServiceLineRef,
    Snapshot,
    Statistics,
    dump_snapshot,
)

SNAPSHOT_FORMAT = 1
# The statistics method of DOMAIN.md as implemented: linear-interpolation quartiles,
# direction-aware percentile 100 × (worse + ½ tied) ÷ (n − 1), quartile bands, and a score
# Σ wᵢ·pᵢ ÷ Σ wᵢ over the criteria a centre has, with coverage and shared ranks. Bump it if
# any of these change, so a locked evaluation says which method produced its figures.
METHOD_VERSION = "peer-percentile-1"
SOCIAL_VALUE_MIN_SHARE = 0.10


# --- which one to show -------------------------------------------------------------------------


def results_for(evaluation: Evaluation) -> dict:
    """What to show of an evaluation: once locked, only ever the stored snapshot (what the
    buyer saw when locking); a draft is worked out afresh from the current figures."""
    return evaluation.snapshot if evaluation.is_locked else evaluate(evaluation)


# --- working it out ----------------------------------------------------------------------------


def evaluate(evaluation: Evaluation) -> dict:
    """The evaluation as its buyers see it now, as the dict the schema dumps."""
    return dump_snapshot(build(evaluation))


def build(evaluation: Evaluation) -> Snapshot:
    audience = Audience("buyer", evaluation.organisation_id, None, threshold())
    period = evaluation.period
    periods = readings.visible_periods(audience)
    centres = _centres(evaluation)
    criteria = list(evaluation.criteria)
    rows = _metric_rows(audience, period, periods, centres, criteria)
    buyer_scores = _buyer_scores(evaluation)
    total_weight = float(sum((c.weight for c in criteria), Decimal(0)))
    out_criteria, cells = [], {}
    percentiles: list[dict] = [{} for _ in centres]
    for criterion in criteria:
        row = rows[criterion.metric_id] if criterion.kind == "metric" else None
        out_criteria.append(_criterion(criterion, total_weight, row))
        if row is not None:
            cells[criterion.code] = _metric_cells(row, centres)
        else:
            cells[criterion.code] = _buyer_cells(criterion, centres, buyer_scores)
        for i, centre in enumerate(centres):
            cell = cells[criterion.code][centre.slug]
            percentiles[i][criterion.code] = cell.percentile if row is not None else cell.score
    comparing.score_centres(centres, percentiles, {c.code: float(c.weight) for c in criteria})
    social_share = sum(c.share for c in out_criteria if c.is_social_value)
    return Snapshot(
        format=SNAPSHOT_FORMAT,
        method_version=METHOD_VERSION,
        computed_at=clock.now().isoformat(),
        evaluation=EvaluationRef(
            evaluation.public_id,
            evaluation.title,
            evaluation.needs,
            evaluation.organisation.name,
        ),
        period=PeriodRef(period.code, period.label, period.status, period.status == "published"),
        threshold=audience.threshold,
        service_lines=[ServiceLineRef(s.code, s.name) for s in evaluation.service_lines],
        candidates=[Candidate(c.slug, c.name, c.status, c.warning) for c in centres],
        criteria=out_criteria,
        cells=cells,
        results=[Result(c.slug, c.name, c.score, c.coverage, c.rank) for c in centres],
        total_weight=total_weight,
        social_value_share=social_share,
        warnings=_warnings(social_share, period, centres),
        caveat=comparing.CAVEAT,
    )


def _centres(evaluation: Evaluation) -> list[comparing.CentreColumn]:
    return [
        comparing.CentreColumn(
            c.centre.id,
            c.centre.slug,
            c.centre.name,
            c.centre.status,
            c.centre.accreditation_status in PUBLIC_STATUSES,
        )
        for c in evaluation.candidates
    ]


def _metric_rows(audience, period, periods, centres, criteria) -> dict[int, comparing.Row]:
    """The comparison matrix of the metric criteria, by metric id."""
    metrics = [c.metric for c in criteria if c.kind == "metric"]
    return {
        row.metric.id: row
        for row in comparing.matrix(audience, period, periods, centres, metrics, with_trend=False)
    }


def _buyer_scores(evaluation: Evaluation) -> dict[tuple[int, int], Decimal]:
    return {
        (s.criterion_id, s.centre_id): s.score
        for s in db.session.execute(
            db.select(EvaluationScore).where(EvaluationScore.evaluation_id == evaluation.id)
        ).scalars()
    }


def _criterion(
    criterion: EvaluationCriterion, total_weight: float, row: comparing.Row | None
) -> Criterion:
    weight = float(criterion.weight)
    entry = Criterion(
        code=criterion.code,
        name=criterion.name,
        kind=criterion.kind,
        weight=weight,
        share=weight / total_weight if total_weight else 0.0,
        is_social_value=criterion.is_social_value,
    )
    if row is None:
        return entry
    metric = criterion.metric
    entry.metric = MetricRef(
        metric.code,
        metric.version,
        metric.unit,
        metric.unit_label,
        metric.direction,
        metric.decimals,
        metric.definition,
    )
    if row.stats_visible:
        s = row.stats
        entry.statistics = Statistics(s.n, s.minimum, s.p25, s.median, s.p75, s.maximum)
    entry.withheld = row.stats is not None and not row.stats_visible
    return entry


def _metric_cells(row: comparing.Row, centres) -> dict[str, CellView]:
    return {
        centre.slug: CellView(
            value=None if cell.value is None else str(cell.value),
            percentile=cell.percentile,
            band=cell.band,
            band_label=BAND_LABELS.get(cell.band) if cell.band else None,
        )
        for centre, cell in zip(centres, row.cells, strict=True)
    }


def _buyer_cells(criterion: EvaluationCriterion, centres, buyer_scores) -> dict[str, CellView]:
    return {
        centre.slug: CellView(score=_number(buyer_scores.get((criterion.id, centre.id))))
        for centre in centres
    }


def _number(value) -> float | None:
    return None if value is None else float(value)


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
