"""Reading benchmark figures for pages and the API: periods, values, standings and trends.

The statistics themselves come from marketplace.benchmarks.peers (stored per group); this
module only fetches them in few queries and applies the visibility rules of visibility.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Protocol

from marketplace.benchmarks import peers
from marketplace.benchmarks.models import Metric, Observation, PeerStatistic, ReportingPeriod
from marketplace.benchmarks.periods import code_for, parse_code
from marketplace.benchmarks.visibility import Audience
from marketplace.errors import NotFound
from marketplace.extensions import db

TREND_QUARTERS = 8
# Relative change below which a trend reads as steady rather than up or down.
STEADY_TOLERANCE = 0.005


class Reading(Protocol):
    """One stored value as the pages need it: a result row, not an ORM object."""

    value: Decimal
    revision: int


def visible_periods(audience: Audience) -> list[ReportingPeriod]:
    """Every period this audience may see, newest first."""
    query = db.select(ReportingPeriod).order_by(*ReportingPeriod.newest_first())
    if not audience.sees_unpublished:
        query = query.where(ReportingPeriod.status == "published")
    return list(db.session.execute(query).scalars())


def change_kind(period: ReportingPeriod, revision: int, updated_at) -> str | None:
    """How a stored figure was changed, in the words the service uses everywhere:

    "restated" when a published figure was changed (only an approved restatement can, after
    the period was published); "corrected" when it was changed before publication, inside
    an open (or closed, unpublished) period; None for a figure never changed.
    """
    if revision <= 1:
        return None
    if (
        period.status == "published"
        and period.published_at is not None
        and updated_at is not None
        and updated_at > period.published_at
    ):
        return "restated"
    return "corrected"


def default_period(periods: Sequence[ReportingPeriod]) -> ReportingPeriod | None:
    """The newest published period of `periods` (newest first), else the newest of them."""
    for period in periods:
        if period.status == "published":
            return period
    return periods[0] if periods else None


def resolve_period(
    audience: Audience,
    code: str | None,
    periods: Sequence[ReportingPeriod],
    *,
    wanted_id: int | None = None,
) -> ReportingPeriod | None:
    """The period asked for (it must be visible), or by default the latest published one.

    Buyers and admins may also see unpublished periods, but only when they choose one: the
    default is the newest published period (the newest visible one if none is published).
    Without the list of visible periods (an empty `periods`), the one period is read alone:
    by its code, or by `wanted_id` when no code was given.
    """
    if not code:
        if wanted_id is not None and not periods:
            return db.session.get(ReportingPeriod, wanted_id)
        return default_period(periods)
    year, quarter = parse_code(code)
    wanted = code_for(year, quarter)
    if not periods:
        period = db.session.execute(
            db.select(ReportingPeriod).where(ReportingPeriod.code == wanted)
        ).scalar_one_or_none()
        if period is not None and audience.period_visible(period):
            return period
        periods = ()
    for period in periods:
        if period.code == wanted:
            return period
    if audience.sees_unpublished:
        raise NotFound(f"There is no reporting period {wanted}.")
    raise NotFound(f"There are no published figures for {wanted}.")


def quarter_codes_ending(code: str, count: int = TREND_QUARTERS) -> list[str]:
    """The `count` quarters up to and including `code`, oldest first."""
    year, quarter = parse_code(code)
    index = year * 4 + quarter - 1
    return [code_for(i // 4, i % 4 + 1) for i in range(index - count + 1, index + 1)]


def trend_window(
    period: ReportingPeriod, periods: Sequence[ReportingPeriod], count: int = TREND_QUARTERS
) -> list[tuple[str, ReportingPeriod | None]]:
    """The last `count` quarters to `period`, oldest first: (label, visible period or None)."""
    by_code = {p.code: p for p in periods}
    return [
        (label_for(code), by_code.get(code)) for code in quarter_codes_ending(period.code, count)
    ]


def label_for(code: str) -> str:
    """'2026-Q1' -> 'Q1 2026', as ReportingPeriod.label writes it."""
    year, quarter = parse_code(code)
    return f"Q{quarter} {year}"


def readings(
    metric_ids: Iterable[int],
    period_ids: Iterable[int],
    centre_ids: Iterable[int] | None = None,
) -> dict[tuple[int, int, int], Reading]:
    """Stored values keyed (metric_id, period_id, centre_id), in one query."""
    metric_ids, period_ids = sorted(set(metric_ids)), sorted(set(period_ids))
    if not metric_ids or not period_ids:
        return {}
    o = Observation.__table__.c
    query = db.select(
        o.metric_id, o.period_id, o.centre_id, o.value, o.revision, o.updated_at
    ).where(o.metric_id.in_(metric_ids), o.period_id.in_(period_ids))
    if centre_ids is not None:
        centre_ids = sorted(set(centre_ids))
        if not centre_ids:
            return {}
        query = query.where(o.centre_id.in_(centre_ids))
    # Rows are tuples too: indexing is much cheaper than attribute lookup on a thousand rows.
    return {(row[0], row[1], row[2]): row for row in db.session.execute(query).all()}


def standing(
    audience: Audience,
    metric: Metric,
    period: ReportingPeriod,
    stats: PeerStatistic | None,
    centre_id: int,
    value,
) -> tuple[float | None, int | None]:
    """(percentile, band) of a centre's value, if this audience may see them and it is a peer."""
    if value is None or not audience.stats_visible(period, stats):
        return None, None
    if not peers.is_peer(stats, centre_id):
        return None, None
    return peers.position(metric, stats, value)


def trend_direction(series: Sequence[float | None], *, higher_is_better: bool) -> str | None:
    """'improving', 'worsening' or 'steady' from the last two values in a series; None if fewer.

    Direction-aware: for a cost (lower is better) a fall is an improvement.
    """
    known = [v for v in series if v is not None]
    if len(known) < 2:
        return None
    previous, latest = known[-2], known[-1]
    scale = max(abs(previous), abs(latest), 1e-12)
    if abs(latest - previous) / scale < STEADY_TOLERANCE:
        return "steady"
    went_up = latest > previous
    return "improving" if went_up == higher_is_better else "worsening"


TREND_LABELS = {"improving": "Improving", "worsening": "Worsening", "steady": "Steady"}
TREND_ARROWS = {"improving": "▲", "worsening": "▼", "steady": "▶"}


def as_float(value) -> float | None:
    return None if value is None else float(value)
