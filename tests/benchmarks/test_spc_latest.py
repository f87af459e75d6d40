"""The latest-point shortcut gives exactly spc.chart's variation and rules."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.benchmarks import spc, spc_latest
from tests.benchmarks.test_spc import load_service_series


def full(values, higher_is_better):
    segment = spc.segment(
        [(str(i), v) for i, v in enumerate(values)], higher_is_better=higher_is_better
    )
    if segment.limits is None:
        return None
    last = segment.points[-1]
    return last.kind, last.rules


def short(values, higher_is_better):
    found = spc_latest.latest(values, higher_is_better=higher_is_better)
    return None if found is None else (found.kind, found.rules)


# Small integers make ties, points on the mean, flat runs and near-limit clusters common.
series = st.lists(st.integers(min_value=0, max_value=6).map(float), min_size=1, max_size=45)


@settings(max_examples=3000, deadline=None)
@given(series, st.booleans())
def test_agrees_with_the_full_chart_on_tie_heavy_series(values, higher_is_better):
    assert short(values, higher_is_better) == full(values, higher_is_better)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=45,
    ),
    st.booleans(),
)
def test_agrees_with_the_full_chart_on_any_floats(values, higher_is_better):
    assert short(values, higher_is_better) == full(values, higher_is_better)


def test_agrees_on_crafted_rule_edges():
    cases = [
        [10.0] * 12,  # no movement at all
        [10.0, 11.0] * 6 + [30.0],  # outside the upper limit
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],  # seven rises
        [5.0] * 4 + [6.0] * 7,  # a shift of seven
        [5.0] * 4 + [6.0] * 6,  # six: not a shift
    ]
    rng = random.Random(7)
    cases += [[round(rng.gauss(10, 1), 1) for _ in range(rng.randint(8, 40))] for _ in range(500)]
    for values in cases:
        for direction in (True, False):
            assert short(values, direction) == full(values, direction), values


def test_agrees_on_every_real_series():
    checked = 0
    for _name, points in load_service_series():
        values = [float(v) for _period, v in points]
        for direction in (True, False):
            assert short(values, direction) == full(values, direction)
        checked += 1
    assert checked > 200
