"""Outlier flags: each value a submission writes, scored against its peers.

The score is the modified z-score of log(value) among the logs of its peers' positive values
of the same metric and period: (ln x − median) ÷ (1.4826 × MAD), Iglewicz & Hoaglin; DOMAIN.md
says |z| > 3.5. The peers are the stored peer group (PeerStatistic: the centres accredited on
the period's peer day that offer the metric's service line), less the centre itself. No score
without at least FLAG_MIN_PEERS peers, without spread, or for a value that is not positive (a
log scale has no place for it). A flagged value is accepted; the centre confirms or corrects
it.

The groups are read from their stored sorted values (issue 15), not from the observations
again: a 2,000-row upload would otherwise re-read a million national figures. So the groups
must be current for the pairs scored: ingest recomputes them first, in the same transaction,
and the fixtures loader scores after its recompute_all().
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Boolean, any_, bindparam, literal, select, text, type_coerce, update

from marketplace.benchmarks.models import Metric, Observation, PeerStatistic, ReportingPeriod
from marketplace.benchmarks.statistics import contains_sorted
from marketplace.extensions import db

o = Observation.__table__
_stats = PeerStatistic.__table__

FLAG_THRESHOLD = 3.5
FLAG_MIN_PEERS = 5
# Iglewicz & Hoaglin: MAD x 1.4826 estimates the standard deviation of a normal sample.
MAD_SCALE = 1.4826


@dataclass(frozen=True)
class Scored:
    metric: str
    period: str
    value: Decimal
    score: float
    flagged: bool


def score_submission(centre_id: int, submission_id: int) -> list[Scored]:
    """Score the values this submission wrote (new or changed); returns the flagged ones.

    Values it wrote start unflagged (bulk.write resets them), so only scores are set here.
    """
    mine = db.session.execute(
        select(o.c.metric_id, o.c.period_id, o.c.value).where(
            o.c.centre_id == centre_id, o.c.submission_id == submission_id
        )
    ).all()
    if not mine:
        return []
    groups = _stored_groups(centre_id, {(m, p) for m, p, _ in mine})
    scores = []
    for metric_id, period_id, value in mine:
        group = groups.get((metric_id, period_id))
        if group is None:
            continue  # nobody in the group: nothing to score against
        peer_values, is_member = group
        own = float(value)
        others = _without(peer_values, own) if is_member else peer_values
        z = robust_z_of_sorted(own, others)
        if z is not None:
            scores.append((metric_id, period_id, value, round(z, 3)))
    if scores:
        _store_scores(centre_id, scores)
    return _flagged(scores)


def _store_scores(centre_id: int, scores: list[tuple]) -> None:
    rows = [(m, p, z, "flagged" if is_outlier(z) else "none") for m, p, _value, z in scores]
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement for the lot, the columns bound as arrays: an executemany of 1,280
        # single-row updates cost 100 ms of a 2,000-row upload.
        db.session.execute(
            text(
                "UPDATE observations AS o SET flag_score = s.score, flag_status = s.status "
                "FROM unnest(CAST(:metrics AS integer[]), CAST(:periods AS integer[]), "
                "CAST(:scores AS float8[]), CAST(:statuses AS text[])) "
                "AS s(metric_id, period_id, score, status) "
                "WHERE o.centre_id = :centre AND o.metric_id = s.metric_id "
                "AND o.period_id = s.period_id"
            ),
            {
                "centre": centre_id,
                "metrics": [r[0] for r in rows],
                "periods": [r[1] for r in rows],
                "scores": [r[2] for r in rows],
                "statuses": [r[3] for r in rows],
            },
        )
        return
    db.session.execute(
        update(o)
        .where(
            o.c.centre_id == centre_id,
            o.c.metric_id == bindparam("mid"),
            o.c.period_id == bindparam("pid"),
        )
        .values(flag_score=bindparam("score"), flag_status=bindparam("status")),
        [{"mid": m, "pid": p, "score": z, "status": status} for m, p, z, status in rows],
    )


def _stored_groups(
    centre_id: int, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], tuple[list[float], bool]]:
    """Each wanted group's sorted values, and whether the centre is one of its members.

    On PostgreSQL membership is asked of the database (centre = ANY(ids)), so the thousand
    ids of a national group are not sent; SQLite's JSON lists are searched here.
    """
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    member = (
        type_coerce(literal(centre_id) == any_(_stats.c.peer_centre_ids), Boolean)
        if postgresql
        else _stats.c.peer_centre_ids
    )
    query = select(_stats.c.metric_id, _stats.c.period_id, _stats.c.peer_values, member).where(
        _stats.c.metric_id.in_(sorted({m for m, _ in pairs})),
        _stats.c.period_id.in_(sorted({p for _, p in pairs})),
    )
    groups = {}
    for metric_id, period_id, values, membership in db.session.execute(query):
        if (metric_id, period_id) not in pairs:
            continue  # the select is a rectangle of metrics × periods; the pairs are not
        if not postgresql:
            membership = contains_sorted(membership, centre_id)
        groups[(metric_id, period_id)] = (values, bool(membership))
    return groups


def _without(sorted_values: list[float], own: float) -> list[float]:
    """The group's values less one copy of the centre's own (a member's value is in it)."""
    index = bisect_left(sorted_values, own)
    if index == len(sorted_values) or sorted_values[index] != own:
        # The group was not recomputed after this value was written: scoring against it
        # would be scoring against stale figures.
        raise RuntimeError("a member's value is missing from its stored peer group")
    return sorted_values[:index] + sorted_values[index + 1 :]


def robust_z_of_sorted(value: float, sorted_peers: list[float]) -> float | None:
    """robust_z for peers in ascending order (a stored group), touching a few dozen of them.

    The positive values are a tail, found by binary search; their logs are in the same order
    (log is monotonic), so the median is read off the middle. The absolute deviations from
    it form two ascending runs, out from the median leftwards and rightwards, so the MAD is a
    k-th smallest of two sorted sequences: another binary search. The arithmetic is robust_z's
    own, on the same elements, so the score is the same to the last bit (a property test
    compares them).
    """
    start = bisect_right(sorted_peers, 0.0)
    n = len(sorted_peers) - start
    if value <= 0 or n < FLAG_MIN_PEERS:
        return None

    def log_at(i: int) -> float:
        return math.log(sorted_peers[start + i])

    half = n // 2
    centre = log_at(half) if n % 2 else (log_at(half - 1) + log_at(half)) / 2
    # Logs below the centre (indices < split) deviate more the further left they are.
    split = bisect_left(range(n), centre, key=log_at)

    def left(t: int) -> float:  # ascending in t
        return abs(log_at(split - 1 - t) - centre)

    def right(t: int) -> float:  # ascending in t
        return abs(log_at(split + t) - centre)

    def kth(k: int) -> float:
        return _kth_of_two(left, split, right, n - split, k)

    mad = kth(half) if n % 2 else (kth(half - 1) + kth(half)) / 2
    if mad == 0:
        return None
    return (math.log(value) - centre) / (MAD_SCALE * mad)


def _kth_of_two(a, a_len: int, b, b_len: int, k: int) -> float:
    """The k-th smallest (from 0) of two ascending sequences given as functions of an index:
    binary search on how many of the k + 1 smallest come from the first."""
    low, high = max(0, k + 1 - b_len), min(k + 1, a_len)
    while low < high:
        x = (low + high) // 2
        if a(x) < b(k - x):  # a's x-th is below b's (k - x)-th: more of the smallest are a's
            low = x + 1
        else:
            high = x
    taken_from_b = k + 1 - low
    candidates = []
    if low > 0:
        candidates.append(a(low - 1))
    if taken_from_b > 0:
        candidates.append(b(taken_from_b - 1))
    return max(candidates)


def _flagged(scores: list[tuple]) -> list[Scored]:
    hits = [(m, p, v, z) for m, p, v, z in scores if is_outlier(z)]
    if not hits:
        return []
    codes = dict(
        db.session.execute(
            select(Metric.id, Metric.code).where(Metric.id.in_({m for m, *_ in hits}))
        ).all()
    )
    periods = dict(
        db.session.execute(
            select(ReportingPeriod.id, ReportingPeriod.code).where(
                ReportingPeriod.id.in_({p for _, p, *_ in hits})
            )
        ).all()
    )
    found = [Scored(codes[m], periods[p], Decimal(str(v)), float(z), True) for m, p, v, z in hits]
    return sorted(found, key=lambda s: (s.period, s.metric))


def robust_z(value: float, peers: list[float]) -> float | None:
    """Modified z-score of log(value) among log(peers); None where it is not defined."""
    return _z(value, [math.log(p) for p in peers if p > 0])


def _z(value: float, logs: list[float]) -> float | None:
    if value <= 0 or len(logs) < FLAG_MIN_PEERS:
        return None
    centre = statistics.median(logs)
    mad = statistics.median(abs(x - centre) for x in logs)
    if mad == 0:
        return None
    return (math.log(value) - centre) / (MAD_SCALE * mad)


def is_outlier(score: float | None) -> bool:
    return score is not None and abs(score) > FLAG_THRESHOLD
