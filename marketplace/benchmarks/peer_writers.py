"""How a set of peer groups is rebuilt: one set-based write per database (used by peers.py).

Both writers store bit-identical figures. Quartiles use the arithmetic of statistics.quantile
(lo + t × (hi − lo) in double precision, which is also PostgreSQL's percentile_cont), applied
to the same doubles: the stored numeric values converted with correct rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import groupby

from sqlalchemy import Float, Integer, cast, insert, literal, select, text, true, tuple_, union_all

from marketplace import clock
from marketplace.benchmarks import statistics
from marketplace.benchmarks.models import Metric, Observation, PeerStatistic, ReportingPeriod
from marketplace.catalogue.accreditation import accredited_centre_ids_on
from marketplace.catalogue.models import ServiceCentre, ServiceLine, centre_service_lines
from marketplace.extensions import db

Pair = tuple[int, int]
_stats = PeerStatistic.__table__
# Enough for a national period's sort (32,000 observations and their arrays) to stay in
# memory; set for the rebuild only, then put back.
SORT_MEMORY = "64MB"


def eligible(period_days: dict[int, date]):
    """A select of (period_id, centre_id): the centres accredited on each period's peer day."""
    branches = []
    for period_id, day in sorted(period_days.items()):
        accredited = accredited_centre_ids_on(day).subquery()
        branches.append(
            select(
                literal(period_id, Integer).label("period_id"),
                accredited.c.centre_id.label("centre_id"),
            )
        )
    return union_all(*branches)


def write(period_days: dict[int, date], pairs: Sequence[Pair] | None) -> int:
    """Insert the statistics of the groups in scope (their old rows already deleted).

    Scope: the given (metric_id, period_id) pairs, or every metric of the given periods.
    Returns the number of groups written (empty groups get no row).
    """
    if not period_days:
        return 0
    if db.session.get_bind().dialect.name == "postgresql":
        return _write_in_postgresql(period_days, pairs)
    return _write_in_python(period_days, pairs)


# --- PostgreSQL --------------------------------------------------------------------------------
#
# One INSERT … SELECT per period: a period's rows sort in cache, which cost less CPU than
# one sort of a national table (bench/recompute.py). Membership is applied as two NOT IN
# filters over short lists — the centres NOT accredited on the period's peer day, and the
# service lines a centre does NOT offer — which PostgreSQL evaluates as hashed lookups.
# Joining the eligible set instead let the planner choose nested loops over an index, 5–10
# times slower at national scale. Each group's values are sorted once (array_agg … ORDER BY);
# the quartiles are read from that array rather than from percentile_cont, which would sort
# every group again.


def pg_quartile(q: float, v: str = "v", n: str = "n") -> str:
    """statistics.quantile's arithmetic in SQL, on the sorted float8 array `v` of `n` values."""
    position = f"(CAST({q!r} AS float8) * ({n} - 1))"
    fraction = f"({position} - floor({position}))"
    low_index = f"(CAST(floor({position}) AS integer) + 1)"
    low = f"{v}[{low_index}]"
    high = f"{v}[least({low_index} + 1, {n})]"
    return f"CASE WHEN {fraction} = 0 THEN {low} ELSE {low} + {fraction} * ({high} - {low}) END"


# Built from constants only (no user input), hence the noqa.
_PG_INSERT = """
INSERT INTO peer_statistics
    (metric_id, period_id, n, minimum, p25, median, p75, maximum,
     peer_values, peer_centre_ids, computed_at)
SELECT metric_id, period_id, n,
       v[1], {p25}, {median}, {p75}, v[n],
       -- the very doubles the quartiles were computed from, ascending
       v, centre_ids, :computed_at
FROM (
    SELECT o.metric_id, o.period_id,
           CAST(count(*) AS integer) AS n,
           -- sorted as doubles: the conversion keeps the order (correctly rounded), and
           -- comparing doubles costs a fraction of comparing numerics
           array_agg(CAST(o.value AS float8) ORDER BY CAST(o.value AS float8)) AS v,
           array_agg(o.centre_id ORDER BY o.centre_id) AS centre_ids
    FROM observations AS o
    JOIN metrics AS m ON m.id = o.metric_id
    WHERE o.period_id = :period_id
      AND o.centre_id NOT IN (SELECT unnest(CAST(:out_centres AS integer[])))
      AND (o.centre_id, m.service_line_id) NOT IN (
              SELECT * FROM unnest(CAST(:unoffered_centres AS integer[]),
                                   CAST(:unoffered_lines AS integer[])))
      {metric_scope}
    GROUP BY o.metric_id, o.period_id
) AS grouped
RETURNING id
""".format(  # noqa: S608
    p25=pg_quartile(0.25),
    median=pg_quartile(0.5),
    p75=pg_quartile(0.75),
    metric_scope="{metric_scope}",
)
_PG_ALL_METRICS = text(_PG_INSERT.format(metric_scope=""))
_PG_SOME_METRICS = text(
    _PG_INSERT.format(metric_scope="AND o.metric_id = ANY(CAST(:metric_ids AS integer[]))")
)


def _write_in_postgresql(period_days: dict[int, date], pairs: Sequence[Pair] | None) -> int:
    # Cross joins on purpose: every centre in every period, every centre with every line.
    everyone = (
        select(ReportingPeriod.id, ServiceCentre.id)
        .join(ServiceCentre, true())
        .where(ReportingPeriod.id.in_(sorted(period_days)))
    )
    not_accredited: dict[int, list[int]] = {period_id: [] for period_id in period_days}
    for period_id, centre_id in db.session.execute(
        everyone.except_(select(eligible(period_days).subquery()))
    ):
        not_accredited[period_id].append(centre_id)
    not_offered = db.session.execute(
        select(ServiceCentre.id, ServiceLine.id)
        .join(ServiceLine, true())
        .except_(select(centre_service_lines.c.centre_id, centre_service_lines.c.service_line_id))
    ).all()
    metrics_of: dict[int, list[int]] = {}
    for metric_id, period_id in pairs or ():
        metrics_of.setdefault(period_id, []).append(metric_id)
    common = {
        "computed_at": clock.now(),
        "unoffered_centres": [centre_id for centre_id, _ in not_offered],
        "unoffered_lines": [line_id for _, line_id in not_offered],
    }
    previous = db.session.execute(text("SELECT current_setting('work_mem')")).scalar_one()
    set_memory = text("SELECT set_config('work_mem', :memory, true)")
    db.session.execute(set_memory, {"memory": SORT_MEMORY})
    written = 0
    for period_id in sorted(period_days):
        params = {**common, "period_id": period_id, "out_centres": not_accredited[period_id]}
        if pairs is None:
            statement = _PG_ALL_METRICS
        else:
            statement, params["metric_ids"] = _PG_SOME_METRICS, sorted(metrics_of[period_id])
        written += len(db.session.execute(statement, params).all())
    db.session.execute(set_memory, {"memory": previous})
    return written


# --- SQLite ------------------------------------------------------------------------------------


def _write_in_python(period_days: dict[int, date], pairs: Sequence[Pair] | None) -> int:
    """One ordered read, filtered and summarised here with the same arithmetic."""
    accredited = {(p, c) for p, c in db.session.execute(eligible(period_days))}
    offered = {
        (c, line)
        for c, line in db.session.execute(
            select(centre_service_lines.c.centre_id, centre_service_lines.c.service_line_id)
        )
    }
    line_of = {m: line for m, line in db.session.execute(select(Metric.id, Metric.service_line_id))}
    o = Observation.__table__
    query = select(o.c.metric_id, o.c.period_id, o.c.centre_id, cast(o.c.value, Float))
    if pairs is None:
        query = query.where(o.c.period_id.in_(sorted(period_days)))
    else:
        query = query.where(tuple_(o.c.metric_id, o.c.period_id).in_(pairs))
    rows = (
        row
        for row in db.session.execute(query.order_by(o.c.metric_id, o.c.period_id))
        if (row[1], row[2]) in accredited and (row[2], line_of[row[0]]) in offered
    )
    now = clock.now()
    records = []
    for (metric_id, period_id), group in groupby(rows, key=lambda row: (row[0], row[1])):
        members = list(group)
        values = sorted(row[3] for row in members)
        ids = sorted(row[2] for row in members)
        records.append(
            {"metric_id": metric_id, "period_id": period_id, **stored_row(values, ids, now)}
        )
    if records:
        db.session.execute(insert(_stats), records)
    return len(records)


def stored_row(values: list[float], centre_ids: list[int], now) -> dict:
    """A group's stored columns from its sorted values and ids (the Python writers')."""
    summary = statistics.summary_of_sorted(values)
    return {
        "n": summary.n,
        "minimum": summary.minimum,
        "p25": summary.p25,
        "median": summary.median,
        "p75": summary.p75,
        "maximum": summary.maximum,
        "peer_values": values,
        "peer_centre_ids": centre_ids,
        "computed_at": now,
    }
