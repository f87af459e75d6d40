"""Structured (JSON lines) logging, so operators can search logs by field.

Every record is one JSON object on one line: time, level, logger, message, and whatever the
caller passed in `extra=` (for requests: method, path, status, duration_ms).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # default=str: an odd value in `extra` (a date, a Decimal) must never lose the line.
        return json.dumps(entry, default=str)


def configure(level: str = "INFO") -> None:
    """Send the application's logs to standard error as JSON lines (once per process)."""
    root = logging.getLogger("marketplace")
    if any(getattr(h, "_marketplace", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._marketplace = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
