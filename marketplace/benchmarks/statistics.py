"""The statistics method of DOMAIN.md, as pure functions: no database, no Flask.

Inputs may be Decimal (as stored); everything here works in floats, and results are floats.
The definitions are written out for the public on the /methodology page; keep them in step.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

Number = float | int | Decimal
T = TypeVar("T")

QUARTILES = (0.25, 0.5, 0.75)
BANDS = (1, 2, 3, 4)
BAND_LABELS = {
    1: "Top quartile",
    2: "Second quartile",
    3: "Third quartile",
    4: "Bottom quartile",
}
# Scores that agree to this many decimal places tie: a weighted mean reached by different
# sums of floats (say 50+100 over 2 and 75) must not be split by a rounding error.
RANK_DECIMALS = 9


def as_float(value: Number) -> float:
    """A finite float from a stored number; anything else is a programming error."""
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{value!r} is not a finite number")
    return result


def sorted_floats(values: Iterable[Number]) -> list[float]:
    return sorted(as_float(v) for v in values)


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (PostgreSQL percentile_cont, NumPy 'linear').

    With n sorted values x[0..n-1], the position is h = q × (n − 1) and the result is
    x[⌊h⌋] + (h − ⌊h⌋) × (x[⌊h⌋ + 1] − x[⌊h⌋]). The float arithmetic is the same as
    PostgreSQL's (lo + t × (hi − lo)), so both databases give bit-identical figures;
    NumPy rearranges the sum when t ≥ 0.5 and may differ in the last binary digit.
    """
    n = len(sorted_values)
    if n == 0:
        raise ValueError("the quantile of no values is undefined")
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be between 0 and 1")
    position = q * (n - 1)
    lower = math.floor(position)
    low = sorted_values[lower]
    if lower == position or lower + 1 >= n:
        return float(low)
    high = sorted_values[lower + 1]
    return float(low + (position - lower) * (high - low))


@dataclass(frozen=True)
class Summary:
    """The five figures published for a peer group."""

    n: int
    minimum: float
    p25: float
    median: float
    p75: float
    maximum: float


def summarise(values: Iterable[Number]) -> Summary | None:
    """n, minimum, quartiles and maximum of a peer group; None for an empty group."""
    ordered = sorted_floats(values)
    if not ordered:
        return None
    return summary_of_sorted(ordered)


def summary_of_sorted(ordered: Sequence[float]) -> Summary:
    return Summary(
        n=len(ordered),
        minimum=float(ordered[0]),
        p25=quantile(ordered, 0.25),
        median=quantile(ordered, 0.5),
        p75=quantile(ordered, 0.75),
        maximum=float(ordered[-1]),
    )


def performance_percentile(
    sorted_values: Sequence[float], value: Number, *, higher_is_better: bool
) -> float | None:
    """Where a peer stands among its peers, 0–100, 100 = best.

    100 × (peers strictly worse + 0.5 × other peers tied) ÷ (n − 1), where n counts the peer
    itself. A group of one has nobody to compare with, so the answer is None. The value must
    be one of the group's values (the peer's own); otherwise ValueError.
    """
    return _member_position(sorted_values, value, higher_is_better)[0]


def group_placer(
    sorted_values: Sequence[float],
    p25: Number,
    median: Number,
    p75: Number,
    *,
    higher_is_better: bool,
    missing: T,
) -> Callable[[Number | None], tuple[float | None, int | None] | T]:
    """(percentile, band) of many values of one group: the one place both are worked out.

    Pages place up to a thousand values in the same group, so the group's facts are bound
    once and each value costs two binary searches and one call for its band. `missing` is
    the answer for None or a value that is not one of the group's; (None, None) for a group
    of one, which has nobody to compare with.
    """
    n = len(sorted_values)
    low_cut, middle, high_cut = float(p25), float(median), float(p75)
    nobody: tuple[None, None] = (None, None)

    def place(value: Number | None) -> tuple[float | None, int | None] | T:
        if value is None:
            return missing
        v = float(value)
        low = bisect_left(sorted_values, v)
        high = bisect_right(sorted_values, v, low)
        if high == low:  # not a value of this group (NaN lands here too)
            return missing
        if n < 2:
            return nobody
        worse = low if higher_is_better else n - high
        percentile = 100.0 * (worse + 0.5 * (high - low - 1)) / (n - 1)
        return percentile, _band(v, low_cut, middle, high_cut, higher_is_better)

    return place


def _member_position(
    sorted_values: Sequence[float], value: Number, higher_is_better: bool
) -> tuple[float | None, int | None]:
    """group_placer for one value of a group given only its values; ValueError if it is not
    one of them."""
    v = as_float(value)
    if not sorted_values:
        raise ValueError(f"{value!r} is not a value of this peer group")
    summary = summary_of_sorted(sorted_values)
    where = group_placer(
        sorted_values,
        summary.p25,
        summary.median,
        summary.p75,
        higher_is_better=higher_is_better,
        missing=None,
    )(v)
    if where is None:
        raise ValueError(f"{value!r} is not a value of this peer group")
    return where


def quartile_band(
    value: Number, p25: Number, median: Number, p75: Number, *, higher_is_better: bool
) -> int:
    """1 (best) to 4: at or better than the top cut, the median, the bottom cut, or none.

    The top cut is p75 when higher is better and p25 when lower is better. For a value
    placed without the group's sorted values; group_placer bands a member's the same way.
    """
    return _band(as_float(value), float(p25), float(median), float(p75), higher_is_better)


def _band(v: float, p25: float, median: float, p75: float, higher_is_better: bool) -> int:
    # Written out rather than looped: pages place a thousand values at a time.
    if higher_is_better:
        return 1 if v >= p75 else 2 if v >= median else 3 if v >= p25 else 4
    return 1 if v <= p25 else 2 if v <= median else 3 if v <= p75 else 4


@dataclass(frozen=True)
class Position:
    percentile: float | None
    band: int | None


def position_in_group(
    sorted_values: Sequence[float], value: Number, *, higher_is_better: bool
) -> Position:
    """Percentile and band of one peer in its group; both None when the group has one member.

    A lone centre is not 'top quartile': without a second peer there is no comparison.
    """
    return Position(*_member_position(sorted_values, value, higher_is_better))


@dataclass(frozen=True)
class WeightedScore:
    score: float | None  # None when the centre has data for none of the weighted metrics
    coverage: float  # share of the total weight, 0–1, that had data


def weighted_score(
    percentiles: Mapping[Hashable, Number | None], weights: Mapping[Hashable, Number]
) -> WeightedScore:
    """Σ wᵢ·percentileᵢ ÷ Σ wᵢ over the weighted metrics the centre has a percentile for.

    Metrics the centre lacks are left out rather than counted as zero; coverage says how
    much of the weight that left, so a high score on thin data is visible as such.
    """
    total = 0.0
    covered = 0.0
    weighted_sum = 0.0
    for key, raw_weight in weights.items():
        weight = as_float(raw_weight)
        if weight < 0:
            raise ValueError(f"weight for {key!r} is negative")
        if weight == 0:
            continue
        total += weight
        percentile = percentiles.get(key)
        if percentile is None:
            continue
        covered += weight
        weighted_sum += weight * as_float(percentile)
    if covered == 0:
        return WeightedScore(None, 0.0)
    return WeightedScore(weighted_sum / covered, covered / total)


def competition_ranks(
    scores: Mapping[Hashable, Number | None], *, higher_is_better: bool = True
) -> dict[Hashable, int | None]:
    """Standard competition ranking (1, 1, 3): tied scores share a rank, the next is skipped.

    Entries without a score are not ranked (None).
    """
    keyed = {
        key: round(as_float(score), RANK_DECIMALS)
        for key, score in scores.items()
        if score is not None
    }
    ordered = sorted(keyed.values(), reverse=higher_is_better)
    ranks: dict[Hashable, int | None] = {key: None for key in scores}
    for key, score in keyed.items():
        if higher_is_better:
            ranks[key] = 1 + sum(1 for s in ordered if s > score)
        else:
            ranks[key] = 1 + sum(1 for s in ordered if s < score)
    return ranks


def volume_weighted_mean(pairs: Iterable[tuple[Number | None, Number | None]]) -> float | None:
    """Σ valueᵢ·volumeᵢ ÷ Σ volumeᵢ, skipping pairs with a missing value or volume.

    How several centres or services are aggregated (the GOV.UK Performance Platform's rule):
    a unit cost over many services is total cost over total transactions, not a plain mean.
    """
    total_volume = 0.0
    weighted = 0.0
    for value, volume in pairs:
        if value is None or volume is None:
            continue
        w = as_float(volume)
        if w < 0:
            raise ValueError("volumes cannot be negative")
        total_volume += w
        weighted += as_float(value) * w
    if total_volume == 0:
        return None
    return weighted / total_volume


def contains_sorted(sorted_items: Sequence, item) -> bool:
    """Membership in an ascending list by binary search."""
    index = bisect_left(sorted_items, item)
    return index < len(sorted_items) and sorted_items[index] == item


def can_disclose(n: int, minimum_group: int) -> bool:
    """The confidentiality rule: a peer statistic is public only from minimum_group centres."""
    return n >= minimum_group
