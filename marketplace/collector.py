"""Pausing Python's cyclic garbage collector around bulk work that makes no garbage cycles.

An upload builds hundreds of thousands of short-lived tuples and lists; each few hundred
allocations start a collection, and the full ones walk every object the process holds (the
ORM's, the templates', SQLAlchemy's caches). On bench/ingest.py's national import that was
40 % of the time (60 files: 9,484 rows/s with the collector, 15,823 without). Reference
counting still frees everything as usual; only cycles wait, and the collector is back, on
its usual schedule, as soon as the last paused section ends.

gc.disable() is process-wide, so paused sections count: a thread's section ending never
turns the collector back on under another's, and a collector switched off by someone else
is left off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0
_was_enabled = True


@contextmanager
def paused() -> Iterator[None]:
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
