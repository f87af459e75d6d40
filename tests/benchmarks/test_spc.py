"""Statistical process control (benchmarks/spc.py): an oracle on real data, and the edge cases.

The oracle is a second computation of DOMAIN.md's rules written here with NumPy, in another
shape (sliding windows over arrays where the module walks maximal runs), so that a slip in
either shows up as a disagreement on the real GOV.UK series in tests/data.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from marketplace.benchmarks import spc

DATA = Path(__file__).resolve().parents[1] / "data" / "transaction-volumes.csv"
COST_SUFFIX = ": cost per transaction (£)"


# --- the independent computation ----------------------------------------------------------


def oracle(values, *, higher_is_better: bool):
    """(mean, limits or None, kinds) by DOMAIN.md, from scratch with NumPy."""
    x = np.array(values, dtype=float)
    n = len(x)
    mean = float(np.mean(x))
    if n < 8:
        return mean, None, ["common_cause"] * n
    mr = np.abs(np.diff(x))
    amr = float(np.mean(mr))
    screened = mr[mr < 3.267 * amr]
    amr = float(np.mean(screened)) if screened.size else 0.0
    upl, lpl = mean + 2.66 * amr, mean - 2.66 * amr
    nupl, nlpl = mean + 2 * 2.66 * amr / 3, mean - 2 * 2.66 * amr / 3
    above, below = x > mean, x < mean

    flag = x > upl
    flag |= x < lpl
    # Shift: any 7-wide window wholly above (or below) the mean flags all its points.
    for i in range(n - 6):
        if above[i : i + 7].all() or below[i : i + 7].all():
            flag[i : i + 7] = True
    # Trend: any 7 consecutive differences all > 0 (or all < 0) flag the 7 later points.
    d = np.diff(x)
    for j in range(len(d) - 6):
        if (d[j : j + 7] > 0).all() or (d[j : j + 7] < 0).all():
            flag[j + 1 : j + 8] = True
    # Two in three: same side, ≥ 2 strictly past the near limit and not past the process limit.
    near_hi = above & (x > nupl) & (x <= upl)
    near_lo = below & (x < nlpl) & (x >= lpl)
    for i in range(n - 2):
        w = slice(i, i + 3)
        if above[w].all() and near_hi[w].sum() >= 2:
            flag[w] |= near_hi[w]
        if below[w].all() and near_lo[w].sum() >= 2:
            flag[w] |= near_lo[w]

    better = above if higher_is_better else below
    kinds = [
        "common_cause" if not f else "improvement" if b else "concern"
        for f, b in zip(flag, better, strict=True)
    ]
    return mean, (mean, upl, lpl, nupl, nlpl), kinds


def close(ours: float, theirs: float, data) -> bool:
    """Equal to within a few ulps of the data's magnitude (fsum and NumPy's pairwise sums)."""
    scale = max(abs(float(v)) for v in data)
    return abs(ours - theirs) <= 16 * np.spacing(scale)


# --- the real data -------------------------------------------------------------------------


def load_service_series() -> list[tuple[str, list[tuple[str, Decimal]]]]:
    """Each service's costs per transaction in period order, blanks skipped."""
    with DATA.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header, services = rows[0], rows[1:]
    columns = [
        (i, h.removesuffix(COST_SUFFIX)) for i, h in enumerate(header) if h.endswith(COST_SUFFIX)
    ]
    assert len(columns) == 21
    series = []
    for row in services:
        points = [(period, Decimal(row[i].strip())) for i, period in columns if row[i].strip()]
        series.append((row[4], points))
    return series


@pytest.fixture(scope="module")
def service_series():
    if not DATA.exists():
        pytest.skip(f"{DATA} is not present")
    series = load_service_series()
    assert len(series) == 734
    return series


def test_every_real_series_agrees_with_the_oracle(service_series):
    compared = charted = special = 0
    kinds_seen: set[str] = set()
    for name, points in service_series:
        if not points:
            continue
        values = [float(v) for _p, v in points]
        chart = spc.chart([points], higher_is_better=False)
        (seg,) = chart.segments
        mean, limits, kinds = oracle(values, higher_is_better=False)
        assert close(seg.mean, mean, values), name
        assert [p.kind for p in seg.points] == kinds, name
        assert [p.period for p in seg.points] == [p for p, _v in points]
        if limits is None:
            assert seg.limits is None and chart.variation is None, name
        else:
            lim = seg.limits
            ours = (lim.mean, lim.upper, lim.lower, lim.near_upper, lim.near_lower)
            for a, b in zip(ours, limits, strict=True):
                assert close(a, b, values), name
            assert chart.variation == kinds[-1], name
            assert seg.provisional == (len(values) < 12)
            charted += 1
        compared += 1
        special += sum(k != "common_cause" for k in kinds)
        kinds_seen.update(kinds)
    # The numbers the report quotes; they pin the data as well as the method.
    # 238 of the 734 services report a cost at all; 119 have the 8 points limits need.
    assert (compared, charted, special) == (238, 119, 1120)
    assert kinds_seen == {"common_cause", "improvement", "concern"}


# --- edge cases ----------------------------------------------------------------------------


def pts(*values):
    return [(f"2020-Q{i}", v) for i, v in enumerate(values)]


def kinds(values, higher_is_better=True):
    return [p.kind for p in spc.segment(pts(*values), higher_is_better=higher_is_better).points]


def rules(values, higher_is_better=True):
    return [
        set(p.rules) for p in spc.segment(pts(*values), higher_is_better=higher_is_better).points
    ]


def test_a_point_exactly_on_the_mean_ends_a_run():
    # Six above, one on the mean, six above, and four below: the mean is exactly 10.
    values = [11, 11, 11, 11, 11, 11, 10, 11, 11, 11, 11, 11, 11, 7, 7, 7, 7]
    seg = spc.segment(pts(*values), higher_is_better=True)
    assert seg.mean == 10
    assert all("shift" not in p.rules for p in seg.points[:13])
    # Without the point on the mean, the 13 points above make a run.
    values[6] = 11
    seg = spc.segment(pts(*values), higher_is_better=True)
    assert all("shift" in p.rules for p in seg.points[:13])


def test_a_run_broken_by_one_point_is_not_a_shift():
    values = [12, 12, 12, 12, 12, 12, 8, 12, 12, 12, 12, 12, 12, 8, 8, 8]
    assert all("shift" not in r for r in rules(values))
    values[6] = 12  # mend the break: 13 points above
    assert all("shift" in r for r in rules(values)[:13])


def test_seven_points_on_one_side_are_a_shift_six_are_not():
    # Around a mean of about 5.8 the 6s lie above it, but each alone between two 4s.
    six = [6, 4, 6, 4, 6, 4, 7, 7, 7, 7, 7, 7, 4, 6, 4, 6]
    assert all("shift" not in r for r in rules(six))
    seven = [6, 4, 6, 4, 6, 4, 7, 7, 7, 7, 7, 7, 7, 4, 6, 4, 6]
    assert [("shift" in r) for r in rules(seven)] == [False] * 6 + [True] * 7 + [False] * 4


def test_a_trend_needs_seven_points_each_higher_than_the_one_before():
    # 1..8 rising: 7 points each higher than the one before (the first is the base).
    values = [5, 5, 5, 5, 1, 2, 3, 4, 5, 6, 7, 8, 5, 5]
    flags = rules(values)
    assert [("trend" in r) for r in flags] == [False] * 5 + [True] * 7 + [False] * 2
    # Six rises (seven values): not a trend under DOMAIN.md.
    values = [5, 5, 5, 5, 1, 2, 3, 4, 5, 6, 7, 5, 5, 5]
    assert all("trend" not in r for r in rules(values))


def test_an_equal_value_breaks_a_trend():
    values = [5, 5, 5, 1, 2, 3, 4, 4, 5, 6, 7, 8, 5, 5]
    assert all("trend" not in r for r in rules(values))
    values[7] = 4.5
    assert any("trend" in r for r in rules(values))


def test_a_falling_trend_counts_too():
    values = [5, 5, 5, 9, 8, 7, 6, 5, 4, 3, 2, 5, 5]
    assert [("trend" in r) for r in rules(values)][4:11] == [True] * 7


def test_the_moving_range_screen_changes_amr():
    values = [10, 11, 10, 11, 10, 11, 50, 11, 10, 11, 10, 11]
    raw = np.abs(np.diff(values))
    assert raw.max() >= 3.267 * raw.mean()  # the two ranges around 50 are screened out
    lim = spc.limits([float(v) for v in values])
    kept = raw[raw < 3.267 * raw.mean()]
    assert lim.amr == pytest.approx(kept.mean())
    assert lim.amr < raw.mean()
    assert lim.upper == pytest.approx(np.mean(values) + 2.66 * kept.mean())
    seg = spc.segment(pts(*values), higher_is_better=True)
    assert "outside_limits" in seg.points[6].rules


def test_a_constant_series_has_zero_width_limits_and_no_signal():
    seg = spc.segment(pts(*[3] * 10), higher_is_better=True)
    assert seg.limits.amr == 0 and seg.limits.upper == seg.limits.lower == 3
    assert all(p.kind == "common_cause" for p in seg.points)


def two_in_three_series(tail):
    """Twenty points alternating 9 and 11 (mean 10, amR 2), then the given tail."""
    return [9, 11] * 10 + list(tail)


def near(seg, value, side):
    lim = seg.limits
    if side > 0:
        return lim.mean < lim.near_upper < value <= lim.upper
    return lim.lower <= value < lim.near_lower < lim.mean


def test_two_of_three_near_the_limit_on_one_side_are_flagged():
    seg = spc.segment(pts(*two_in_three_series([15, 11, 15])), higher_is_better=True)
    assert near(seg, 15, +1) and seg.limits.mean < 11 < seg.limits.near_upper
    flags = [("two_in_three" in p.rules) for p in seg.points]
    assert flags[-3:] == [True, False, True]  # the near points, not the one between
    assert flags.count(True) == 2
    assert seg.points[-1].kind == "improvement"
    lower_is_better = spc.segment(pts(*two_in_three_series([15, 11, 15])), higher_is_better=False)
    assert lower_is_better.points[-1].kind == "concern"


def test_two_of_three_on_opposite_sides_are_not_flagged():
    seg = spc.segment(pts(*two_in_three_series([15, 5, 11])), higher_is_better=True)
    assert near(seg, 15, +1) and near(seg, 5, -1)
    assert all("two_in_three" not in p.rules for p in seg.points)


def test_a_point_beyond_the_process_limit_does_not_count_as_near():
    within = spc.segment(pts(*two_in_three_series([15, 16, 10])), higher_is_better=True)
    assert near(within, 15, +1) and near(within, 16, +1)
    assert [("two_in_three" in p.rules) for p in within.points[-3:]] == [True, True, False]
    beyond = spc.segment(pts(*two_in_three_series([15, 30, 10])), higher_is_better=True)
    assert near(beyond, 15, +1) and beyond.points[-2].value > beyond.limits.upper
    assert beyond.points[-2].rules == ("outside_limits",)
    assert "two_in_three" not in beyond.points[-3].rules


def test_fewer_than_eight_points_have_no_limits():
    chart = spc.chart([pts(1, 2, 3, 4, 5, 6, 70)], higher_is_better=True, target=3)
    (seg,) = chart.segments
    assert seg.limits is None and not seg.provisional
    assert seg.mean == pytest.approx(13)
    assert all(p.kind == "common_cause" and p.rules == () for p in seg.points)
    assert chart.variation is None and chart.assurance is None


@pytest.mark.parametrize(("count", "provisional"), [(8, True), (11, True), (12, False)])
def test_eight_to_eleven_points_are_provisional(count, provisional):
    seg = spc.segment(pts(*([9, 11] * 6)[:count]), higher_is_better=True)
    assert seg.limits is not None
    assert seg.provisional is provisional


def test_a_version_break_makes_two_segments_each_computed_on_its_own():
    first = pts(*[9, 11] * 5)
    second = [(f"2023-Q{i}", v) for i, v in enumerate([100, 104] * 4)]
    chart = spc.chart([first, second], higher_is_better=True)
    a, b = chart.segments
    assert a.mean == 10 and a.limits.amr == 2
    assert b.mean == 102 and b.limits.amr == 4
    assert all(p.kind == "common_cause" for p in (*a.points, *b.points))
    # As one series the jump would be special cause.
    joined = spc.chart([first + second], higher_is_better=True)
    assert joined.variation != "common_cause"


def test_improvement_or_concern_follows_the_direction():
    values = [10, 11] * 6 + [40]
    assert spc.chart([pts(*values)], higher_is_better=True).variation == "improvement"
    assert spc.chart([pts(*values)], higher_is_better=False).variation == "concern"
    values[-1] = -20
    assert spc.chart([pts(*values)], higher_is_better=True).variation == "concern"
    assert spc.chart([pts(*values)], higher_is_better=False).variation == "improvement"


def test_a_shift_below_the_mean_is_concern_when_higher_is_better():
    values = [12] * 7 + [8] * 7
    ks = kinds(values, higher_is_better=True)
    assert ks == ["improvement"] * 7 + ["concern"] * 7


@pytest.mark.parametrize(
    ("target", "higher_is_better", "expected"),
    [
        # limits of [9, 11] × 6: 4.68 .. 15.32
        (4, True, "consistently_passes"),  # every point above the target
        (16, True, "consistently_fails"),
        (10, True, "hit_and_miss"),
        (16, False, "consistently_passes"),  # a cost: every point below the target
        (4, False, "consistently_fails"),
        (15, False, "hit_and_miss"),
    ],
)
def test_assurance(target, higher_is_better, expected):
    chart = spc.chart([pts(*[9, 11] * 6)], higher_is_better=higher_is_better, target=target)
    assert chart.assurance == expected


def test_no_target_no_assurance_and_decimal_inputs():
    chart = spc.chart([pts(*[Decimal("9.5"), Decimal("10.5")] * 6)], higher_is_better=True)
    assert chart.assurance is None
    assert chart.segments[0].mean == 10.0
