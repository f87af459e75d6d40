"""A short-lived cache of what serving a download needs, so that serving a PDF is mostly
send_file, nearly as cheap as a static file.

One object per app (publications.register puts it in app.extensions), its lifetime from
REPORT_LOOKUP_CACHE_SECONDS and its time from the project's clock, so tests can move time
on instead of patching module globals. Entries are immutable copies, never ORM rows.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import Flask, current_app

from marketplace import clock

EXTENSION = "marketplace.report_lookups"
DEFAULT_SIZE = 4096


class LookupCache:
    def __init__(self, lifetime_seconds: float, size: int = DEFAULT_SIZE):
        self.lifetime = timedelta(seconds=max(0.0, lifetime_seconds))
        self.size = size
        self._entries: dict = {}
        self._lock = threading.Lock()  # gunicorn threads share one app

    @property
    def enabled(self) -> bool:
        return self.lifetime > timedelta(0)

    def get(self, key):
        if not self.enabled:
            return None
        with self._lock:
            hit = self._entries.get(key)
        if hit is None or hit[0] <= clock.now():
            return None
        return hit[1]

    def put(self, key, value) -> None:
        if not self.enabled:
            return
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()  # simple and bounded: a burst refills it in a moment
            self._entries[key] = (clock.now() + self.lifetime, value)


def install(app: Flask) -> None:
    app.extensions[EXTENSION] = LookupCache(app.config["REPORT_LOOKUP_CACHE_SECONDS"])


def current() -> LookupCache:
    return current_app.extensions[EXTENSION]
