"""KPI ratings worked by hand (DOMAIN.md "After the award: contracts and KPIs").

Good if the figure meets the target (direction-aware); else m = |figure − target| ÷ |target|
(against one step of the metric's decimals when the target is 0): Approaching target
m ≤ 5%, Requires improvement m ≤ 15%, Inadequate beyond.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.contracts.ratings import rate, relative_miss

D = Decimal


@pytest.mark.parametrize(
    ("figure", "target", "expected"),
    [
        # higher is better, target 80 (5% of 80 = 4, 15% = 12)
        ("80", "80", "good"),  # exactly on target
        ("95.5", "80", "good"),
        ("76", "80", "approaching_target"),  # m = 4/80 = 5% exactly
        ("75.99", "80", "requires_improvement"),  # m = 4.01/80 = 5.0125%
        ("68", "80", "requires_improvement"),  # m = 12/80 = 15% exactly
        ("67.99", "80", "inadequate"),  # m = 12.01/80 = 15.0125%
        ("0", "80", "inadequate"),
    ],
)
def test_higher_is_better(figure, target, expected):
    assert rate(D(figure), D(target), "higher", 1) == expected


@pytest.mark.parametrize(
    ("figure", "target", "expected"),
    [
        # lower is better, £4.00 per invoice (5% = £0.20, 15% = £0.60)
        ("4.00", "4.00", "good"),
        ("2.07", "4.00", "good"),
        ("4.20", "4.00", "approaching_target"),  # m = 0.20/4 = 5% exactly
        ("4.2001", "4.00", "requires_improvement"),
        ("4.60", "4.00", "requires_improvement"),  # m = 0.60/4 = 15% exactly
        ("4.6001", "4.00", "inadequate"),
        ("10.00", "4.00", "inadequate"),
    ],
)
def test_lower_is_better(figure, target, expected):
    assert rate(D(figure), D(target), "lower", 2) == expected


def test_a_miss_in_the_better_direction_is_good_however_far():
    assert rate(D("1"), D("100"), "lower", 0) == "good"
    assert rate(D("100"), D("1"), "higher", 0) == "good"


def test_a_negative_target_uses_its_size():
    # Net promoter score −10 (higher is better): −10.5 misses by 0.5 ÷ 10 = 5%.
    assert relative_miss(D("-10.5"), D("-10"), 0) == D("0.05")
    assert rate(D("-10.5"), D("-10"), "higher", 0) == "approaching_target"
    assert rate(D("-11.5"), D("-10"), "higher", 0) == "requires_improvement"  # 15%
    assert rate(D("-11.6"), D("-10"), "higher", 0) == "inadequate"


@pytest.mark.parametrize(
    ("figure", "expected_miss", "expected"),
    [
        # target 0.0% off-cycle payments (lower is better), decimals 1: one step is 0.1
        ("0", "0", "good"),
        ("0.005", "0.05", "approaching_target"),  # 0.005 ÷ 0.1 = 5% exactly
        ("0.006", "0.06", "requires_improvement"),
        ("0.015", "0.15", "requires_improvement"),  # 15% exactly
        ("0.016", "0.16", "inadequate"),
        ("0.1", "1", "inadequate"),  # a whole step off the target
    ],
)
def test_a_target_of_zero_is_measured_against_one_decimals_step(figure, expected_miss, expected):
    assert relative_miss(D(figure), D("0"), 1) == D(expected_miss)
    assert rate(D(figure), D("0"), "lower", 1) == expected


def test_a_target_of_zero_higher_is_better_and_decimals_zero():
    # A score target of 0 with decimals 0 (one step is 1): −0.05 misses by 5%.
    assert rate(D("-0.05"), D("0"), "higher", 0) == "approaching_target"
    assert rate(D("-0.2"), D("0"), "higher", 0) == "inadequate"
    assert rate(D("0"), D("0"), "higher", 0) == "good"


def test_decimal_arithmetic_has_no_float_edge():
    # 0.1 + 0.2 style errors would push exactly 5% over the line with floats.
    assert relative_miss(D("0.315"), D("0.3"), 3) == D("0.05")
    assert rate(D("0.315"), D("0.3"), "lower", 3) == "approaching_target"
