"""The statistics method (DOMAIN.md) against NumPy, the standard library, and its properties."""

from __future__ import annotations

import math
import random
import statistics as stdlib_statistics
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.benchmarks import statistics

# The autouse database fixtures do nothing these pure tests depend on.
PURE = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def agrees(ours: float, theirs: float, data) -> bool:
    """Equal, or within a few units in the last place of the data's magnitude.

    NumPy computes b − (b − a)(1 − t) when t ≥ 0.5 where PostgreSQL and we compute
    a + t(b − a); mathematically the same, they may round differently in the last bit.
    """
    scale = max((abs(float(x)) for x in data), default=0.0)
    return ours == theirs or abs(ours - theirs) <= 4 * math.ulp(scale)


def numpy_quartiles(values):
    return [float(q) for q in np.percentile(np.array(values, dtype=float), [25, 50, 75])]


def mean_rank_percentile(values, value, higher_is_better):
    """An independent oracle: the tied group's mean rank, rescaled to 0–100 (100 = best)."""
    arr = np.array(values, dtype=float)
    if not higher_is_better:
        arr, value = -arr, -value
    below = int(np.sum(arr < value))
    equal = int(np.sum(arr == value))
    mean_rank = below + (equal + 1) / 2  # 1-based rank, ties averaged
    return 100 * (mean_rank - 1) / (len(arr) - 1)


# --- quartiles -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 10, 11, 50, 101, 1000])
@pytest.mark.parametrize("kind", ["uniform", "lognormal", "ties", "negative"])
def test_quartiles_match_numpy_linear_on_random_data(size, kind):
    rng = random.Random(f"{size}-{kind}")
    for _ in range(20):
        if kind == "uniform":
            values = [rng.uniform(0, 100) for _ in range(size)]
        elif kind == "lognormal":
            values = [rng.lognormvariate(1.5, 1.2) for _ in range(size)]
        elif kind == "ties":
            values = [float(rng.randint(0, 4)) for _ in range(size)]
        else:
            values = [rng.uniform(-1000, 1000) for _ in range(size)]
        summary = statistics.summarise(values)
        expected = numpy_quartiles(values)
        for ours, theirs in zip((summary.p25, summary.median, summary.p75), expected, strict=True):
            assert agrees(ours, theirs, values), (values, ours, theirs)
        assert summary.minimum == min(values)
        assert summary.maximum == max(values)
        assert summary.n == size


def test_quartiles_of_decimals_match_numpy():
    values = [Decimal("4.12"), Decimal("5.83"), Decimal("2.07"), Decimal("10.5"), Decimal("0.1")]
    summary = statistics.summarise(values)
    expected = numpy_quartiles([float(v) for v in values])
    assert [summary.p25, summary.median, summary.p75] == pytest.approx(expected, abs=1e-12)


def test_worked_example_from_the_methodology_page():
    # 6 values: 2, 4, 4, 5, 7, 9; p25 at h = 0.25 × 5 = 1.25: 4 + 0.25 × (4 − 4) = 4;
    # median at h = 2.5: 4 + 0.5 × (5 − 4) = 4.5; p75 at h = 3.75: 5 + 0.75 × (7 − 5) = 6.5.
    summary = statistics.summarise([9, 4, 2, 5, 7, 4])
    assert (summary.p25, summary.median, summary.p75) == (4.0, 4.5, 6.5)


@settings(parent=PURE)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=40))
def test_quartiles_match_pythons_inclusive_method(values):
    ours = statistics.summarise(values)
    theirs = stdlib_statistics.quantiles(values, n=4, method="inclusive")
    for a, b in zip((ours.p25, ours.median, ours.p75), theirs, strict=True):
        assert abs(a - b) <= 1e-9 * max(1.0, *(abs(v) for v in values))


def test_a_single_value_is_every_quartile():
    assert statistics.summarise([Decimal("3.5")]) == statistics.Summary(1, 3.5, 3.5, 3.5, 3.5, 3.5)
    assert statistics.summarise([]) is None


def test_quantile_refuses_nonsense():
    with pytest.raises(ValueError):
        statistics.quantile([], 0.5)
    with pytest.raises(ValueError):
        statistics.quantile([1.0], 1.5)
    with pytest.raises(ValueError):
        statistics.as_float(Decimal("NaN"))


# --- percentile ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 3, 5, 10, 100])
def test_percentile_matches_mean_rank_oracle(size):
    rng = random.Random(size)
    for _ in range(20):
        values = sorted(float(rng.randint(0, size // 2 + 1)) for _ in range(size))
        for higher in (True, False):
            for v in values:
                ours = statistics.performance_percentile(values, v, higher_is_better=higher)
                assert ours == pytest.approx(mean_rank_percentile(values, v, higher), abs=1e-9)


def test_percentile_examples():
    values = [1.0, 2.0, 2.0, 3.0, 10.0]
    lower = [statistics.performance_percentile(values, v, higher_is_better=False) for v in values]
    higher = [statistics.performance_percentile(values, v, higher_is_better=True) for v in values]
    # 1 beats all four others; each 2 beats two and ties one: (2 + 0.5) / 4.
    assert lower == [100.0, 62.5, 62.5, 25.0, 0.0]
    assert higher == [0.0, 37.5, 37.5, 75.0, 100.0]


def test_percentile_of_a_group_of_one_is_undefined():
    assert statistics.performance_percentile([4.0], 4, higher_is_better=True) is None
    assert statistics.position_in_group([4.0], 4, higher_is_better=True) == statistics.Position(
        None, None
    )


def test_percentile_needs_a_members_value():
    with pytest.raises(ValueError):
        statistics.performance_percentile([1.0, 2.0], 1.5, higher_is_better=True)


def test_everyone_tied_sits_in_the_middle():
    values = [5.0] * 7
    assert statistics.performance_percentile(values, 5, higher_is_better=True) == 50.0


groups = st.lists(
    st.one_of(
        st.integers(-20, 20).map(float),
        st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    ),
    min_size=2,
    max_size=60,
).map(sorted)


@settings(parent=PURE)
@given(groups, st.booleans())
def test_percentile_is_between_0_and_100(values, higher):
    for v in values:
        p = statistics.performance_percentile(values, v, higher_is_better=higher)
        assert 0.0 <= p <= 100.0


@settings(parent=PURE)
@given(groups)
def test_reversing_the_direction_mirrors_the_percentile(values):
    for v in values:
        up = statistics.performance_percentile(values, v, higher_is_better=True)
        down = statistics.performance_percentile(values, v, higher_is_better=False)
        assert down == pytest.approx(100.0 - up, abs=1e-9)


@settings(parent=PURE)
@given(groups, st.booleans(), st.data())
def test_adding_a_worse_peer_never_worsens_anyones_band(values, higher, data):
    member = data.draw(st.sampled_from(values))
    # A peer at or worse than this member, anywhere in (or beyond) the group.
    extra = data.draw(
        st.floats(-2e6, member, allow_nan=False)
        if higher
        else st.floats(member, 2e6, allow_nan=False)
    )
    before = statistics.position_in_group(values, member, higher_is_better=higher)
    after = statistics.position_in_group(sorted([*values, extra]), member, higher_is_better=higher)
    assert after.band <= before.band
    if extra != member:  # a tie is not worse: it may take a share of the member's standing
        assert after.percentile >= before.percentile - 1e-9


@settings(parent=PURE)
@given(groups, st.booleans())
def test_bands_follow_percentiles(values, higher):
    """A better value never gets a worse band than a worse value."""
    positions = {
        v: statistics.position_in_group(values, v, higher_is_better=higher) for v in values
    }
    ordered = sorted(values, reverse=higher)  # best first
    bands = [positions[v].band for v in ordered]
    assert bands == sorted(bands)
    assert all(b in statistics.BANDS for b in bands)


# --- bands -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "higher", "band"),
    [
        (80, True, 1),  # at the top cut (p75) counts as the top band
        (79.99, True, 2),
        (50, True, 2),  # at the median
        (49.99, True, 3),
        (20, True, 3),  # at the bottom cut (p25)
        (19.99, True, 4),
        (20, False, 1),  # lower is better: p25 is the top cut
        (20.01, False, 2),
        (50, False, 2),
        (50.01, False, 3),
        (80, False, 3),
        (80.01, False, 4),
    ],
)
def test_band_cut_points(value, higher, band):
    assert statistics.quartile_band(value, 20, 50, 80, higher_is_better=higher) == band


# --- weighted score, ranks, aggregation ------------------------------------------------------


def test_weighted_score_and_coverage():
    result = statistics.weighted_score(
        {"cost": 80.0, "quality": 40.0, "social": None},
        {"cost": Decimal("50"), "quality": 30, "social": 20},
    )
    assert result.score == pytest.approx((50 * 80 + 30 * 40) / 80)
    assert result.coverage == pytest.approx(0.8)


def test_weighted_score_without_data():
    assert statistics.weighted_score({}, {"cost": 1}) == statistics.WeightedScore(None, 0.0)
    assert statistics.weighted_score({"cost": 50}, {}) == statistics.WeightedScore(None, 0.0)
    with pytest.raises(ValueError):
        statistics.weighted_score({"cost": 50}, {"cost": -1})


@settings(parent=PURE)
@given(
    st.dictionaries(
        st.sampled_from("abcdef"),
        st.one_of(st.none(), st.floats(0, 100, allow_nan=False)),
        min_size=1,
    ),
    st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 100), min_size=1),
)
def test_weighted_score_lies_among_the_percentiles(percentiles, weights):
    result = statistics.weighted_score(percentiles, weights)
    assert 0.0 <= result.coverage <= 1.0
    used = [percentiles[k] for k, w in weights.items() if w and percentiles.get(k) is not None]
    if used:
        assert min(used) - 1e-9 <= result.score <= max(used) + 1e-9
    else:
        assert result.score is None


def test_ranks_share_ties_and_skip():
    ranks = statistics.competition_ranks({"a": 70.0, "b": 90.0, "c": 70.0, "d": 10.0, "e": None})
    assert ranks == {"b": 1, "a": 2, "c": 2, "d": 4, "e": None}
    assert statistics.competition_ranks({"a": 1, "b": 2}, higher_is_better=False) == {
        "a": 1,
        "b": 2,
    }


def test_ranks_treat_float_noise_as_a_tie():
    assert statistics.competition_ranks({"a": (50 + 100) / 2, "b": 0.1 * 3 * 250}) == {
        "a": 1,
        "b": 1,
    }


@settings(parent=PURE)
@given(st.dictionaries(st.integers(0, 30), st.integers(0, 5).map(float), min_size=1))
def test_ties_share_ranks(scores):
    ranks = statistics.competition_ranks(scores)
    for key, score in scores.items():
        assert ranks[key] == 1 + sum(1 for s in scores.values() if s > score)
    for a in scores:
        for b in scores:
            assert (ranks[a] == ranks[b]) == (scores[a] == scores[b])


def test_volume_weighted_mean():
    # Two services: 1,000 transactions at £2 and 9,000 at £12: £110,000 over 10,000.
    assert statistics.volume_weighted_mean([(2, 1000), (Decimal("12"), 9000)]) == 11.0
    assert statistics.volume_weighted_mean([(5, None), (None, 3)]) is None
    assert statistics.volume_weighted_mean([(5, 0)]) is None
    with pytest.raises(ValueError):
        statistics.volume_weighted_mean([(5, -1)])


def test_disclosure_threshold():
    assert not statistics.can_disclose(4, 5)
    assert statistics.can_disclose(5, 5)


def test_contains_sorted():
    assert statistics.contains_sorted([1, 3, 5], 3)
    assert not statistics.contains_sorted([1, 3, 5], 4)
    assert not statistics.contains_sorted([], 4)
