"""Sorted numbers stored as bytes and read without parsing them all.

A peer group keeps its values and its centre ids, each in ascending order, so that a
centre's percentile or membership is a binary search. Stored as JSON, every read parsed
every number (about 5 ms for the 32 groups of one comparison page at national scale); here
they are kept in PostgreSQL's binary array format — what array_send() produces — which
PostgreSQL writes in the recompute statement itself and Python writes identically for
SQLite. A PackedArray reads single elements in place, so a bisect touches about ten of them.

Layout of a one-dimensional array without nulls (all integers big-endian):
    int32 ndim = 1, int32 has_nulls = 0, uint32 element type oid, int32 length n,
    int32 lower bound = 1, then per element: int32 byte length, the element's bytes.
An empty array is ndim = 0, has_nulls = 0, the oid, and nothing more.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

FLOAT8_OID = 701
INT4_OID = 23
_HEADER = struct.Struct(">iiI")
_DIMENSION = struct.Struct(">ii")
_KINDS = {
    # oid: (element struct, element size, Python type)
    FLOAT8_OID: (struct.Struct(">d"), 8, float),
    INT4_OID: (struct.Struct(">i"), 4, int),
}


@lru_cache(maxsize=256)
def _body(oid: int, n: int) -> struct.Struct:
    code = "d" if oid == FLOAT8_OID else "i"
    return struct.Struct(">" + ("i" + code) * n)


def _pack(oid: int, items: Sequence) -> bytes:
    if not items:
        return _HEADER.pack(0, 0, oid)
    size = _KINDS[oid][1]
    interleaved = []
    for item in items:
        interleaved += (size, item)
    return (
        _HEADER.pack(1, 0, oid)
        + _DIMENSION.pack(len(items), 1)
        + _body(oid, len(items)).pack(*interleaved)
    )


def pack_floats(values: Iterable[float]) -> bytes:
    return _pack(FLOAT8_OID, [float(v) for v in values])


def pack_ints(values: Iterable[int]) -> bytes:
    return _pack(INT4_OID, [int(v) for v in values])


class PackedArray(Sequence):
    """A read-only sequence over packed bytes; elements are decoded only when read."""

    __slots__ = ("_data", "_element", "_length", "_size", "_type")

    def __init__(self, data: bytes, oid: int):
        ndim, has_nulls, stored_oid = _HEADER.unpack_from(data, 0)
        if stored_oid != oid or has_nulls or ndim not in (0, 1):
            raise ValueError("not a packed one-dimensional array of the expected type")
        self._element, self._size, self._type = _KINDS[oid]
        self._data = data
        self._length = _DIMENSION.unpack_from(data, 12)[0] if ndim else 0
        expected = (20 + self._length * (4 + self._size)) if ndim else 12
        if len(data) != expected:
            raise ValueError("packed array is truncated or has trailing bytes")

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("packed array index out of range")
        return self._element.unpack_from(self._data, 24 + index * (4 + self._size))[0]

    def __iter__(self) -> Iterator:
        if not self._length:
            return iter(())
        items = _body(FLOAT8_OID if self._type is float else INT4_OID, self._length).unpack_from(
            self._data, 20
        )
        return iter(items[1::2])

    def __eq__(self, other) -> bool:
        if isinstance(other, PackedArray):
            return self._data == other._data
        if isinstance(other, list | tuple):
            return list(self) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._data)

    def __repr__(self) -> str:
        return f"PackedArray({list(self)!r})"


def floats(data: bytes) -> PackedArray:
    return PackedArray(data, FLOAT8_OID)


def ints(data: bytes) -> PackedArray:
    return PackedArray(data, INT4_OID)


EMPTY_FLOATS = pack_floats(())
EMPTY_INTS = pack_ints(())
