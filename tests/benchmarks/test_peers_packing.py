"""The packed form peer groups keep their sorted values and centre ids in."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from marketplace.benchmarks import packing, statistics
from marketplace.extensions import db

PURE = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(parent=PURE)
@given(st.lists(st.floats(allow_nan=False), max_size=50).map(sorted))
def test_floats_round_trip(values):
    packed = packing.floats(packing.pack_floats(values))
    assert len(packed) == len(values)
    assert list(packed) == values
    assert [packed[i] for i in range(len(values))] == values
    assert packed == values


@settings(parent=PURE)
@given(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=50))
def test_ints_round_trip(values):
    packed = packing.ints(packing.pack_ints(values))
    assert list(packed) == values
    assert packed[::2] == values[::2]


def test_a_packed_array_behaves_as_a_sequence():
    packed = packing.floats(packing.pack_floats([1.5, 2.5, 4.0]))
    assert packed[-1] == 4.0
    assert packed[1:] == [2.5, 4.0]
    assert 2.5 in packed
    with pytest.raises(IndexError):
        packed[3]
    assert packed == packing.floats(packing.pack_floats([1.5, 2.5, 4.0]))
    assert packed != [1.5]
    assert repr(packed) == "PackedArray([1.5, 2.5, 4.0])"
    assert list(packing.floats(packing.EMPTY_FLOATS)) == []


def test_a_binary_search_reads_the_packed_values_directly():
    rng = random.Random(4)
    values = sorted(round(rng.lognormvariate(1, 1), 2) for _ in range(500))
    packed = packing.floats(packing.pack_floats(values))
    for value in values[::7]:
        for higher in (True, False):
            assert statistics.performance_percentile(
                packed, value, higher_is_better=higher
            ) == statistics.performance_percentile(values, value, higher_is_better=higher)
    assert statistics.contains_sorted(packing.ints(packing.pack_ints([3, 5, 8])), 5)


@pytest.mark.parametrize(
    "data",
    [
        packing.pack_ints([1, 2]),  # the wrong element type
        packing.pack_floats([1.0, 2.0])[:-1],  # truncated
        packing.pack_floats([1.0]) + b"\0",  # trailing bytes
    ],
)
def test_refuses_bytes_that_are_not_a_packed_float_array(data):
    with pytest.raises(ValueError):
        packing.floats(data)


def test_postgresql_packs_exactly_as_python_does(is_postgres):
    if not is_postgres:
        pytest.skip("array_send is PostgreSQL's")
    values = [-1.5, 0.0, 0.1, 2.07, 1234567.123456, math.pi]
    ids = [1, 7, 300, 2**31 - 1]
    packed_values, packed_ids, empty = db.session.execute(
        text(
            "SELECT array_send(CAST(:values AS float8[])), array_send(CAST(:ids AS integer[])),"
            " array_send(CAST(ARRAY[] AS float8[]))"
        ),
        {"values": values, "ids": ids},
    ).one()
    assert bytes(packed_values) == packing.pack_floats(values)
    assert bytes(packed_ids) == packing.pack_ints(ids)
    assert bytes(empty) == packing.EMPTY_FLOATS
