"""Sorted numbers stored as bytes: the values and centre ids of a peer group.

A peer group keeps its values and its centre ids, each in ascending order, so that a
centre's percentile or membership is a binary search. Kept as JSON, every read parsed every
number as text (about 5 ms for the 32 groups of one comparison at national scale); here
they are kept in PostgreSQL's binary array format — what array_send() produces — which
PostgreSQL writes in the recompute statement itself and Python writes identically for
SQLite, and which one struct call decodes.

Layout of a one-dimensional array without nulls (all integers big-endian):
    int32 ndim = 1, int32 has_nulls = 0, uint32 element type oid, int32 length n,
    int32 lower bound = 1, then per element: int32 byte length, the element's bytes.
An empty array is ndim = 0, has_nulls = 0, the oid, and nothing more.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from functools import lru_cache

FLOAT8_OID = 701
INT4_OID = 23
_HEADER = struct.Struct(">iiI")
_DIMENSION = struct.Struct(">ii")
_SIZES = {FLOAT8_OID: 8, INT4_OID: 4}


@lru_cache(maxsize=256)
def _body(oid: int, n: int) -> struct.Struct:
    """Each element with its length word: (length, value) × n."""
    return struct.Struct(">" + ("id" if oid == FLOAT8_OID else "ii") * n)


def _pack(oid: int, items: Sequence) -> bytes:
    if not items:
        return _HEADER.pack(0, 0, oid)
    size = _SIZES[oid]
    interleaved = [part for item in items for part in (size, item)]
    return (
        _HEADER.pack(1, 0, oid)
        + _DIMENSION.pack(len(items), 1)
        + _body(oid, len(items)).pack(*interleaved)
    )


def _unpack(data: bytes, oid: int) -> tuple:
    ndim, has_nulls, stored_oid = _HEADER.unpack_from(data, 0)
    if stored_oid != oid or has_nulls or ndim not in (0, 1):
        raise ValueError("not a packed one-dimensional array of the expected type")
    if ndim == 0:
        if len(data) != _HEADER.size:
            raise ValueError("packed array has trailing bytes")
        return ()
    n = _DIMENSION.unpack_from(data, _HEADER.size)[0]
    body = _body(oid, n)
    start = _HEADER.size + _DIMENSION.size
    if len(data) != start + body.size:
        raise ValueError("packed array is truncated or has trailing bytes")
    return body.unpack_from(data, start)[1::2]


def pack_floats(values: Iterable[float]) -> bytes:
    return _pack(FLOAT8_OID, [float(v) for v in values])


def pack_ints(values: Iterable[int]) -> bytes:
    return _pack(INT4_OID, [int(v) for v in values])


def unpack_floats(data: bytes) -> tuple[float, ...]:
    return _unpack(bytes(data), FLOAT8_OID)


def unpack_ints(data: bytes) -> tuple[int, ...]:
    return _unpack(bytes(data), INT4_OID)


EMPTY_FLOATS = pack_floats(())
EMPTY_INTS = pack_ints(())
