"""Report data as primitives: everything a period's publications show, read once, set-based.

build_period() reads the period's observations, peer statistics (benchmarks.peers — the
statistics are never recomputed here), restatements and commentary in a handful of queries,
and returns plain dicts, lists, strings and numbers: one per centre report, one league table
and the open-data rows. Templates get nothing else — no ORM objects, no request — so the same
primitives render identically in a web process, a local worker or an RQ worker, and their
canonical JSON hash (input_hash) says whether a published artefact is still up to date.

Publication time and version are deliberately not part of these primitives: they are added
at render time (see services.envelope), so publishing unchanged figures again changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace import clock
from marketplace.benchmarks import peers
from marketplace.benchmarks.models import Metric, Observation, ObservationRevision, ReportingPeriod
from marketplace.catalogue.accreditation import accredited_centre_ids_on
from marketplace.catalogue.models import AccreditationEvent, ServiceCentre
from marketplace.extensions import db
from marketplace.publications import formatting as fmt
from marketplace.publications import tables
from marketplace.publications.charts import trend_chart
from marketplace.publications.sections import centre_sections, data_quality

TREND_QUARTERS = 8


@dataclass
class PeriodBuild:
    period: dict
    centre_reports: dict[int, dict]
    league_table: dict  # the whole table: the open data's ranks (not published as one file)
    open_data: dict
    league_overview: dict
    league_lines: dict[str, dict]  # service line code -> that line's league table


def input_hash(primitives: dict) -> str:
    """SHA-256 of the canonical JSON of an artefact's primitives."""
    canonical = json.dumps(primitives, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def period_primitives(period: ReportingPeriod) -> dict:
    return {
        "code": period.code,
        "label": period.label,
        "starts_on": fmt.date_text(period.starts_on),
        "ends_on": fmt.date_text(period.ends_on),
    }


def trend_periods(period: ReportingPeriod) -> list[ReportingPeriod]:
    """This period and the published periods among the quarters before it, oldest first."""
    index = period.year * 4 + period.quarter - 1 - (TREND_QUARTERS - 1)
    first = (index // 4, index % 4 + 1)
    candidates = db.session.scalars(
        select(ReportingPeriod)
        .where(
            (ReportingPeriod.year * 4 + ReportingPeriod.quarter) >= first[0] * 4 + first[1],
            (ReportingPeriod.year * 4 + ReportingPeriod.quarter)
            <= period.year * 4 + period.quarter,
        )
        .order_by(ReportingPeriod.year, ReportingPeriod.quarter)
    ).all()
    return [p for p in candidates if p.id == period.id or p.status == "published"]


def centres_accredited_during(period: ReportingPeriod) -> set[int]:
    """Centres accredited on any day of the period (as its history stood on each day)."""
    last = min(period.ends_on, clock.today())
    days = {period.starts_on, last}
    days.update(
        db.session.scalars(
            select(AccreditationEvent.effective_on).where(
                AccreditationEvent.effective_on > period.starts_on,
                AccreditationEvent.effective_on <= last,
            )
        )
    )
    ids: set[int] = set()
    for day in sorted(days):
        ids.update(db.session.scalars(accredited_centre_ids_on(day)))
    return ids


def build_period(period: ReportingPeriod, *, min_group: int) -> PeriodBuild:
    periods = trend_periods(period)
    period_ids = [p.id for p in periods]
    accredited = centres_accredited_during(period)
    o = Observation.__table__
    rows = db.session.execute(
        select(
            o.c.id,
            o.c.centre_id,
            o.c.metric_id,
            o.c.period_id,
            o.c.value,
            o.c.numerator,
            o.c.denominator,
            o.c.revision,
            o.c.flag_status,
        ).where(o.c.period_id.in_(period_ids))
    ).all()
    rows = [row for row in rows if row.centre_id in accredited]
    reported = sorted({row.centre_id for row in rows if row.period_id == period.id})
    metric_ids = sorted({row.metric_id for row in rows})
    metrics = {m.id: m for m in db.session.scalars(select(Metric).where(Metric.id.in_(metric_ids)))}
    stats_now = peers.stats_for(metric_ids, [period.id])
    earlier = [p for p in period_ids if p != period.id]
    stats_before = peers.stats_for(metric_ids, earlier, with_values=False) if earlier else {}
    centres = {
        c.id: c
        for c in db.session.scalars(
            select(ServiceCentre)
            .where(ServiceCentre.id.in_(reported))
            .options(selectinload(ServiceCentre.service_lines))
        )
    }
    by_centre: dict[int, list] = defaultdict(list)
    for row in rows:
        by_centre[row.centre_id].append(row)
    revisions = _restatements(period, [row.id for row in rows if row.centre_id in centres])
    labels = {p.id: p.label for p in periods}
    library = _library(metrics)
    period_info = period_primitives(period)

    reports: dict[int, dict] = {}
    for centre_id in reported:
        centre = centres[centre_id]
        scorecard, trends = _scorecard(
            centre_id,
            by_centre[centre_id],
            period,
            periods,
            metrics,
            stats_now,
            stats_before,
            min_group,
        )
        reports[centre_id] = {
            "kind": "centre_report",
            "title": f"Performance report: {centre.name}, {period.label}",
            "centre": {
                "slug": centre.slug,
                "name": centre.name,
                "business_model": centre.business_model_label,
                "service_lines": [line.name for line in centre.service_lines],
            },
            "period": period_info,
            "scorecard": scorecard,
            "sections": centre_sections(scorecard),
            "trends": trends,
            "trend_quarters": [p.label for p in periods],
            "data_quality": data_quality(
                scorecard, revisions.get(centre_id, []), labels, metrics, min_group
            ),
            "commentary": centre.commentary or "",
            "method": tables.method(min_group, library),
        }
    league = tables.league_table(period, period_info, metrics, stats_now, rows, min_group, library)
    overview, lines = tables.league_documents(league, min_group, library)
    return PeriodBuild(
        period_info,
        reports,
        league,
        tables.open_data(period_info, reports, league),
        overview,
        lines,
    )


def _scorecard(centre_id, rows, period, periods, metrics, stats_now, stats_before, min_group):
    """The centre's figures for the period, with peers, target and trend, in library order."""
    history: dict[str, dict[int, object]] = defaultdict(dict)
    for row in rows:
        history[metrics[row.metric_id].code][row.period_id] = row
    current = sorted(
        (row for row in rows if row.period_id == period.id),
        key=lambda r: (
            metrics[r.metric_id].service_line.position,
            metrics[r.metric_id].position,
            metrics[r.metric_id].code,
        ),
    )
    scorecard, trends = [], []
    for row in current:
        metric = metrics[row.metric_id]
        stats = stats_now.get((metric.id, period.id))
        previous = _previous(history[metric.code], periods, period.id, metric, metrics)
        scorecard.append(_scorecard_entry(centre_id, row, metric, stats, previous, min_group))
        points = _trend_points(
            history[metric.code],
            metric,
            period,
            periods,
            metrics,
            stats_now,
            stats_before,
            min_group,
        )
        trends.append(_trend(metric, points))
    return scorecard, trends


def _scorecard_entry(centre_id, row, metric, stats, previous, min_group) -> dict:
    """One metric's line of the scorecard: the figure, its peers, target and trend."""
    disclosed = peers.disclosable(stats, min_group)
    percentile, band = peers.position(metric, stats, row.value) if disclosed else (None, None)
    previous_text = fmt.figure(previous[1], metric.decimals, metric.unit) if previous else ""
    marks = fmt.trend_marks(
        row.value,
        previous[1] if previous else None,
        metric.decimals,
        metric.direction,
        previous_text,
    )
    met = fmt.target_met(row.value, metric.target, metric.decimals, metric.direction)
    return {
        "code": metric.code,
        "version": metric.version,
        "name": metric.name,
        "service_line": metric.service_line.name,
        "section": fmt.section_for(metric.code, metric.unit),
        "unit": metric.unit,
        "decimals": metric.decimals,
        "direction": metric.direction,
        "value": fmt.plain(row.value, metric.decimals),
        "value_text": fmt.figure(row.value, metric.decimals, metric.unit),
        "numerator": fmt.plain(row.numerator, 2) if row.numerator is not None else "",
        "denominator": fmt.plain(row.denominator, 0) if row.denominator is not None else "",
        "numerator_label": metric.numerator_label,
        "denominator_label": metric.denominator_label,
        "is_share": metric.is_share,
        "target_text": fmt.figure(metric.target, metric.decimals, metric.unit)
        if metric.target is not None
        else "",
        "target_met": met,
        # Shown in its own column: the target, or "No target"; then met or missed beside it.
        "target_shown": fmt.figure(metric.target, metric.decimals, metric.unit)
        if metric.target is not None
        else fmt.NO_TARGET,
        "target_status": fmt.target_status(met),
        "peer_n": stats.n if disclosed else None,
        "peers_disclosed": disclosed,
        "in_peer_group": peers.is_peer(stats, centre_id),
        "median": fmt.plain(stats.median, metric.decimals) if disclosed else "",
        "median_text": fmt.figure(stats.median, metric.decimals, metric.unit) if disclosed else "",
        "percentile": fmt.percentile_text(percentile) if percentile is not None else "",
        "band": band,
        "band_label": fmt.band_label(band),
        **marks,
        "previous_text": previous_text,
        "previous_period": previous[0] if previous else "",
        "restated": row.revision > 1,
        "flag": row.flag_status,
    }


def _trend_points(series, metric, period, periods, metrics, stats_now, stats_before, min_group):
    """The metric's value and disclosed peer median in each quarter of the trend window."""
    points = []
    for p in periods:
        past = series.get(p.id)
        past_metric = metrics[past.metric_id] if past is not None else metric
        group = (stats_now if p.id == period.id else stats_before).get((past_metric.id, p.id))
        points.append(
            {
                "label": p.label,
                "value": float(past.value) if past is not None else None,
                "median": group.median if peers.disclosable(group, min_group) else None,
                "version": past_metric.version,
            }
        )
    return points


def _trend(metric, points) -> dict:
    return {
        "code": metric.code,
        "name": metric.name,
        "rows": [
            {
                "label": p["label"],
                "value_text": fmt.figure(p["value"], metric.decimals, metric.unit),
                "median_text": fmt.figure(p["median"], metric.decimals, metric.unit),
                "version": p["version"],
            }
            for p in points
        ],
        "chart": trend_chart(points, decimals=metric.decimals, unit=metric.unit, name=metric.name),
    }


def _previous(series, periods, period_id, metric, metrics):
    """(period label, value) of the latest earlier figure on the same definition, if any."""
    for p in reversed([p for p in periods if p.id != period_id]):
        row = series.get(p.id)
        if row is not None:
            return (
                (p.label, row.value) if metrics[row.metric_id].version == metric.version else None
            )
    return None


def _restatements(period, observation_ids) -> dict[int, list[dict]]:
    """Restatements by centre: all of this period's; earlier periods' made since it began."""
    if not observation_ids:
        return {}
    o = Observation.__table__
    r = ObservationRevision.__table__
    found: dict[int, list[dict]] = defaultdict(list)
    for start in range(0, len(observation_ids), 5000):
        chunk = observation_ids[start : start + 5000]
        for row in db.session.execute(
            select(
                r.c.observation_id,
                r.c.revision,
                r.c.value,
                r.c.superseded_at,
                r.c.reason,
                o.c.centre_id,
                o.c.metric_id,
                o.c.period_id,
                o.c.value.label("current_value"),
                o.c.revision.label("current_revision"),
            )
            .join(o, o.c.id == r.c.observation_id)
            .where(r.c.observation_id.in_(chunk))
            .order_by(r.c.superseded_at, r.c.observation_id, r.c.revision)
        ):
            if row.period_id != period.id and row.superseded_at.date() < period.starts_on:
                continue
            found[row.centre_id].append(row._asdict())
    return found


def _library(metrics) -> dict:
    """The definitions used, each with its version, and a short fingerprint of the set."""
    used = sorted(metrics.values(), key=lambda m: (m.service_line.position, m.position, m.code))
    fingerprint = hashlib.sha256(
        ",".join(
            f"{m.code}@{m.version}" for m in sorted(used, key=lambda m: (m.code, m.version))
        ).encode()
    ).hexdigest()[:10]
    return {
        "fingerprint": fingerprint,
        "definitions": [
            {
                "code": m.code,
                "version": m.version,
                "name": m.name,
                "service_line": m.service_line.name,
                "definition": m.definition,
                "unit": m.unit_label,
                "unit_name": fmt.unit_name(m.unit),
                "direction": "Higher is better" if m.direction == "higher" else "Lower is better",
                "reference": m.reference,
            }
            for m in used
        ],
    }
