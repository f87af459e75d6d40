"""Peer groups and their statistics: who is compared with whom, kept up to date set-based.

A peer group is one metric in one period: the centres accredited on the period's last day
(today, while the period has not yet ended) that offer the metric's service line and have a
value. Each group's n, minimum, quartiles and maximum are stored in PeerStatistic with the
group's values in ascending order and its centre ids, so a centre's percentile and band are
binary searches on read (see statistics.py for the method).

Recomputing rebuilds whole groups from the observations set-based (peer_writers.py):
PostgreSQL aggregates in the database, one grouped INSERT … SELECT per period; SQLite reads
one ordered query and aggregates in Python with the same double-precision arithmetic. Both
give bit-identical statistics. An upload's changed figures instead edit the stored groups
in place where that is exact (apply_edits, peer_edits.py: the same rows, bit for bit), and
rebuild the rest. Services here flush only; callers commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from flask import current_app
from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.orm import defer

from marketplace import clock
from marketplace.benchmarks import peer_edits, peer_writers, statistics
from marketplace.benchmarks.models import Metric, Observation, PeerStatistic, ReportingPeriod
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


# --- recomputing ---------------------------------------------------------------------------


def recompute(pairs: Iterable[tuple[int, int]]) -> int:
    """Rebuild the statistics of the given (metric_id, period_id) groups.

    Call it in the same transaction as the change to the observations. Groups that have
    become empty lose their statistics. Returns how many of the groups now have statistics.
    """
    targets = sorted({(int(metric_id), int(period_id)) for metric_id, period_id in pairs})
    if not targets:
        return 0
    period_days = _locked_period_days(targets)
    # Chunked so that the number of bound parameters stays well inside every driver's limit.
    written = 0
    for start in range(0, len(targets), 2000):
        chunk = targets[start : start + 2000]
        _delete_groups(chunk)
        known = [(m, p) for m, p in chunk if p in period_days]
        chunk_days = {period_id: period_days[period_id] for _, period_id in known}
        written += peer_writers.write(chunk_days, known)
    _forget_loaded_statistics()
    return written


def apply_edits(centre_id: int, edits: dict[tuple[int, int], tuple]) -> int:
    """Bring the groups of one centre's changed figures up to date, in this transaction.

    `edits` maps each (metric_id, period_id) to (the figure before, or None if new; the
    figure now). Groups are edited in place where that gives exactly what a rebuild would
    (peer_edits.py) and rebuilt from the table otherwise; a group the centre is not a
    member of is left as it is. Returns how many groups were edited or rebuilt.
    """
    if not edits:
        return 0
    period_days = _locked_period_days(edits)
    known = {pair: edit for pair, edit in edits.items() if pair[1] in period_days}
    edited, rebuild = peer_edits.apply(centre_id, known, period_days)
    rebuild += [pair for pair in edits if pair not in known]
    _forget_loaded_statistics()
    return len(edited) + (recompute(rebuild) if rebuild else 0)


def _locked_period_days(pairs: Iterable[tuple[int, int]]) -> dict[int, date]:
    """Flush, lock the pairs' periods (see _lock_periods) and give their peer days."""
    db.session.flush()
    period_ids = {period_id for _, period_id in pairs}
    _lock_periods(period_ids)
    return _period_days(period_ids)


def _delete_groups(pairs: list[tuple[int, int]]) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        # Joined to the pairs as two arrays, so each is found through the unique key:
        # PostgreSQL reads a row-value IN list as one OR branch per pair, tested against
        # every row (and dead row) of the table, 1.7 s for an upload's 2,000 groups.
        db.session.execute(
            text(
                "DELETE FROM peer_statistics AS s USING unnest(CAST(:metrics AS integer[]), "
                "CAST(:periods AS integer[])) AS t(metric_id, period_id) "
                "WHERE s.metric_id = t.metric_id AND s.period_id = t.period_id"
            ),
            {"metrics": [m for m, _ in pairs], "periods": [p for _, p in pairs]},
        )
        return
    db.session.execute(
        delete(_stats).where(tuple_(_stats.c.metric_id, _stats.c.period_id).in_(pairs))
    )


def recompute_period(period_id: int) -> int:
    """Rebuild every group of one period; returns the number of groups with statistics."""
    db.session.flush()
    _lock_periods({period_id})
    period_days = _period_days({period_id})
    if not period_days:
        return 0
    db.session.execute(delete(_stats).where(_stats.c.period_id == period_id))
    written = peer_writers.write(period_days, None)
    _forget_loaded_statistics()
    return written


def recompute_all() -> int:
    """Rebuild every group of every period; returns the number of groups with statistics."""
    db.session.flush()
    _lock_periods(set(db.session.scalars(select(ReportingPeriod.id))))
    period_days = _period_days(None)
    db.session.execute(delete(_stats))
    written = peer_writers.write(period_days, None) if period_days else 0
    _forget_loaded_statistics()
    return written


def recompute_for_centre_change(centre_id: int, day: date | None = None) -> int:
    """Rebuild the groups a change to one centre from `day` on can alter.

    For accreditation changes (accredit, suspend, reinstate, withdraw, renew: pass the
    change's effective day) and for changes to the service lines a centre offers (pass no
    day: lines have no history, so every period is judged by today's lines). The centre only
    counts in groups where it has a value, so those are the groups of its observations in
    every period that ends on or after `day`.
    """
    db.session.flush()
    query = (
        select(Observation.metric_id, Observation.period_id)
        .join(ReportingPeriod, ReportingPeriod.id == Observation.period_id)
        .where(Observation.centre_id == centre_id)
    )
    if day is not None:
        query = query.where(ReportingPeriod.ends_on >= day)
    return recompute((metric_id, period_id) for metric_id, period_id in db.session.execute(query))


def after_catalogue_edit(centre_id: int, changed: dict) -> int:
    """Redraw peer groups when an entry's service lines changed (they decide membership)."""
    if "service_lines" not in changed:
        return 0
    return recompute_for_centre_change(centre_id)


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


# Two transactions rebuilding the same group at once would each delete the old row and insert
# a new one: the second insert breaks the unique (metric, period) key, or, with an upsert,
# overwrites figures computed from newer data with older ones. So a rebuild first takes a
# transaction-scoped lock on each period it touches, in ascending order (no deadlocks), and
# reads the observations only once it holds them, seeing everything committed before.
# SQLite lets one transaction write at a time, which already serialises rebuilds.
_LOCK_NAMESPACE = 0x5045  # "PE": peer statistics


def _lock_periods(period_ids: set[int]) -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        return
    lock = text("SELECT pg_advisory_xact_lock(:namespace, :period_id)")
    for period_id in sorted(period_ids):
        db.session.execute(lock, {"namespace": _LOCK_NAMESPACE, "period_id": period_id})


def _forget_loaded_statistics() -> None:
    """Drop statistics this session had loaded: their rows were replaced behind its back.

    (SQLite may even give a new row the id of a deleted one, which the session would
    otherwise answer from its stale copy.)
    """
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, PeerStatistic):
            db.session.expunge(instance)


def _period_days(period_ids: set[int] | None) -> dict[int, date]:
    query = select(ReportingPeriod.id, ReportingPeriod.ends_on)
    if period_ids is not None:
        query = query.where(ReportingPeriod.id.in_(sorted(period_ids)))
    today = clock.today()
    return {period_id: min(ends_on, today) for period_id, ends_on in db.session.execute(query)}


# --- reading -------------------------------------------------------------------------------


def min_peer_group() -> int:
    """The confidentiality threshold: the one place MIN_PEER_GROUP (config.py) is read."""
    return int(current_app.config["MIN_PEER_GROUP"])


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


Position = tuple[float | None, int | None]
NOWHERE: Position = (None, None)


def position(metric: Metric, stats: PeerStatistic | None, value) -> Position:
    """(percentile 0–100, band 1–4) of a peer's value in its group.

    For a member of the group: check is_peer first, since a centre outside the group may
    happen to share a member's value. (None, None) when there are no statistics, when the
    group has a single member (nobody to compare with), or when no peer has this value.
    """
    return placer(metric, stats)(value)


def placer(metric: Metric, stats: PeerStatistic | None) -> Callable[[object], Position]:
    """position() for many values of one group: the group's values and quartiles are read
    from the row once (a national group places a thousand values per page)."""
    if stats is None or stats.n < 2:
        return lambda _value: NOWHERE
    return statistics.group_placer(
        stats.peer_values,
        stats.p25,
        stats.median,
        stats.p75,
        higher_is_better=metric.direction == "higher",
        missing=NOWHERE,
    )


def band_only(metric: Metric, stats: PeerStatistic | None, value) -> int | None:
    """The band from the stored quartiles alone (no sorted values needed); None below n = 2."""
    if stats is None or stats.n < 2 or value is None:
        return None
    return statistics.quartile_band(
        value, stats.p25, stats.median, stats.p75, higher_is_better=metric.direction == "higher"
    )
