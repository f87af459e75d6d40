"""Projected annual cost of the compared centres for a buyer's volumes (DOMAIN.md).

For each cost driver the buyer gives (benchmarks/drivers.py): each centre's projected cost =
annual volume × the centre's latest published unit cost of the driver's metric (its current
definition); beside it, the peer p25–median–p75 cost for the same volume, from the newest
published peer group of that metric (narrowed, when the comparison is). A centre's total is
the sum over the drivers; it is given only when the centre has a published unit cost for
every driver asked for (a partial total would look cheap). The saving is against the buyer's
current provider (one of the compared centres) or a current annual cost in £; the price
score is the usual formula (pricing.py) over the totals.

Money stays Decimal here; pages and exports round it through marketplace/formatting.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from marketplace.benchmarks import drivers, narrowing, peers
from marketplace.benchmarks.drivers import Driver
from marketplace.benchmarks.models import Metric, Observation, PeerStatistic, ReportingPeriod
from marketplace.benchmarks.visibility import Audience
from marketplace.errors import FieldError, ValidationFailed
from marketplace.extensions import db
from marketplace.selection.compare import CentreColumn
from marketplace.selection.pricing import price_scores

PUBLISHED = "published"


@dataclass
class CostLine:
    driver: Driver
    volume: int
    unit_cost: Decimal | None
    period: ReportingPeriod | None  # where the unit cost was published
    cost: Decimal | None
    decimals: int = 2  # the unit-cost metric's, for showing the unit cost


@dataclass
class CentreCost:
    slug: str
    name: str
    lines: list[CostLine]
    total: Decimal | None = None  # None unless every driver has a unit cost
    saving: Decimal | None = None  # current cost − total; negative = dearer
    price_score: Decimal | None = None
    is_current: bool = False

    @property
    def missing(self) -> list[Driver]:
        return [line.driver for line in self.lines if line.cost is None]


@dataclass
class PeerRange:
    driver: Driver
    metric: Metric | None
    volume: int
    period: ReportingPeriod | None
    n: int | None
    label: str  # the group's definition with n
    p25: Decimal | None = None
    median: Decimal | None = None
    p75: Decimal | None = None
    withheld: str | None = None  # why the range is not shown


@dataclass
class Projection:
    volumes: dict[str, int]
    centres: list[CentreCost]
    peer_ranges: list[PeerRange]
    peer_filter: narrowing.PeerFilter
    current_provider: str | None = None
    current_cost: Decimal | None = None  # the figure savings are measured against
    notes: list[str] = field(default_factory=list)

    @property
    def drivers(self) -> list[Driver]:
        return [drivers.BY_CODE[code] for code in self.volumes]


# --- parsing ---------------------------------------------------------------------------------


def parse_volumes(text: str | None) -> dict[str, int]:
    """'payslips:120000,invoices:40000' -> {driver: volume}; {} when not given."""
    if text is None or not text.strip():
        return {}
    volumes: dict[str, int] = {}
    problems = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        code, sep, raw = part.partition(":")
        code, raw = code.strip(), raw.strip().replace("_", "")
        if code not in drivers.BY_CODE:
            problems.append(
                f"'{code}' is not a cost driver. Choose from: {', '.join(drivers.DRIVER_CODES)}."
            )
            continue
        volume = int(raw) if sep and raw.isascii() and raw.isdigit() and len(raw) <= 10 else None
        if volume is None or not drivers.MIN_VOLUME <= volume <= drivers.MAX_VOLUME:
            problems.append(
                f"Give the annual volume of {code} as a whole number from "
                f"{drivers.MIN_VOLUME} to {drivers.MAX_VOLUME:,}."
            )
        elif code in volumes:
            problems.append(f"{code} is given twice.")
        else:
            volumes[code] = volume
    if problems:
        raise ValidationFailed(
            "The volumes could not be read.",
            errors=[FieldError(message, "volumes") for message in problems],
        )
    return volumes


def volumes_from_form(form: Mapping) -> dict[str, int]:
    """volume:<driver> fields (blank = not wanted) -> {driver: volume}."""
    parts = []
    problems = []
    for driver in drivers.DRIVERS:
        raw = (form.get(f"volume:{driver.code}") or "").strip().replace(",", "")
        if not raw:
            continue
        if not (raw.isascii() and raw.isdigit()):
            problems.append(
                FieldError(
                    f"Give the {driver.noun} a year as a whole number, like 120000.",
                    f"volume:{driver.code}",
                )
            )
            continue
        parts.append(f"{driver.code}:{raw[:11]}")
    if problems:
        raise ValidationFailed("The volumes could not be read.", errors=problems)
    try:
        return parse_volumes(",".join(parts))
    except ValidationFailed as error:
        # Name the form field the problem is in, for the error summary's link.
        raise ValidationFailed(
            error.detail,
            errors=[
                FieldError(e.message, f"volume:{_driver_named(e.message)}") for e in error.errors
            ],
        ) from None


def _driver_named(message: str) -> str:
    return next((d.code for d in drivers.DRIVERS if f" {d.code} " in f" {message} "), "")


# --- reading ---------------------------------------------------------------------------------


def _driver_metrics(codes: Sequence[str]) -> dict[str, Metric]:
    metric_codes = [drivers.BY_CODE[code].metric_code for code in codes]
    found = db.session.execute(
        select(Metric).where(Metric.code.in_(metric_codes), Metric.is_current.is_(True))
    ).scalars()
    by_metric_code = {metric.code: metric for metric in found}
    return {
        code: by_metric_code[drivers.BY_CODE[code].metric_code]
        for code in codes
        if drivers.BY_CODE[code].metric_code in by_metric_code
    }


def _latest_unit_costs(
    metric_ids: Sequence[int], centre_ids: Sequence[int]
) -> dict[tuple[int, int], tuple[Decimal, ReportingPeriod]]:
    """(metric_id, centre_id) -> the latest published value and its period.

    The database picks each pair's newest published row (a window function), so only one
    row per centre and driver comes back, not every quarter of its history.
    """
    if not metric_ids or not centre_ids:
        return {}
    o, p = Observation.__table__.c, ReportingPeriod.__table__.c
    ranked = (
        select(
            o.metric_id,
            o.centre_id,
            o.value,
            o.period_id,
            func.row_number()
            .over(
                partition_by=(o.metric_id, o.centre_id), order_by=(p.year.desc(), p.quarter.desc())
            )
            .label("newest"),
        )
        .join(ReportingPeriod.__table__, p.id == o.period_id)
        .where(
            o.metric_id.in_(list(metric_ids)),
            o.centre_id.in_(list(centre_ids)),
            p.status == PUBLISHED,
        )
        .subquery()
    )
    rows = db.session.execute(
        select(ranked.c.metric_id, ranked.c.centre_id, ranked.c.value, ranked.c.period_id).where(
            ranked.c.newest == 1
        )
    ).all()
    periods = {
        period.id: period
        for period in db.session.scalars(
            select(ReportingPeriod).where(ReportingPeriod.id.in_({row[3] for row in rows}))
        )
    }
    return {(m, c): (value, periods[period_id]) for m, c, value, period_id in rows}


def _newest_published_groups(metric_ids: Sequence[int]) -> dict[int, PeerStatistic]:
    """The newest published period's stored group of each metric.

    Two light queries: which (metric, period) pairs have a published group (no values read),
    then only the newest pair of each metric in full.
    """
    if not metric_ids:
        return {}
    pairs = db.session.execute(
        select(PeerStatistic.metric_id, PeerStatistic.period_id)
        .join(ReportingPeriod, ReportingPeriod.id == PeerStatistic.period_id)
        .where(PeerStatistic.metric_id.in_(list(metric_ids)), ReportingPeriod.status == PUBLISHED)
        .order_by(*ReportingPeriod.newest_first())
    ).all()
    newest: dict[int, int] = {}
    for metric_id, period_id in pairs:
        newest.setdefault(metric_id, period_id)
    if not newest:
        return {}
    loaded = peers.stats_for(newest, set(newest.values()))
    return {metric_id: loaded[metric_id, period_id] for metric_id, period_id in newest.items()}


def _peer_groups(
    audience: Audience,
    metric_ids: Sequence[int],
    peer_filter: narrowing.PeerFilter,
    known: Mapping[tuple[int, int], object] | None = None,
) -> dict[int, tuple[ReportingPeriod, object, bool, str | None]]:
    """metric id -> (period, group, visible, why withheld) for the peer cost range.

    `known`: groups already computed with this filter ((metric id, period id) -> group, as a
    comparison's rows hold them), used instead of computing them again.
    """
    stored = _newest_published_groups(metric_ids)
    result: dict[int, tuple[ReportingPeriod, object, bool, str | None]] = {}
    by_period: dict[int, dict[int, PeerStatistic]] = {}
    for metric_id, stats in stored.items():
        group = (known or {}).get((metric_id, stats.period_id))
        if group is not None and peer_filter.narrowed:
            period = db.session.get(ReportingPeriod, stats.period_id)
            result[metric_id] = (period, group, group.disclosable, group.too_few)
            continue
        by_period.setdefault(stats.period_id, {})[metric_id] = stats
    for period_id, groups in by_period.items():
        period = db.session.get(ReportingPeriod, period_id)
        if peer_filter.narrowed:
            # One query for every driver metric of the period.
            for metric_id, group in narrowing.narrowed_groups(peer_filter, period, groups).items():
                result[metric_id] = (period, group, group.disclosable, group.too_few)
            continue
        for metric_id, stats in groups.items():
            visible = audience.stats_visible(period, stats)
            why = None if visible else f"Fewer than {audience.threshold} centres"
            result[metric_id] = (period, stats, visible, why)
    return result


def _peer_range(
    driver: Driver,
    metric: Metric | None,
    volume: int,
    found: tuple | None,
    peer_filter: narrowing.PeerFilter,
) -> PeerRange:
    if metric is None or found is None:
        return PeerRange(
            driver, metric, volume, None, None, peer_filter.label(None), withheld="No peer group"
        )
    period, group, visible, withheld = found
    result = PeerRange(
        driver, metric, volume, period, group.n, peer_filter.label(group.n), withheld=withheld
    )
    if visible:
        result.p25 = drivers.annual_cost(volume, group.p25, driver)
        result.median = drivers.annual_cost(volume, group.median, driver)
        result.p75 = drivers.annual_cost(volume, group.p75, driver)
    return result


def project(
    audience: Audience,
    centres: Sequence[CentreColumn],
    volumes: Mapping[str, int],
    *,
    peer_filter: narrowing.PeerFilter = narrowing.STANDARD,
    current_provider: str | None = None,
    current_cost: Decimal | None = None,
    known_groups: Mapping[tuple[int, int], object] | None = None,
) -> Projection:
    """Projected annual costs of the centres for these volumes (see the module).

    known_groups: the comparison's narrowed groups ((metric id, period id) -> group), so a
    group the comparison already computed is not computed again (comparison_groups()).
    """
    narrowing.require_narrowing(audience, peer_filter)
    slugs = [c.slug for c in centres]
    if current_provider and current_provider not in slugs:
        raise ValidationFailed(
            "The current provider is not one of the compared centres.",
            errors=[
                FieldError(
                    "Choose the current provider from the compared centres.", "current_provider"
                )
            ],
        )
    if current_provider and current_cost is not None:
        raise ValidationFailed(
            "Give either the current provider or the current annual cost, not both.",
            errors=[FieldError("Give the current provider or the cost, not both.", "current_cost")],
        )
    metrics = _driver_metrics(list(volumes))
    metric_ids = [m.id for m in metrics.values()]
    costs = _latest_unit_costs(metric_ids, [c.id for c in centres])
    result_centres = []
    for centre in centres:
        lines = []
        for code, volume in volumes.items():
            driver, metric = drivers.BY_CODE[code], metrics.get(code)
            found = costs.get((metric.id, centre.id)) if metric is not None else None
            unit_cost, period = found if found is not None else (None, None)
            cost = drivers.annual_cost(volume, unit_cost, driver) if found is not None else None
            decimals = metric.decimals if metric is not None else 2
            lines.append(CostLine(driver, volume, unit_cost, period, cost, decimals))
        total = None
        if lines and all(line.cost is not None for line in lines):
            total = sum((line.cost for line in lines), Decimal(0))
        result_centres.append(
            CentreCost(
                centre.slug, centre.name, lines, total, is_current=centre.slug == current_provider
            )
        )
    groups = _peer_groups(audience, metric_ids, peer_filter, known_groups)
    ranges = [
        _peer_range(
            drivers.BY_CODE[code],
            metrics.get(code),
            volume,
            groups.get(metrics[code].id) if code in metrics else None,
            peer_filter,
        )
        for code, volume in volumes.items()
    ]
    projection = Projection(
        volumes=dict(volumes),
        centres=result_centres,
        peer_ranges=ranges,
        peer_filter=peer_filter,
        current_provider=current_provider,
    )
    _savings_and_scores(projection, current_cost)
    return projection


def _savings_and_scores(projection: Projection, current_cost: Decimal | None) -> None:
    if projection.current_provider:
        current = next(c for c in projection.centres if c.is_current)
        current_cost = current.total
        if current_cost is None:
            projection.notes.append(
                f"{current.name} has no published unit cost for every volume given, so no "
                "saving is worked out."
            )
    projection.current_cost = current_cost
    for centre in projection.centres:
        if current_cost is not None and centre.total is not None:
            centre.saving = current_cost - centre.total
    scores = price_scores({c.slug: c.total for c in projection.centres})
    for centre in projection.centres:
        centre.price_score = scores[centre.slug]


def comparison_groups(comparison) -> dict[tuple[int, int], object]:
    """A comparison's narrowed groups, keyed for project(known_groups=…)."""
    if comparison.period is None:
        return {}
    return {
        (row.metric.id, comparison.period.id): row.narrowed
        for row in comparison.rows
        if row.narrowed is not None
    }
