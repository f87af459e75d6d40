"""Price scores and annual costs, against examples worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.benchmarks import drivers
from marketplace.selection.pricing import price_scores

D = Decimal


def test_lowest_scores_100_and_others_100_times_lowest_over_cost():
    # 100 × 100,000 ÷ 125,000 = 80; 100 × 100,000 ÷ 300,000 = 33.333… → 33.33
    assert price_scores({"a": D("100000"), "b": D("125000"), "c": D("300000")}) == {
        "a": D("100.00"),
        "b": D("80.00"),
        "c": D("33.33"),
    }


def test_scores_round_half_up_once():
    # 100 × 1 ÷ 32 = 3.125 exactly: half up gives 3.13 (half to even would give 3.12)
    assert price_scores({"a": 1, "b": 32})["b"] == D("3.13")
    # 100 × 3 ÷ 7 = 42.857142… → 42.86
    assert price_scores({"a": "3", "b": "7"})["b"] == D("42.86")
    # 100 × 140,000 ÷ 260,000 = 53.846… → 53.85
    assert price_scores({"a": D("140000.00"), "b": D("260000.00")})["b"] == D("53.85")


def test_ties_share_100_and_unknown_costs_are_not_scored():
    assert price_scores({"a": D("5"), "b": D("5"), "c": None, "d": D("10")}) == {
        "a": D("100.00"),
        "b": D("100.00"),
        "c": None,
        "d": D("50.00"),
    }
    assert price_scores({"a": None}) == {"a": None}
    assert price_scores({}) == {}


def test_a_free_offer_scores_100_and_every_other_0():
    assert price_scores({"free": 0, "paid": D("10")}) == {"free": D("100.00"), "paid": D("0.00")}


def test_a_negative_cost_is_refused():
    with pytest.raises(ValueError):
        price_scores({"a": D("-1"), "b": D("2")})


def test_annual_cost_is_volume_times_unit_cost_per_driver():
    invoices = drivers.BY_CODE["invoices"]
    assert drivers.annual_cost(40_000, D("3.50"), invoices) == D("140000.00")
    # spend is priced per £1,000: £2,500,000 × £3.40 ÷ 1,000 = £8,500
    spend = drivers.BY_CODE["spend"]
    assert drivers.annual_cost(2_500_000, D("3.40"), spend) == D("8500")
    # a peer quartile (a double) prices through its shortest repr: 2.345, not 2.34499…
    assert drivers.annual_cost(1_000, 2.345, invoices) == D("2345.000")


def test_every_driver_names_a_cost_metric_of_the_library():
    import csv
    from pathlib import Path

    path = Path(__file__).parents[2] / "fixtures/demo/metrics.csv"
    with path.open(encoding="utf-8") as file:
        library = {row["code"]: row for row in csv.DictReader(file)}
    for driver in drivers.DRIVERS:
        metric = library[driver.metric_code]
        assert metric["unit"] == "gbp", driver
        assert metric["direction"] == "lower", driver
    assert library["procurement_cost_per_1000_spend"]["scale"] == "1000"
