"""Statistical process control (XmR charts, as NHS England's "Making Data Count"): pure functions.

The early-warning method of DOMAIN.md, with no database and no Flask: a segment's points
(period code, value) in, dataclasses out. Values may be Decimal (as stored); everything here
works in floats, as statistics.py does. The method is written out for the public on the
/methodology page; keep the two in step.

For a segment of at least MIN_POINTS points (limits provisional under STABLE_POINTS):

- mean = the arithmetic mean of the values; moving ranges mRᵢ = |xᵢ − xᵢ₋₁|; amR = their
  mean; every mRᵢ ≥ 3.267 × amR is screened out and amR recomputed from the rest;
- process limits = mean ± 2.66 × amR; near limits = mean ± (2/3) × 2.66 × amR;
- a point is special cause when (1) it lies strictly outside a process limit; (2) it is in a
  run of 7 or more consecutive points strictly on one side of the mean (a point on the mean
  ends a run); (3) it is in a run of 7 or more consecutive points each strictly higher (or
  each strictly lower) than the one before; (4) of 3 consecutive points all strictly on one
  side of the mean, 2 or more lie beyond the near limit but not beyond the process limit:
  those points are flagged;
- a special-cause point on the better side of the mean is improvement, any other (the worse
  side, or exactly on the mean) concern; the rest are common cause; the variation of a
  series is its latest point's kind;
- assurance against a target: when the whole process lies on the better side of the target
  (the target is beyond the process limit on the worse side) it consistently passes; when
  the whole process lies on the worse side it consistently fails; otherwise hit and miss.

Where this differs from NHS-R's NHSRplotthedots (ptd_spc, version 0.2.2), read to learn the
method, not copied:

- Trend. DOMAIN.md asks for 7 consecutive points each strictly higher (lower) than the one
  before: 7 rises, so 8 values, and the point the trend starts from (which is not higher
  than its own predecessor) is not flagged. NHSRplotthedots flags 7 points joined by 6 rises
  (ptd_seven_point_trend takes sign(diff()) over a window of 7 values), the first included.
- Improvement or concern. NHSRplotthedots gives a trend point the trend's direction (a
  rising trend is "high" even below the mean); DOMAIN.md judges every special-cause point by
  its side of the mean, so a rising cost below the mean is still an improvement, and a
  flagged point exactly on the mean is a concern.
- Assurance. DOMAIN.md's wording ("target beyond the process limit on the better side →
  consistently passes") read literally would rate a cost target below the whole process
  (never met) as passing; its stated source, NHSRplotthedots, rates that a consistent fail
  (ptd_calculate_assurance_type: target above the upper limit fails when higher is better).
  We follow the source and the meaning of "passes": the target must lie beyond the process
  limit on the *worse* side of the process, so every point is on its better side.
- Segments under 8 points: NHSRplotthedots draws limits for any length (with a warning);
  DOMAIN.md gives no limits under 8, so no rule is applied there and every point is common
  cause, and the variation of a series whose latest segment has no limits is None.
- The same as theirs: the screen keeps mRᵢ < 3.267 × amR; a point on the mean ends a run;
  two-in-three counts only points beyond a near limit and within (or on) the process limit,
  needs all three points strictly on one side, and flags only the near points; the limits
  and the mean of each segment (a "rebase") are computed from that segment alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from operator import sub

Number = float | int | Decimal

MIN_POINTS = 8  # a segment with fewer points has no limits
STABLE_POINTS = 12  # limits from fewer points are provisional
SCREEN = 3.267  # moving ranges at or above SCREEN × amR are screened out
LIMIT = 2.66  # process limits at mean ± LIMIT × amR
NEAR = 2 / 3  # near limits at mean ± NEAR × LIMIT × amR
RUN = 7  # points on one side of the mean
TREND = 7  # points each higher (lower) than the one before
WINDOW = 3  # two-in-three: the window ...
NEAR_NEEDED = 2  # ... and how many of its points lie near a limit

COMMON_CAUSE = "common_cause"
IMPROVEMENT = "improvement"
CONCERN = "concern"
KINDS = (COMMON_CAUSE, IMPROVEMENT, CONCERN)

OUTSIDE_LIMITS = "outside_limits"
SHIFT = "shift"
TREND_RULE = "trend"
TWO_IN_THREE = "two_in_three"
RULES = (OUTSIDE_LIMITS, SHIFT, TREND_RULE, TWO_IN_THREE)

CONSISTENTLY_PASSES = "consistently_passes"
CONSISTENTLY_FAILS = "consistently_fails"
HIT_AND_MISS = "hit_and_miss"
ASSURANCES = (CONSISTENTLY_PASSES, CONSISTENTLY_FAILS, HIT_AND_MISS)

# The words of Making Data Count, for pages: text, never only an icon.
VARIATION_LABELS = {
    COMMON_CAUSE: "Common cause variation",
    IMPROVEMENT: "Special cause improving variation",
    CONCERN: "Special cause concerning variation",
}
KIND_LABELS = {
    COMMON_CAUSE: "Common cause",
    IMPROVEMENT: "Improvement",
    CONCERN: "Concern",
}
ASSURANCE_LABELS = {
    CONSISTENTLY_PASSES: "The target will consistently be met",
    CONSISTENTLY_FAILS: "The target will consistently be missed",
    HIT_AND_MISS: "The target will be hit and missed at random",
}
RULE_LABELS = {
    OUTSIDE_LIMITS: "outside a process limit",
    SHIFT: f"{RUN} or more points on one side of the mean",
    TREND_RULE: f"{TREND} or more points each rising or each falling",
    TWO_IN_THREE: f"{NEAR_NEEDED} of {WINDOW} points near a process limit",
}


@dataclass(frozen=True)
class Point:
    period: str
    value: float
    kind: str  # one of KINDS
    rules: tuple[str, ...]  # the RULES it breaks, in RULES order


@dataclass(frozen=True)
class Limits:
    mean: float
    amr: float  # the average moving range after screening
    upper: float
    lower: float
    near_upper: float
    near_lower: float


@dataclass(frozen=True)
class Segment:
    points: tuple[Point, ...]
    mean: float | None  # None only for a segment without points
    limits: Limits | None  # None under MIN_POINTS points

    @property
    def provisional(self) -> bool:
        """Limits drawn from fewer than STABLE_POINTS points may still move."""
        return self.limits is not None and len(self.points) < STABLE_POINTS


@dataclass(frozen=True)
class Chart:
    segments: tuple[Segment, ...]
    variation: str | None  # the latest point's kind; None when it was not judged
    assurance: str | None  # None without a target, or without limits to judge it by


def as_float(value: Number) -> float:
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{value!r} is not a finite number")
    return result


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def limits(values: Sequence[float]) -> Limits:
    """The mean, the screened average moving range and the four limits of ≥ 2 values."""
    mean = _mean(values)
    # map() over the shifted values: the same floats as abs(b - a) pair by pair, without a
    # Python-level loop (the whole market judges 32,000 segments per publication).
    ranges = list(map(abs, map(sub, values[1:], values)))
    amr = _mean(ranges)
    screen = SCREEN * amr
    kept = [r for r in ranges if r < screen]
    # Nothing survives only when every range is 0 (amR = 0): the process never moved.
    amr = _mean(kept) if kept else 0.0
    spread, near = LIMIT * amr, NEAR * LIMIT * amr
    return Limits(mean, amr, mean + spread, mean - spread, mean + near, mean - near)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _runs(signs: Sequence[int], length: int) -> set[int]:
    """Indices in maximal runs of ≥ `length` equal, non-zero signs."""
    flagged: set[int] = set()
    start = 0
    for end in range(1, len(signs) + 1):
        if end == len(signs) or signs[end] != signs[start]:
            if signs[start] != 0 and end - start >= length:
                flagged.update(range(start, end))
            start = end
    return flagged


def _two_in_three(values: Sequence[float], sides: Sequence[int], lim: Limits) -> set[int]:
    def near(i: int) -> bool:
        x = values[i]
        if sides[i] > 0:
            return lim.near_upper < x <= lim.upper
        if sides[i] < 0:
            return lim.lower <= x < lim.near_lower
        return False

    flagged: set[int] = set()
    for start in range(len(values) - WINDOW + 1):
        window = range(start, start + WINDOW)
        if sides[start] == 0 or any(sides[i] != sides[start] for i in window):
            continue
        close = [i for i in window if near(i)]
        if len(close) >= NEAR_NEEDED:
            flagged.update(close)
    return flagged


def segment(points: Sequence[tuple[str, Number]], *, higher_is_better: bool) -> Segment:
    """One segment's chart: its mean, limits (from MIN_POINTS points) and each point's kind."""
    periods = [period for period, _value in points]
    values = [as_float(value) for _period, value in points]
    if len(values) < MIN_POINTS:
        mean = _mean(values) if values else None
        common = tuple(Point(p, v, COMMON_CAUSE, ()) for p, v in zip(periods, values, strict=True))
        return Segment(common, mean, None)
    lim = limits(values)
    sides = [_sign(x - lim.mean) for x in values]
    # steps[i] is the direction from point i−1 to point i; the first point has none.
    steps = [0] + [_sign(b - a) for a, b in pairwise(values)]
    broken = {
        OUTSIDE_LIMITS: {i for i, x in enumerate(values) if x > lim.upper or x < lim.lower},
        SHIFT: _runs(sides, RUN),
        TREND_RULE: _runs(steps, TREND),
        TWO_IN_THREE: _two_in_three(values, sides, lim),
    }
    better = 1 if higher_is_better else -1
    result = []
    for i, (period, x) in enumerate(zip(periods, values, strict=True)):
        rules = tuple(rule for rule in RULES if i in broken[rule])
        kind = COMMON_CAUSE if not rules else IMPROVEMENT if sides[i] == better else CONCERN
        result.append(Point(period, x, kind, rules))
    return Segment(tuple(result), lim.mean, lim)


def assurance(lim: Limits | None, target: Number | None, *, higher_is_better: bool) -> str | None:
    """Whether the process will meet a target: judged by its process limits."""
    if lim is None or target is None:
        return None
    goal = as_float(target)
    if higher_is_better:
        if goal < lim.lower:
            return CONSISTENTLY_PASSES
        if goal > lim.upper:
            return CONSISTENTLY_FAILS
    else:
        if goal > lim.upper:
            return CONSISTENTLY_PASSES
        if goal < lim.lower:
            return CONSISTENTLY_FAILS
    return HIT_AND_MISS


def chart(
    segments: Sequence[Sequence[tuple[str, Number]]],
    *,
    higher_is_better: bool,
    target: Number | None = None,
) -> Chart:
    """A whole series: each segment (a metric version) computed on its own, oldest first.

    The variation and the assurance are the latest segment's: its latest point's kind, and
    the target against its limits. Without limits there, neither is judged (None).
    """
    charted = tuple(
        segment(points, higher_is_better=higher_is_better) for points in segments if points
    )
    latest = charted[-1] if charted else None
    if latest is None or latest.limits is None:
        return Chart(charted, None, None)
    return Chart(
        charted,
        latest.points[-1].kind,
        assurance(latest.limits, target, higher_is_better=higher_is_better),
    )
