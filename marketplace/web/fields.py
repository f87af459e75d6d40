"""marshmallow fields that accept exactly what the OpenAPI document says they accept.

A plain `fields.Date` reads with `date.fromisoformat`, which on Python 3.11 also takes the
basic and week forms of ISO 8601 (`20260101`, `2026-W01-1`): a query such as
`/api/v1/audit-events?to=20260101` was accepted although the document promises
`format: date`, RFC 3339's full-date and nothing else. `IsoDate` reads that form only.
apispec documents it as `format: date`, as it does its parent.
"""

from __future__ import annotations

import re

from marshmallow import fields

# RFC 3339 full-date: four-digit year, two-digit month and day, ASCII digits only.
FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class IsoDate(fields.Date):
    """A calendar date written YYYY-MM-DD, and only so."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not FULL_DATE.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)
