"""The peer distribution of one metric: every visible period's statistics, and one period's
centres with their values, percentiles and bands (the /metrics/<code> page and the API)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import NamedTuple, overload

from sqlalchemy import DateTime, Row, and_, case, type_coerce

from marketplace.benchmarks import narrowing, peers, readings
from marketplace.benchmarks.models import Metric, Observation, PeerStatistic, ReportingPeriod
from marketplace.benchmarks.periods import code_for, parse_code
from marketplace.benchmarks.visibility import Audience
from marketplace.catalogue.models import ServiceCentre
from marketplace.catalogue.services import PUBLIC_STATUSES
from marketplace.db import UTCDateTime
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db


@dataclass
class PeriodStatistics:
    """One period's group for one version of the metric, as this audience may see it."""

    period: ReportingPeriod
    metric: Metric
    stats: PeerStatistic | GroupFigures | None
    visible: bool  # the five figures may be shown
    below_threshold: bool  # fewer centres than the public threshold

    @property
    def published(self) -> bool:
        return self.period.status == "published"


@dataclass(slots=True)
class CentreStanding:
    centre_id: int
    slug: str
    name: str
    listed: bool  # has a public catalogue page
    value: Decimal
    percentile: float | None
    band: int | None
    restated: bool
    in_group: bool
    is_own: bool


@dataclass
class Distribution:
    metric: Metric  # the current definition
    versions: list[Metric]
    periods: list[ReportingPeriod]  # visible, newest first
    history: list[PeriodStatistics]  # newest first
    period: ReportingPeriod | None  # the period whose centres are listed
    selected: PeriodStatistics | None
    centres: Standings = field(default_factory=lambda: Standings())
    threshold: int = 5
    peer_filter: narrowing.PeerFilter = narrowing.STANDARD
    # The selected period's narrowed group, when the reader narrowed it (its centres are
    # then the narrowed group's members, placed within it).
    narrowed: narrowing.NarrowedStatistic | None = None

    # Cached: the template asks once per history row, and the history never changes once built.
    @cached_property
    def has_version_break(self) -> bool:
        return len({row.metric.version for row in self.history}) > 1


def metric_versions(code: str) -> list[Metric]:
    versions = list(
        db.session.execute(db.select(Metric).where(Metric.code == code).order_by(Metric.version))
        .scalars()
        .all()
    )
    if not versions:
        raise NotFound(f"There is no metric '{code}' in the library.")
    return versions


def distribution(
    audience: Audience,
    code: str,
    period_code: str | None = None,
    *,
    with_history: bool = True,
    peer_filter: narrowing.PeerFilter = narrowing.STANDARD,
) -> Distribution:
    """The metric's statistics for every visible period (with_history) or only the one asked
    for (else the newest with figures), and that period's centres.

    With a narrowing peer_filter (signed-in readers only: PermissionDenied otherwise), the
    selected period's group is narrowed too, and its centres are placed within it; the
    history stays the standard groups'.
    """
    narrowing.require_narrowing(audience, peer_filter)
    all_stats: dict[tuple[int, int], PeerStatistic | GroupFigures]
    if with_history:
        # Every period (the page): only their five figures, and the chosen group's values
        # afterwards.
        versions, periods, all_stats = _every_period(audience, code)
        wanted = periods
    else:
        # One period only (the API): read just that one, its groups whole at once.
        found = _one_period(audience, code, period_code) if period_code else None
        if found is not None:
            versions, period, all_stats = found
        else:  # the newest period with figures, or a refusal to explain
            versions = metric_versions(code)
            by_id = {m.id: m for m in versions}
            newest = None if period_code else _newest_with_figures(audience, by_id)
            period = (
                readings.resolve_period(audience, period_code, [], wanted_id=newest)
                if (period_code or newest)
                else None
            )
            all_stats = peers.stats_for(by_id, [period.id] if period is not None else [])
        periods = wanted = [period] if period is not None else []
    current = next((m for m in versions if m.is_current), versions[-1])
    history = []
    for period in wanted:
        for metric in sorted(versions, key=lambda m: -m.version):
            stats = all_stats.get((metric.id, period.id))
            if stats is None:
                continue
            history.append(
                PeriodStatistics(
                    period=period,
                    metric=metric,
                    stats=stats,
                    visible=audience.stats_visible(period, stats),
                    below_threshold=audience.below_threshold(stats),
                )
            )
    if period_code:
        period = readings.resolve_period(audience, period_code, periods)
    else:
        # The newest period with any figures for this metric, else simply the newest period.
        period = history[0].period if history else (periods[0] if periods else None)
    result = Distribution(
        metric=current,
        versions=versions,
        periods=periods,
        history=history,
        period=period,
        selected=None,
        threshold=audience.threshold,
        peer_filter=peer_filter,
    )
    if period is None:
        return result
    in_period = [row for row in history if row.period.id == period.id]
    # The current definition when it has figures here, else the newest version that has.
    selected = next((row for row in in_period if row.metric.is_current), None) or (
        in_period[0] if in_period else None
    )
    metric = selected.metric if selected else current
    stats = None
    if selected is not None:
        stats = peers.group_stats(metric.id, period.id) if with_history else selected.stats
        selected.stats = stats
    result.selected = selected
    if peer_filter.narrowed:
        group = narrowing.narrowed_group(peer_filter, period, metric.id, stats)
        result.narrowed = group
        result.centres = _standings(
            audience,
            metric,
            period,
            group,
            ranked=group.disclosable and audience.period_visible(period),
        )
    else:
        result.centres = _standings(audience, metric, period, stats)
    return result


class GroupFigures(NamedTuple):
    """A stored group's n and five figures without its sorted values: all that the history
    table, the chart and the visibility rules read of the periods not chosen."""

    n: int
    minimum: float | None
    p25: float | None
    median: float | None
    p75: float | None
    maximum: float | None


def _every_period(
    audience: Audience, code: str
) -> tuple[list[Metric], list[ReportingPeriod], dict[tuple[int, int], GroupFigures]]:
    """The metric's versions (oldest first), the periods this audience may see (newest
    first) and each version's figures in each, keyed (metric id, period id).

    One statement, every visible period × every version of the metric with its group's
    figures if it has one, where the versions, the periods and the statistics were three.
    """
    ps = PeerStatistic.__table__.c
    query = (
        db.select(ReportingPeriod, Metric, ps.n, ps.minimum, ps.p25, ps.median, ps.p75, ps.maximum)
        .select_from(ReportingPeriod)
        .join(Metric, Metric.code == code)
        .outerjoin(
            PeerStatistic.__table__,
            and_(ps.metric_id == Metric.id, ps.period_id == ReportingPeriod.id),
        )
        .order_by(*ReportingPeriod.newest_first(), Metric.version.desc())
    )
    if not audience.sees_unpublished:
        query = query.where(ReportingPeriod.status == "published")
    rows = db.session.execute(query).all()
    if not rows:  # no such metric (NotFound), or no period this audience may see
        return metric_versions(code), [], {}
    periods: list[ReportingPeriod] = []
    versions: dict[int, Metric] = {}
    figures: dict[tuple[int, int], GroupFigures] = {}
    for period, metric, n, *five in rows:
        if not periods or periods[-1] is not period:
            periods.append(period)
        versions[metric.id] = metric
        if n is not None:
            figures[(metric.id, period.id)] = GroupFigures(n, *five)
    return sorted(versions.values(), key=lambda m: m.version), periods, figures


def _one_period(
    audience: Audience, code: str, period_code: str
) -> tuple[list[Metric], ReportingPeriod, dict[tuple[int, int], PeerStatistic]] | None:
    """The metric's versions (oldest first), the period asked for and each version's group
    in it with its sorted values, in one statement where three were read.

    None when that finds nothing to show (no such metric or period, a malformed code, a
    period this audience may not see): the caller reads them one by one to say which.
    """
    try:
        wanted = code_for(*parse_code(period_code))
    except ValidationFailed:
        return None
    query = (
        db.select(Metric, ReportingPeriod, PeerStatistic)
        .select_from(Metric)
        .join(ReportingPeriod, ReportingPeriod.code == wanted)
        .outerjoin(
            PeerStatistic,
            and_(
                PeerStatistic.metric_id == Metric.id,
                PeerStatistic.period_id == ReportingPeriod.id,
            ),
        )
        .where(Metric.code == code)
    )
    rows = db.session.execute(query).all()
    if not rows or not audience.period_visible(rows[0][1]):
        return None
    versions = sorted(
        {metric.id: metric for metric, _, _ in rows}.values(), key=lambda m: m.version
    )
    groups = {(s.metric_id, s.period_id): s for _, _, s in rows if s is not None}
    return versions, rows[0][1], groups


def _newest_with_figures(audience: Audience, metric_ids) -> int | None:
    """The newest period this audience may see that has statistics for the metric."""
    query = (
        db.select(PeerStatistic.period_id)
        .join(ReportingPeriod, ReportingPeriod.id == PeerStatistic.period_id)
        .where(PeerStatistic.metric_id.in_(list(metric_ids)))
        .order_by(*ReportingPeriod.newest_first())
        .limit(1)
    )
    if not audience.sees_unpublished:
        query = query.where(ReportingPeriod.status == "published")
    return db.session.execute(query).scalar_one_or_none()


class Standings(Sequence[CentreStanding]):
    """A period's centres, best first, each made a CentreStanding (placed in its group, its
    change read) only when it is read.

    The metric page shows a hundred of a national group's thousand and counts the rest; the
    API reads them all. The order is the stored values' and names', so it needs no placing.
    """

    def __init__(self, rows: list[Row] | None = None, make=None, own_centre_id=None):
        self._rows = rows or []
        self._make = make
        self._own = own_centre_id

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> CentreStanding: ...
    @overload
    def __getitem__(self, index: slice) -> list[CentreStanding]: ...
    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._make(row) for row in self._rows[index]]
        return self._make(self._rows[index])

    def __iter__(self) -> Iterator[CentreStanding]:
        return map(self._make, self._rows)

    @property
    def own(self) -> list[CentreStanding]:
        """The viewer's own centre, if it reported (whether or not it is a peer)."""
        if self._own is None:
            return []
        return [self._make(row) for row in self._rows if row[0] == self._own]


def _standings(
    audience: Audience,
    metric: Metric,
    period: ReportingPeriod,
    stats: PeerStatistic | narrowing.NarrowedStatistic | None,
    *,
    ranked: bool | None = None,
) -> Standings:
    """The group's members, plus the viewer's own centre if it reported but is not a peer.

    One query for every value of the metric in the period with its centre (no list of ids
    to bind: a national group has a thousand members); the rows are kept and sorted as
    they come, and placed only when read (see Standings).
    """
    member_ids = set(stats.peer_centre_ids) if stats is not None else set()
    own = audience.own_centre_id
    if ranked is None:
        ranked = audience.stats_visible(period, stats)
    everyone_shown = audience.period_visible(period)
    if not everyone_shown and own is None:
        return Standings()  # nobody's value may be shown: no need to read them
    o, c = Observation.__table__.c, ServiceCentre.__table__.c
    # updated_at matters only for a changed figure (revision > 1): reading it for every row
    # cost a timezone conversion each, a thousand per national group. PostgreSQL's driver
    # gives aware datetimes, which compare rightly with published_at as they come, so
    # UTCDateTime's per-row processing (a call even for NULL) is kept for SQLite alone,
    # which forgets the zone.
    changed_at = type_coerce(
        case((o.revision > 1, o.updated_at), else_=None),
        UTCDateTime().with_variant(DateTime(timezone=True), "postgresql"),
    )
    query = (
        db.select(
            o.centre_id, o.value, c.name, o.revision, c.slug, c.accreditation_status, changed_at
        )
        .join(ServiceCentre.__table__, c.id == o.centre_id)
        .where(o.metric_id == metric.id, o.period_id == period.id)
    )
    if not everyone_shown:
        query = query.where(o.centre_id == own)
    # Members' values are shown once the period is visible; the own centre's always.
    rows = [
        row
        for row in db.session.execute(query).all()
        if row[0] == own or (everyone_shown and row[0] in member_ids)
    ]
    sign = -1 if metric.direction == "higher" else 1
    rows.sort(key=lambda row: (sign * row[1], row[2].lower()))
    place = peers.placer(metric, stats if ranked else None)

    def make(row: Row) -> CentreStanding:
        centre_id, value, name, revision, slug, status, updated_at = row
        in_group = centre_id in member_ids
        percentile, band = place(value) if in_group else peers.NOWHERE
        # In field order, not by keyword: the API makes a thousand per answer, and keywords
        # took twice as long.
        return CentreStanding(
            centre_id,
            slug,
            name,
            status in PUBLIC_STATUSES,  # listed
            value,
            percentile,
            band,
            readings.change_kind(period, revision, updated_at) == "restated",
            in_group,
            centre_id == own,  # is_own
        )

    return Standings(rows, make, own)
