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
from marketplace.selection.models import (
    Evaluation,
    EvaluationCriterion,
    EvaluationScore,
    EvaluationWeightChange,
)
from marketplace.selection.snapshot_schema import (
    Candidate,
    CellView,
    Criterion,
    EvaluationRef,
    LockedBy,
    MetricRef,
    PeriodRef,
    Result,
    SealedWeight,
    ServiceLineRef,
    Snapshot,
    Statistics,
    WeightChange,
    Weights,
    dump_snapshot,
)

# 2: cells carry the buyer's rationale and "not scored" reasons; the weights section.
SNAPSHOT_FORMAT = 2
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


def results_shown(evaluation: Evaluation) -> bool:
    """Weights before scores: the centres' results, scores and ranks are shown only once the
    criteria and weights are sealed (a locked evaluation always was)."""
    return evaluation.is_locked or evaluation.is_sealed


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
            cells[criterion.code] = _metric_cells(row, centres, criterion, buyer_scores)
        else:
            cells[criterion.code] = _buyer_cells(criterion, centres, buyer_scores)
        for i, centre in enumerate(centres):
            cell = cells[criterion.code][centre.slug]
            # A metric is scored from the figure; the buyer's score only where there is none.
            percentiles[i][criterion.code] = (
                cell.percentile if cell.percentile is not None else cell.score
            )
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
        weights=_weights(evaluation),
    )


def _person(user) -> LockedBy:
    return LockedBy(user.name, user.email)


def _weights(evaluation: Evaluation) -> Weights:
    """The weights as sealed (if they are) and every change of them, oldest first."""
    names = {c.code: c.name for c in evaluation.criteria}
    sealed = evaluation.sealed_weights or {}
    changes = db.session.execute(
        db.select(EvaluationWeightChange)
        .where(EvaluationWeightChange.evaluation_id == evaluation.id)
        .order_by(EvaluationWeightChange.changed_at, EvaluationWeightChange.id)
    ).scalars()
    # A criterion removed after sealing is named from its history.
    history = list(changes)
    for change in history:
        names.setdefault(change.criterion_code, change.criterion_name)
    return Weights(
        sealed_at=evaluation.weights_sealed_at.isoformat() if evaluation.is_sealed else None,
        sealed_by=_person(evaluation.weights_sealed_by) if evaluation.is_sealed else None,
        sealed=[SealedWeight(code, names.get(code, code), w) for code, w in sealed.items()],
        changes=[
            WeightChange(
                changed_at=c.changed_at.isoformat(),
                changed_by=_person(c.changed_by),
                code=c.criterion_code,
                name=c.criterion_name,
                old=None if c.old_weight is None else str(c.old_weight),
                new=None if c.new_weight is None else str(c.new_weight),
                after_sealing=c.after_sealing,
                reason=c.reason,
            )
            for c in history
        ],
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


def _buyer_scores(evaluation: Evaluation) -> dict[tuple[int, int], EvaluationScore]:
    return {
        (s.criterion_id, s.centre_id): s
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


def _metric_cells(row: comparing.Row, centres, criterion, buyer_scores) -> dict[str, CellView]:
    """The figures; where a centre has none that can be scored, the buyer's entry."""
    cells = {}
    for centre, cell in zip(centres, row.cells, strict=True):
        view = CellView(
            value=None if cell.value is None else str(cell.value),
            percentile=cell.percentile,
            band=cell.band,
            band_label=BAND_LABELS.get(cell.band) if cell.band else None,
        )
        if cell.percentile is None:
            _with_entry(view, buyer_scores.get((criterion.id, centre.id)))
        cells[centre.slug] = view
    return cells


def _buyer_cells(criterion: EvaluationCriterion, centres, buyer_scores) -> dict[str, CellView]:
    return {
        centre.slug: _with_entry(CellView(), buyer_scores.get((criterion.id, centre.id)))
        for centre in centres
    }


def _with_entry(cell: CellView, entry: EvaluationScore | None) -> CellView:
    if entry is not None:
        cell.score = _number(entry.score)
        cell.rationale = entry.rationale
        cell.not_scored_reason = entry.not_scored_reason
    return cell


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
