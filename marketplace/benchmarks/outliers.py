"""Outlier flags: each value a submission writes, scored against the other centres' values.

The score is the modified z-score of log(value) among log(peer values) of the same metric
and period: (ln x − median) ÷ (1.4826 × MAD), where the median and the median absolute
deviation are taken over the other centres' positive values (Iglewicz & Hoaglin; DOMAIN.md
says |z| > 3.5). No score without at least FLAG_MIN_PEERS peers, without spread, or for a
value that is not positive (a log scale has no place for it). A flagged value is accepted;
the centre confirms or corrects it.

PostgreSQL scores every value of the submission in one statement (percentile_cont for the
median and the MAD); each step is MATERIALIZED so that the per-group aggregates are computed
once, whatever the planner believes about freshly loaded tables. SQLite reads the peer
values once and uses robust_z, the same arithmetic in Python.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Float, bindparam, cast, select, text, type_coerce, update

from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod
from marketplace.extensions import db

o = Observation.__table__

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


_POSTGRES = text(
    """
WITH mine AS MATERIALIZED (
    SELECT metric_id, period_id, value::float8 AS value
    FROM observations
    WHERE submission_id = :submission  -- a submission's values are all its centre's
),
peer AS MATERIALIZED (
    SELECT o.metric_id, o.period_id, ln(o.value::float8) AS lv
    FROM observations o
    JOIN mine USING (metric_id, period_id)
    WHERE o.centre_id <> :centre AND o.value > 0
),
centre_of AS MATERIALIZED (
    SELECT metric_id, period_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY lv) AS m
    FROM peer
    GROUP BY metric_id, period_id
    HAVING count(*) >= :min_peers
),
spread AS MATERIALIZED (
    SELECT p.metric_id, p.period_id, c.m,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(p.lv - c.m)) AS mad
    FROM peer p JOIN centre_of c USING (metric_id, period_id)
    GROUP BY p.metric_id, p.period_id, c.m
),
scored AS (
    SELECT mine.metric_id, mine.period_id,
           round(((ln(mine.value) - s.m) / (:mad_scale * s.mad))::numeric, 3)::float8 AS z
    FROM mine JOIN spread s USING (metric_id, period_id)
    WHERE mine.value > 0 AND s.mad > 0
)
UPDATE observations AS target
SET flag_score = scored.z,
    flag_status = CASE WHEN abs(scored.z) > :threshold THEN 'flagged' ELSE 'none' END
FROM scored
WHERE target.centre_id = :centre
  AND target.metric_id = scored.metric_id
  AND target.period_id = scored.period_id
RETURNING target.metric_id, target.period_id, target.value, target.flag_score
"""
)


def score_submission(centre_id: int, submission_id: int) -> list[Scored]:
    """Score the values this submission wrote (new or changed); returns the flagged ones.

    Values it wrote start unflagged (bulk.write resets them), so only scores are set here.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        rows = db.session.execute(
            _POSTGRES,
            {
                "centre": centre_id,
                "submission": submission_id,
                "min_peers": FLAG_MIN_PEERS,
                "mad_scale": MAD_SCALE,
                "threshold": FLAG_THRESHOLD,
            },
        ).all()
        scores = [(m, p, v, z) for m, p, v, z in rows]
    else:
        scores = _score_in_python(centre_id, submission_id)
    return _flagged(scores)


def _score_in_python(centre_id: int, submission_id: int) -> list[tuple]:
    mine = db.session.execute(
        select(o.c.metric_id, o.c.period_id, o.c.value).where(
            o.c.centre_id == centre_id, o.c.submission_id == submission_id
        )
    ).all()
    if not mine:
        return []
    wanted = {(m, p) for m, p, _ in mine}
    peers: dict[tuple[int, int], list[float]] = {pair: [] for pair in wanted}
    # One read of the candidate peer values; pairs outside the submission are skipped.
    # Read as plain floats (no Decimal per row): a large upload meets a million peer values.
    query = select(o.c.metric_id, o.c.period_id, type_coerce(cast(o.c.value, Float), Float)).where(
        o.c.centre_id != centre_id,
        o.c.value > 0,
        o.c.metric_id.in_(sorted({m for m, _ in wanted})),
        o.c.period_id.in_(sorted({p for _, p in wanted})),
    )
    for metric_id, period_id, value in db.session.execute(query):
        bucket = peers.get((metric_id, period_id))
        if bucket is not None:
            bucket.append(value)
    scores = []
    for metric_id, period_id, value in mine:
        z = robust_z(float(value), peers[(metric_id, period_id)])
        if z is not None:
            scores.append((metric_id, period_id, value, round(z, 3)))
    if scores:
        db.session.execute(
            update(o)
            .where(
                o.c.centre_id == centre_id,
                o.c.metric_id == bindparam("mid"),
                o.c.period_id == bindparam("pid"),
            )
            .values(flag_score=bindparam("score"), flag_status=bindparam("status")),
            [
                {
                    "mid": m,
                    "pid": p,
                    "score": z,
                    "status": "flagged" if is_outlier(z) else "none",
                }
                for m, p, _, z in scores
            ],
        )
    return scores


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
    logs = [math.log(p) for p in peers if p > 0]
    if value <= 0 or len(logs) < FLAG_MIN_PEERS:
        return None
    centre = statistics.median(logs)
    mad = statistics.median(abs(x - centre) for x in logs)
    if mad == 0:
        return None
    return (math.log(value) - centre) / (MAD_SCALE * mad)


def is_outlier(score: float | None) -> bool:
    return score is not None and abs(score) > FLAG_THRESHOLD
