"""The packed form peer groups keep their sorted values and centre ids in."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from marketplace.benchmarks import packing
from marketplace.extensions import db
from tests.factories import PeerStatisticFactory

PURE = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(parent=PURE)
@given(st.lists(st.floats(allow_nan=False), max_size=50).map(sorted))
def test_floats_round_trip(values):
    assert packing.unpack_floats(packing.pack_floats(values)) == tuple(values)


@settings(parent=PURE)
@given(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=50))
def test_ints_round_trip(values):
    assert packing.unpack_ints(packing.pack_ints(values)) == tuple(values)


def test_empty_arrays():
    assert packing.unpack_floats(packing.EMPTY_FLOATS) == ()
    assert packing.unpack_ints(packing.EMPTY_INTS) == ()


def test_a_statistic_decodes_its_values_once_per_row(db_session):
    stats = PeerStatisticFactory(
        packed_values=packing.pack_floats([1.5, 2.5]), packed_centre_ids=packing.pack_ints([4, 9])
    )
    assert stats.peer_values == (1.5, 2.5)
    assert stats.peer_values is stats.peer_values
    assert stats.peer_centre_ids == (4, 9)
    stats.packed_values = packing.pack_floats([3.0])
    assert stats.peer_values == (3.0,)


@pytest.mark.parametrize(
    "data",
    [
        packing.pack_ints([1, 2]),  # the wrong element type
        packing.pack_floats([1.0, 2.0])[:-1],  # truncated
        packing.pack_floats([1.0]) + b"\0",  # trailing bytes
        packing.EMPTY_FLOATS + b"\0",
    ],
)
def test_refuses_bytes_that_are_not_a_packed_float_array(data):
    with pytest.raises(ValueError):
        packing.unpack_floats(data)


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
