"""Peer groups edited in place when one centre's figures change (used by peers.py).

A national group has about a thousand members and an upload changes one of them, so rather
than rebuild each touched group from the observations, the stored sorted values are edited:
the centre's old value taken out (one copy of it), the new one put in at its place, its id
added to the members if the figure is new, and the five figures computed again from the
array with the full writers' own arithmetic (peer_writers). The result is the row a rebuild
would write, bit for bit (tests/benchmarks/test_peer_edits.py compares them on both
databases).

An edit is made only where it is exact; every other group is handed back to be rebuilt:
- a period still running (its peer day is today, so others' membership may have moved);
- a group with no stored row yet (the writer creates it);
- a stored group that disagrees with the edit: the old value or the centre's id missing, or
  the id present for a figure that is new (figures written without a recompute).
A figure of a centre outside the group (not accredited on the peer day, or not offering the
metric's line) leaves the group as it is: a rebuild would leave it out too.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date
from decimal import Decimal

from sqlalchemy import Integer, bindparam, select, text, update

from marketplace import clock
from marketplace.benchmarks import peer_writers
from marketplace.benchmarks.models import Metric, PeerStatistic
from marketplace.catalogue.models import centre_service_lines
from marketplace.db import UTCDateTime
from marketplace.extensions import db

Pair = tuple[int, int]
Edit = tuple[Decimal | None, Decimal]  # (the figure before, or None if new; the figure now)
_stats = PeerStatistic.__table__


def apply(
    centre_id: int, edits: dict[Pair, Edit], period_days: dict[int, date]
) -> tuple[set[Pair], list[Pair]]:
    """Edit the stored groups for one centre's changed figures. Returns the groups edited
    and those that must be rebuilt from the table instead (the rest, of which the centre is
    not a member, stay as they are). The caller holds the periods' locks."""
    settled = _settled_periods(period_days)
    members = _member_pairs(centre_id, edits, period_days)
    rebuild = [pair for pair in edits if pair[1] not in settled]
    editable = {
        pair: edit for pair, edit in edits.items() if pair[1] in settled and pair in members
    }
    done: set[Pair] = set()
    if editable:
        if db.session.get_bind().dialect.name == "postgresql":
            done = _edit_in_postgresql(centre_id, editable)
        else:
            done = _edit_in_python(centre_id, editable)
        rebuild.extend(pair for pair in editable if pair not in done)
    return done, sorted(rebuild)


def _settled_periods(period_days: dict[int, date]) -> set[int]:
    """Periods that ended before today: their peer day is their last day, and membership
    there no longer moves (peers._period_days gives a running period today's date)."""
    today = clock.today()
    return {period_id for period_id, day in period_days.items() if day < today}


def _member_pairs(centre_id: int, edits: dict[Pair, Edit], period_days: dict[int, date]):
    """The pairs whose group the centre belongs to, by the full writers' rule."""
    periods = {period_id for _, period_id in edits}
    eligible = peer_writers.eligible(
        {p: d for p, d in period_days.items() if p in periods}
    ).subquery()
    accredited = set(
        db.session.scalars(select(eligible.c.period_id).where(eligible.c.centre_id == centre_id))
    )
    lines = set(
        db.session.scalars(
            select(centre_service_lines.c.service_line_id).where(
                centre_service_lines.c.centre_id == centre_id
            )
        )
    )
    line_of = dict(
        db.session.execute(
            select(Metric.id, Metric.service_line_id).where(
                Metric.id.in_(sorted({m for m, _ in edits}))
            )
        ).all()
    )
    return {(m, p) for m, p in edits if p in accredited and line_of.get(m) in lines}


# --- PostgreSQL: one statement, in the database --------------------------------------------------
#
# width_bucket(x, sorted array) is a binary search: the number of elements <= x. So the old
# value's last copy is at width_bucket(old, v), and the new one goes after the elements <= it.
# Slices out of range are empty arrays, so the first and last places need no special case.
# Every step is MATERIALIZED: inlined, each of the many references to an array below would
# repeat the slicing and the reading of the stored (TOASTed) array behind it.

_PG_EDIT = """
WITH edit AS (
    SELECT * FROM unnest(CAST(:metrics AS integer[]), CAST(:periods AS integer[]),
                         CAST(:olds AS float8[]), CAST(:news AS float8[]))
           AS e(metric_id, period_id, old, new)
),
found AS MATERIALIZED (
    SELECT s.id, s.peer_values AS v, s.peer_centre_ids AS ids, e.old, e.new,
           width_bucket(e.old, s.peer_values) AS i,
           width_bucket(CAST(:centre AS integer), s.peer_centre_ids) AS c
    FROM peer_statistics AS s
    JOIN edit AS e ON s.metric_id = e.metric_id AND s.period_id = e.period_id
),
taken_out AS MATERIALIZED (
    SELECT id, new,
           CASE WHEN old IS NULL THEN v ELSE v[1:i - 1] || v[i + 1:] END AS v,
           CASE WHEN old IS NULL THEN ids[1:c] || CAST(:centre AS integer) || ids[c + 1:]
                ELSE ids END AS ids
    FROM found
    WHERE (old IS NULL AND (c = 0 OR ids[c] <> :centre))
       OR (old IS NOT NULL AND i >= 1 AND v[i] = old AND c >= 1 AND ids[c] = :centre)
),
put_in AS MATERIALIZED (
    SELECT id, ids, v[1:j] || new || v[j + 1:] AS v
    FROM taken_out, LATERAL (SELECT width_bucket(new, v) AS j) AS place
),
counted AS MATERIALIZED (
    SELECT id, ids, v, cardinality(v) AS n FROM put_in
)
UPDATE peer_statistics AS s
SET n = c.n, minimum = c.v[1], p25 = {p25}, median = {median}, p75 = {p75},
    maximum = c.v[c.n], peer_values = c.v, peer_centre_ids = c.ids, computed_at = :now
FROM (SELECT id, ids, v, n FROM counted) AS c
WHERE s.id = c.id
RETURNING s.metric_id, s.period_id
""".format(  # noqa: S608  (constants only)
    p25=peer_writers.pg_quartile(0.25, "c.v", "c.n"),
    median=peer_writers.pg_quartile(0.5, "c.v", "c.n"),
    p75=peer_writers.pg_quartile(0.75, "c.v", "c.n"),
)


def _edit_in_postgresql(centre_id: int, edits: dict[Pair, Edit]) -> set[Pair]:
    pairs = sorted(edits)
    rows = db.session.execute(
        text(_PG_EDIT).bindparams(bindparam("now", type_=UTCDateTime)),
        {
            "centre": centre_id,
            "metrics": [m for m, _ in pairs],
            "periods": [p for _, p in pairs],
            # float(Decimal) is correctly rounded, as the writers' CAST(value AS float8) is
            "olds": [None if edits[pair][0] is None else float(edits[pair][0]) for pair in pairs],
            "news": [float(edits[pair][1]) for pair in pairs],
            "now": clock.now(),
        },
    ).all()
    return {(m, p) for m, p in rows}


# --- SQLite: the same edit in Python ---------------------------------------------------------


def _edit_in_python(centre_id: int, edits: dict[Pair, Edit]) -> set[Pair]:
    stored = db.session.execute(
        select(_stats.c.id, _stats.c.metric_id, _stats.c.period_id, _stats.c.peer_values)
        .add_columns(_stats.c.peer_centre_ids)
        .where(
            _stats.c.metric_id.in_(sorted({m for m, _ in edits})),
            _stats.c.period_id.in_(sorted({p for _, p in edits})),
        )
    ).all()
    now = clock.now()
    done, records = set(), []
    for row_id, metric_id, period_id, values, ids in stored:
        edit = edits.get((metric_id, period_id))
        if edit is None:
            continue
        edited = _edited(centre_id, list(values), list(ids), edit)
        if edited is None:
            continue
        records.append({"row_id": row_id, **peer_writers.stored_row(*edited, now)})
        done.add((metric_id, period_id))
    if records:
        db.session.execute(
            update(_stats)
            .where(_stats.c.id == bindparam("row_id", type_=Integer))
            .values({name: bindparam(name) for name in records[0] if name != "row_id"}),
            records,
        )
    return done


def _edited(centre_id: int, values: list[float], ids: list[int], edit: Edit):
    """The group's arrays after the edit, or None where the stored group disagrees with it."""
    old, new = edit
    at = bisect_left(ids, centre_id)
    present = at < len(ids) and ids[at] == centre_id
    if old is None:
        if present:
            return None
        ids.insert(at, centre_id)
    else:
        if not present:
            return None
        old_at = bisect_right(values, float(old)) - 1
        if old_at < 0 or values[old_at] != float(old):
            return None
        del values[old_at]
    values.insert(bisect_right(values, float(new)), float(new))
    return values, ids
