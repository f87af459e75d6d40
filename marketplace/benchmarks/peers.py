"""Peer groups and their statistics: who is compared with whom, kept up to date set-based.

A peer group is one metric in one period: the centres accredited on the period's last day
(today, while the period has not yet ended) that offer the metric's service line and have a
value. Each group's n, minimum, quartiles and maximum are stored in PeerStatistic with the
group's values in ascending order and its centre ids, so a centre's percentile and band are
binary searches on read (see statistics.py for the method).

Recomputing rebuilds whole groups from the observations in one set-based statement:
PostgreSQL aggregates in the database (percentile_cont and json_agg in one grouped query);
SQLite, which has neither, reads one ordered query and aggregates in Python with the same
float arithmetic. Both give bit-identical statistics. Services here flush only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from itertools import groupby

from flask import current_app
from sqlalchemy import (
    ARRAY,
    Float,
    Integer,
    and_,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import defer

from marketplace import clock
from marketplace.benchmarks import statistics
from marketplace.benchmarks.models import Metric, Observation, PeerStatistic, ReportingPeriod
from marketplace.catalogue.accreditation import accredited_centre_ids_on
from marketplace.catalogue.models import centre_service_lines
from marketplace.extensions import db

Pair = tuple[int, int]
_stats = PeerStatistic.__table__


# --- who is in a group -------------------------------------------------------------------


def peer_day(period: ReportingPeriod) -> date:
    """The day accreditation is judged for a period: its last day, or today if that is later.

    A period still running has no last day yet; the group is drawn from the centres
    accredited today, and settles once the period has ended (see recompute_open_periods).
    """
    return min(period.ends_on, clock.today())


def _eligible(period_days: dict[int, date]):
    """(period_id, centre_id) of the centres accredited on each period's peer day."""
    branches = []
    for period_id, day in sorted(period_days.items()):
        accredited = accredited_centre_ids_on(day).subquery()
        branches.append(
            select(
                literal(period_id, Integer).label("period_id"),
                accredited.c.centre_id.label("centre_id"),
            )
        )
    return union_all(*branches).cte("eligible")


def _members(period_days: dict[int, date], pairs: Sequence[Pair] | None):
    """The rows of every peer group in scope: metric, period, centre and value."""
    eligible = _eligible(period_days)
    o = Observation.__table__
    m = Metric.__table__
    query = (
        select(
            o.c.metric_id,
            o.c.period_id,
            o.c.centre_id,
            cast(o.c.value, Float).label("value"),
            o.c.value.label("exact_value"),
        )
        .join(m, m.c.id == o.c.metric_id)
        .join(
            centre_service_lines,
            and_(
                centre_service_lines.c.centre_id == o.c.centre_id,
                centre_service_lines.c.service_line_id == m.c.service_line_id,
            ),
        )
        .join(
            eligible,
            and_(eligible.c.period_id == o.c.period_id, eligible.c.centre_id == o.c.centre_id),
        )
    )
    if pairs is None:
        return query.where(o.c.period_id.in_(sorted(period_days)))
    return query.where(tuple_(o.c.metric_id, o.c.period_id).in_(pairs))


# --- recomputing ---------------------------------------------------------------------------


def recompute(pairs: Iterable[tuple[int, int]]) -> int:
    """Rebuild the statistics of the given (metric_id, period_id) groups.

    Call it in the same transaction as the change to the observations. Groups that have
    become empty lose their statistics. Returns how many of the groups now have statistics.
    """
    targets = sorted({(int(metric_id), int(period_id)) for metric_id, period_id in pairs})
    if not targets:
        return 0
    db.session.flush()
    period_days = _period_days({period_id for _, period_id in targets})
    # Chunked so that the number of bound parameters stays well inside every driver's limit.
    written = 0
    for start in range(0, len(targets), 2000):
        chunk = targets[start : start + 2000]
        db.session.execute(
            delete(_stats).where(tuple_(_stats.c.metric_id, _stats.c.period_id).in_(chunk))
        )
        chunk_days = {period_id: period_days[period_id] for _, period_id in chunk}
        written += _write(chunk_days, chunk)
    return written


def recompute_period(period_id: int) -> int:
    """Rebuild every group of one period; returns the number of groups with statistics."""
    db.session.flush()
    period_days = _period_days({period_id})
    if not period_days:
        return 0
    db.session.execute(delete(_stats).where(_stats.c.period_id == period_id))
    return _write(period_days, None)


def recompute_all() -> int:
    """Rebuild every group of every period in one statement; returns the number of groups."""
    db.session.flush()
    period_days = _period_days(None)
    db.session.execute(delete(_stats))
    if not period_days:
        return 0
    return _write(period_days, None)


def recompute_for_centre_change(centre_id: int, day: date) -> int:
    """Rebuild the groups a change to one centre from `day` on can alter.

    For accreditation changes (accredit, suspend, reinstate, withdraw, renew, with their
    effective day) and for changes to the service lines a centre offers. The centre only
    counts in groups where it has a value, so those are the groups of its observations in
    every period that ends on or after `day`.
    """
    db.session.flush()
    pairs = db.session.execute(
        select(Observation.metric_id, Observation.period_id)
        .join(ReportingPeriod, ReportingPeriod.id == Observation.period_id)
        .where(Observation.centre_id == centre_id, ReportingPeriod.ends_on >= day)
    ).all()
    return recompute((metric_id, period_id) for metric_id, period_id in pairs)


def recompute_open_periods() -> int:
    """Rebuild the groups of periods that have not yet ended, whose peer day is today.

    Accreditation lapses at the end of its validity without any event being recorded, so a
    running period's groups are redrawn daily (for example by `flask recompute-statistics
    --current`) as well as on every upload.
    """
    today = clock.today()
    period_ids = db.session.scalars(
        select(ReportingPeriod.id).where(ReportingPeriod.ends_on >= today)
    ).all()
    return sum(recompute_period(period_id) for period_id in period_ids)


def _period_days(period_ids: set[int] | None) -> dict[int, date]:
    query = select(ReportingPeriod.id, ReportingPeriod.ends_on)
    if period_ids is not None:
        query = query.where(ReportingPeriod.id.in_(sorted(period_ids)))
    today = clock.today()
    return {period_id: min(ends_on, today) for period_id, ends_on in db.session.execute(query)}


def _write(period_days: dict[int, date], pairs: Sequence[Pair] | None) -> int:
    members = _members(period_days, pairs)
    if db.session.get_bind().dialect.name == "postgresql":
        return _write_in_postgresql(members)
    return _write_in_python(members)


def _write_in_postgresql(members) -> int:
    """One INSERT … SELECT: the database sorts each group once per aggregate and stores it."""
    rows = members.subquery("members")
    value = rows.c.value
    grouped = (
        select(
            rows.c.metric_id,
            rows.c.period_id,
            func.count().label("n"),
            func.min(value).label("minimum"),
            func.max(value).label("maximum"),
            func.percentile_cont(literal([0.25, 0.5, 0.75], ARRAY(Float)))
            .within_group(value)
            .label("quartiles"),
            # The exact stored numbers, ascending: JSON readers parse them to the same
            # floats as the cast above, so reads agree with the quartiles to the last bit.
            func.json_agg(aggregate_order_by(rows.c.exact_value, rows.c.exact_value)).label(
                "peer_values"
            ),
            func.json_agg(aggregate_order_by(rows.c.centre_id, rows.c.centre_id)).label(
                "peer_centre_ids"
            ),
        )
        .group_by(rows.c.metric_id, rows.c.period_id)
        .subquery("grouped")
    )
    quartiles = type_coerce(grouped.c.quartiles, ARRAY(Float))
    source = select(
        grouped.c.metric_id,
        grouped.c.period_id,
        grouped.c.n,
        grouped.c.minimum,
        quartiles[1],
        quartiles[2],
        quartiles[3],
        grouped.c.maximum,
        grouped.c.peer_values,
        grouped.c.peer_centre_ids,
        literal(clock.now(), _stats.c.computed_at.type),
    )
    columns = [
        "metric_id",
        "period_id",
        "n",
        "minimum",
        "p25",
        "median",
        "p75",
        "maximum",
        "peer_values",
        "peer_centre_ids",
        "computed_at",
    ]
    written = db.session.execute(
        insert(_stats).from_select(columns, source).returning(_stats.c.id)
    ).all()
    return len(written)


def _write_in_python(members) -> int:
    """SQLite: one ordered read, grouped and summarised here with the same arithmetic."""
    ordered = members.order_by(
        Observation.__table__.c.metric_id,
        Observation.__table__.c.period_id,
    )
    now = clock.now()
    records = []
    for (metric_id, period_id), group in groupby(
        db.session.execute(ordered), key=lambda row: (row.metric_id, row.period_id)
    ):
        rows = list(group)
        values = sorted(float(row.value) for row in rows)
        summary = statistics.summary_of_sorted(values)
        records.append(
            {
                "metric_id": metric_id,
                "period_id": period_id,
                "n": summary.n,
                "minimum": summary.minimum,
                "p25": summary.p25,
                "median": summary.median,
                "p75": summary.p75,
                "maximum": summary.maximum,
                "peer_values": values,
                "peer_centre_ids": sorted(row.centre_id for row in rows),
                "computed_at": now,
            }
        )
    if records:
        db.session.execute(insert(_stats), records)
    return len(records)


# --- reading -------------------------------------------------------------------------------


def min_peer_group() -> int:
    """The confidentiality threshold (MIN_PEER_GROUP, default 5)."""
    return int(current_app.config.get("MIN_PEER_GROUP", 5))


def disclosable(stats: PeerStatistic | None, minimum: int | None = None) -> bool:
    """May this group's statistics be shown to the public?"""
    if stats is None:
        return False
    return statistics.can_disclose(stats.n, min_peer_group() if minimum is None else minimum)


def group_stats(metric_id: int, period_id: int) -> PeerStatistic | None:
    return db.session.execute(
        select(PeerStatistic).where(
            PeerStatistic.metric_id == metric_id, PeerStatistic.period_id == period_id
        )
    ).scalar_one_or_none()


def stats_for(
    metric_ids: Iterable[int], period_ids: Iterable[int], *, with_values: bool = True
) -> dict[Pair, PeerStatistic]:
    """The statistics of every (metric, period) combination asked for, in one query.

    with_values=False leaves the sorted values unread (they raise if touched): enough for
    quartiles and bands, and much lighter for pages that show many groups.
    """
    metric_ids, period_ids = sorted(set(metric_ids)), sorted(set(period_ids))
    if not metric_ids or not period_ids:
        return {}
    query = select(PeerStatistic).where(
        PeerStatistic.metric_id.in_(metric_ids), PeerStatistic.period_id.in_(period_ids)
    )
    if not with_values:
        query = query.options(
            defer(PeerStatistic.peer_values, raiseload=True),
            defer(PeerStatistic.peer_centre_ids, raiseload=True),
        )
    return {(s.metric_id, s.period_id): s for s in db.session.scalars(query)}


def is_peer(stats: PeerStatistic | None, centre_id: int) -> bool:
    """Was this centre in the group when its statistics were computed?"""
    return stats is not None and statistics.contains_sorted(stats.peer_centre_ids, centre_id)


def position(metric: Metric, stats: PeerStatistic | None, value) -> tuple[float | None, int | None]:
    """(percentile 0–100, band 1–4) of a peer's value in its group.

    (None, None) when there are no statistics, when the group has a single member (nobody to
    compare with), or when no peer has this value (the centre is not in the group).
    """
    if stats is None or stats.n < 2 or value is None:
        return None, None
    higher = metric.direction == "higher"
    try:
        percentile = statistics.performance_percentile(
            stats.peer_values, value, higher_is_better=higher
        )
    except ValueError:
        return None, None
    band = statistics.quartile_band(
        value, stats.p25, stats.median, stats.p75, higher_is_better=higher
    )
    return percentile, band


def band_only(metric: Metric, stats: PeerStatistic | None, value) -> int | None:
    """The band from the stored quartiles alone (no sorted values needed); None below n = 2."""
    if stats is None or stats.n < 2 or value is None:
        return None
    return statistics.quartile_band(
        value, stats.p25, stats.median, stats.p75, higher_is_better=metric.direction == "higher"
    )
