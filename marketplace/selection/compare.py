"""Centres side by side for one period: values, bands, peer median, trend and weighted score.

Used by the /compare page, its CSV export, GET /api/v1/compare and buyers' evaluations.
Figures are read in a handful of queries whatever the size of the matrix: the metrics, the
centres, the peer statistics of the period, and the values of the trend window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from marketplace.benchmarks import narrowing, peers, readings, statistics
from marketplace.benchmarks.models import Metric, PeerStatistic, ReportingPeriod
from marketplace.benchmarks.visibility import Audience
from marketplace.catalogue.models import ServiceCentre, ServiceLine
from marketplace.catalogue.services import PUBLIC_STATUSES
from marketplace.errors import FieldError, ValidationFailed
from marketplace.extensions import db

MIN_CENTRES = 2
MAX_CENTRES = 6
CAVEAT = (
    "Unit costs are not a pure measure of efficiency across services of different "
    "complexity: a centre serving more complex organisations may cost more per transaction "
    "and still be efficient. Read costs together with quality and satisfaction."
)
STATUS_WARNINGS = {
    "suspended": "Accreditation suspended: it cannot be chosen until it is reinstated.",
    "expired": "Accreditation expired: it cannot be chosen until it is renewed.",
}


@dataclass
class CentreColumn:
    id: int
    slug: str
    name: str
    status: str
    listed: bool
    score: float | None = None
    coverage: float = 0.0
    rank: int | None = None

    @property
    def warning(self) -> str | None:
        return STATUS_WARNINGS.get(self.status)


@dataclass
class Cell:
    value: Decimal | None
    percentile: float | None
    band: int | None
    restated: bool = False
    corrected: bool = False
    trend: list[tuple[str, float | None]] = field(default_factory=list)
    direction: str | None = None


@dataclass
class Row:
    metric: Metric
    stats: PeerStatistic | narrowing.NarrowedStatistic | None
    stats_visible: bool
    below_threshold: bool
    cells: list[Cell]
    weight: float = 0.0

    @property
    def narrowed(self) -> narrowing.NarrowedStatistic | None:
        stats = self.stats
        return stats if isinstance(stats, narrowing.NarrowedStatistic) else None

    @property
    def median(self) -> float | None:
        return self.stats.median if self.stats_visible else None

    @property
    def n(self) -> int | None:
        return self.stats.n if self.stats_visible else None


@dataclass
class Comparison:
    period: ReportingPeriod | None
    periods: list[ReportingPeriod]
    centres: list[CentreColumn]
    rows: list[Row]
    weights: dict[str, float]
    weights_given: bool
    service_lines: list[str]
    metric_codes: list[str]
    caveat: str = CAVEAT
    peer_filter: narrowing.PeerFilter = narrowing.STANDARD

    @property
    def published(self) -> bool:
        return self.period is not None and self.period.status == "published"


# --- parsing what was asked for -------------------------------------------------------------


def split_list(values: Iterable[str] | str | None) -> list[str]:
    """'a,b' or ['a', 'b,c'] -> ['a', 'b', 'c']: trimmed, blanks dropped, first occurrence kept."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    seen: dict[str, None] = {}
    for value in values:
        for part in (value or "").split(","):
            part = part.strip()
            if part:
                seen.setdefault(part, None)
    return list(seen)


def parse_weights(text: str | None) -> dict[str, float] | None:
    """'code:2,code:0.5' -> {code: 2.0, …}; None when not given. Weights are numbers ≥ 0."""
    if text is None or not text.strip():
        return None
    weights: dict[str, float] = {}
    problems = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        code, sep, raw = part.partition(":")
        code = code.strip()
        try:
            weight = float(raw) if sep else None
        except ValueError:
            weight = None
        if not code or weight is None or not math.isfinite(weight):
            problems.append(f"'{part}' is not code:weight, for example ap_cost_per_invoice:2.")
        elif weight < 0:
            problems.append(f"The weight of {code} is negative; weights are 0 or more.")
        elif code in weights:
            problems.append(f"{code} is weighted twice.")
        else:
            weights[code] = weight
    if not problems and weights and sum(weights.values()) <= 0:
        problems.append("At least one weight must be more than 0.")
    if problems:
        raise ValidationFailed(
            "The weights could not be read.",
            errors=[FieldError(message, "weights") for message in problems],
        )
    return weights


def resolve_centres(
    audience: Audience, slugs: Sequence[str], *, minimum: int = MIN_CENTRES
) -> list[CentreColumn]:
    """The centres asked for, in the order asked; every problem reported at once."""
    problems = []
    if len(slugs) > MAX_CENTRES:
        problems.append(f"Choose at most {MAX_CENTRES} centres; {len(slugs)} were chosen.")
    elif len(slugs) < minimum:
        problems.append(f"Choose at least {minimum} centres to compare.")
    found = {
        c.slug: c
        for c in db.session.execute(
            db.select(ServiceCentre).where(ServiceCentre.slug.in_(list(slugs)))
        ).scalars()
    }
    columns = []
    for slug in slugs:
        centre = found.get(slug)
        listed = centre is not None and centre.accreditation_status in PUBLIC_STATUSES
        if centre is None or not (
            listed or audience.is_admin or centre.id == audience.own_centre_id
        ):
            problems.append(f"There is no centre '{slug}'.")
            continue
        columns.append(CentreColumn(centre.id, centre.slug, centre.name, centre.status, listed))
    if problems:
        raise ValidationFailed(
            "The centres could not be compared.",
            errors=[FieldError(message, "centres") for message in problems],
        )
    return columns


def select_metrics(
    service_lines: Sequence[str] = (), metric_codes: Sequence[str] = ()
) -> list[Metric]:
    """Current, active metrics: the ones named, else those of the service lines, else all."""
    query = (
        db.select(Metric)
        .join(Metric.service_line)
        .where(Metric.is_current.is_(True), Metric.status == "active")
        .order_by(ServiceLine.position, ServiceLine.code, Metric.position, Metric.code)
    )
    if metric_codes:
        metrics = list(db.session.execute(query.where(Metric.code.in_(metric_codes))).scalars())
        unknown = sorted(set(metric_codes) - {m.code for m in metrics})
        if unknown:
            raise ValidationFailed(
                "Some metrics are not in the library.",
                errors=[FieldError(f"There is no metric '{code}'.", "metrics") for code in unknown],
            )
        return metrics
    if service_lines:
        known = set(
            db.session.execute(
                db.select(ServiceLine.code).where(ServiceLine.code.in_(service_lines))
            ).scalars()
        )
        unknown = [code for code in service_lines if code not in known]
        if unknown:
            raise ValidationFailed(
                "Some service lines do not exist.",
                errors=[
                    FieldError(f"There is no service line '{code}'.", "service_lines")
                    for code in unknown
                ],
            )
        query = query.where(ServiceLine.code.in_(service_lines))
    return list(db.session.execute(query).scalars())


# --- building the matrix ---------------------------------------------------------------------


def matrix(
    audience: Audience,
    period: ReportingPeriod,
    periods: Sequence[ReportingPeriod],
    centres: Sequence[CentreColumn],
    metrics: Sequence[Metric],
    *,
    with_trend: bool = True,
    peer_filter: narrowing.PeerFilter = narrowing.STANDARD,
) -> list[Row]:
    """One row per metric, one cell per centre, with what this audience may see.

    With a narrowing peer_filter, each row's statistics, percentiles and bands are those of
    the narrowed group (narrowing.py), shown only from MIN_PEER_GROUP centres.
    """
    window = readings.trend_window(period, periods) if with_trend else [(period.code, period)]
    window_ids = [p.id for _code, p in window if p is not None]
    centre_ids = [c.id for c in centres]
    metric_ids = [m.id for m in metrics]
    values = readings.readings(metric_ids, window_ids, centre_ids)
    all_stats: dict = peers.stats_for(metric_ids, [period.id])
    narrowed = peer_filter.narrowed
    if narrowed:
        groups = narrowing.narrowed_groups(
            peer_filter, period, {m: all_stats.get((m, period.id)) for m in metric_ids}
        )
        all_stats = {(m, period.id): group for m, group in groups.items()}
    rows = []
    shown = {c.id: audience.value_visible(period, c.id) for c in centres}
    # Plain ids up front: the loops below run metrics × centres × quarters times.
    window_ids_by_label = [(label, p.id if p is not None else None) for label, p in window]
    period_id = period.id
    for metric in metrics:
        metric_id = metric.id
        stats = all_stats.get((metric_id, period_id))
        ranked = (
            stats.disclosable and audience.period_visible(period)
            if narrowed
            else audience.stats_visible(period, stats)
        )
        cells = []
        for centre in centres:
            centre_id = centre.id
            reading = values.get((metric_id, period_id, centre_id))
            visible = reading is not None and shown[centre_id]
            value = reading.value if visible else None
            kind = (
                readings.change_kind(period, reading.revision, reading.updated_at)
                if visible
                else None
            )
            # The same rule as readings.standing, with the row's visibility worked out once.
            percentile, band = (
                peers.position(metric, stats, value)
                if ranked and value is not None and peers.is_peer(stats, centre_id)
                else (None, None)
            )
            trend = []
            if with_trend:
                for label, pid in window_ids_by_label:
                    point = values.get((metric_id, pid, centre_id))
                    trend.append((label, None if point is None else float(point.value)))
            cells.append(
                Cell(
                    value=value,
                    percentile=percentile,
                    band=band,
                    restated=bool(visible and kind == "restated"),
                    corrected=bool(visible and kind == "corrected"),
                    trend=trend,
                    direction=readings.trend_direction(
                        [v for _label, v in trend], higher_is_better=metric.higher_is_better
                    )
                    if with_trend
                    else None,
                )
            )
        rows.append(
            Row(
                metric=metric,
                stats=stats,
                stats_visible=ranked,
                below_threshold=audience.below_threshold(stats),
                cells=cells,
            )
        )
    return rows


def score_centres(
    centres: Sequence[CentreColumn],
    percentiles: Sequence[Mapping[str, float | None]],
    weights: Mapping[str, float],
) -> None:
    """Fill in each centre's weighted score, coverage and rank (ties share a rank)."""
    for centre, by_code in zip(centres, percentiles, strict=True):
        result = statistics.weighted_score(by_code, weights)
        centre.score, centre.coverage = result.score, result.coverage
    ranks = statistics.competition_ranks({c.slug: c.score for c in centres})
    for centre in centres:
        centre.rank = ranks[centre.slug]


def compare(
    audience: Audience,
    slugs: Sequence[str],
    period_code: str | None = None,
    *,
    service_lines: Sequence[str] = (),
    metric_codes: Sequence[str] = (),
    weights: Mapping[str, float] | None = None,
    with_trend: bool = True,
    peer_filter: narrowing.PeerFilter = narrowing.STANDARD,
) -> Comparison:
    narrowing.require_narrowing(audience, peer_filter)
    periods = readings.visible_periods(audience)
    period = readings.resolve_period(audience, period_code, periods)
    centres = resolve_centres(audience, slugs)
    metrics = select_metrics(service_lines, metric_codes)
    if weights is not None:
        unknown = sorted(set(weights) - {m.code for m in metrics})
        if unknown:
            raise ValidationFailed(
                "Some weights name metrics that are not in this comparison.",
                errors=[
                    FieldError(f"'{code}' is not a metric in this comparison.", "weights")
                    for code in unknown
                ],
            )
    used = dict(weights) if weights is not None else {m.code: 1.0 for m in metrics}
    rows = (
        matrix(
            audience,
            period,
            periods,
            centres,
            metrics,
            with_trend=with_trend,
            peer_filter=peer_filter,
        )
        if period is not None
        else []
    )
    for row in rows:
        row.weight = used.get(row.metric.code, 0.0)
    score_centres(
        centres,
        [{row.metric.code: row.cells[i].percentile for row in rows} for i in range(len(centres))],
        used,
    )
    return Comparison(
        period=period,
        periods=periods,
        centres=centres,
        rows=rows,
        weights=used,
        weights_given=weights is not None,
        service_lines=list(service_lines),
        metric_codes=list(metric_codes),
        peer_filter=peer_filter,
    )
