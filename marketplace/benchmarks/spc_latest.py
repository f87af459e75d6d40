"""The kind of a series' latest point alone: what the early-warning summary needs.

spc.segment judges every point of a segment; a signal needs only the latest point's kind
(the series' variation). Each rule touches the latest point only through the run or window
that ends at it:
- outside the limits: the latest value against the limits;
- a shift: the run of points on one side of the mean that ends at it (a maximal run that
  contains the last point is the trailing one);
- a trend: the trailing run of steps in one direction;
- two in three: the one window of 3 that ends at it (no other window contains it), and
  only when it is itself one of the near points.
The limits are computed by the same function (spc.limits), from the same floats, so the
answer is the one spc.chart gives, bit for bit; tests/benchmarks/test_spc_latest.py checks
that on random and on real series. It costs one pass over the values instead of four, and
nothing is allocated per point, which is what makes the whole market affordable
(bench/signals.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from marketplace.benchmarks import spc


@dataclass(frozen=True)
class Latest:
    kind: str  # one of spc.KINDS
    rules: tuple[str, ...]  # in spc.RULES order


def _trailing(signs: Sequence[int]) -> int:
    """How many equal, non-zero signs end the sequence."""
    last = signs[-1]
    if last == 0:
        return 0
    count = 0
    for sign in reversed(signs):
        if sign != last:
            break
        count += 1
    return count


def latest(values: Sequence[float], *, higher_is_better: bool) -> Latest | None:
    """The latest point's kind in a segment of floats; None under spc.MIN_POINTS points."""
    n = len(values)
    if n < spc.MIN_POINTS:
        return None
    lim = spc.limits(values)
    mean = lim.mean
    x = values[-1]
    sides = [(v > mean) - (v < mean) for v in values[-max(spc.RUN, spc.WINDOW) :]]
    rules = []
    if x > lim.upper or x < lim.lower:
        rules.append(spc.OUTSIDE_LIMITS)
    if _trailing(sides) >= spc.RUN:
        rules.append(spc.SHIFT)
    tail = values[-(spc.TREND + 1) :]
    steps = [(b > a) - (b < a) for a, b in pairwise(tail)]
    if len(steps) >= spc.TREND and _trailing(steps) >= spc.TREND:
        rules.append(spc.TREND_RULE)
    if _two_in_three(values[-spc.WINDOW :], sides[-spc.WINDOW :], lim):
        rules.append(spc.TWO_IN_THREE)
    if not rules:
        return Latest(spc.COMMON_CAUSE, ())
    better = 1 if higher_is_better else -1
    return Latest(spc.IMPROVEMENT if sides[-1] == better else spc.CONCERN, tuple(rules))


def _two_in_three(window: Sequence[float], sides: Sequence[int], lim: spc.Limits) -> bool:
    side = sides[0]
    if side == 0 or any(s != side for s in sides):
        return False

    def near(v: float) -> bool:
        if side > 0:
            return lim.near_upper < v <= lim.upper
        return lim.lower <= v < lim.near_lower

    return near(window[-1]) and sum(1 for v in window if near(v)) >= spc.NEAR_NEEDED
