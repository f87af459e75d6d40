"""The one source of 'now'. Tests freeze it; services never call datetime.now() themselves."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    return now().date()


def freeze(moment: datetime | date | None) -> None:
    """Pin the clock (a date means midnight UTC); None lets it run again."""
    global _frozen
    if moment is None:
        _frozen = None
    elif isinstance(moment, datetime):
        _frozen = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    else:
        _frozen = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)


@contextlib.contextmanager
def frozen_at(moment: datetime | date) -> Iterator[None]:
    previous = _frozen
    freeze(moment)
    try:
        yield
    finally:
        freeze(previous)
