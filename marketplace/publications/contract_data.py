"""Open data of contract KPI ratings: /reports/<period>/contracts.csv and .json.

One row per KPI of every contract live in a published quarter (contracts.open_data): buyer,
centre, value, dates, KPI metric, target, the centre's figure, the computed rating, the
rating that stands (the buyer's override, else computed) and the buyer's reason. Unlike the
period's figures these are not stored files: a buyer may override a rating at any time, so
the file is built on request, byte-for-byte the same while nothing changes (its ETag is its
SHA-256). Text is defused for spreadsheets (marketplace.spreadsheets); numbers are written
with the digits stored, never through a float in the CSV.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal

from marketplace.contracts.services import OPEN_DATA_COLUMNS
from marketplace.spreadsheets import neutralise_text

LICENCE = "Open Government Licence v3.0"
TEXT_COLUMNS = frozenset({"buyer", "buyer_name", "centre", "centre_name", "metric_name", "reason"})
NUMBER_COLUMNS = frozenset({"value", "target", "figure"})


def _digits(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def to_csv(records: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(OPEN_DATA_COLUMNS)
    for record in records:
        row = []
        for column in OPEN_DATA_COLUMNS:
            value = record[column]
            if value is None:
                row.append("")
            elif column in NUMBER_COLUMNS:
                row.append(_digits(Decimal(value)))
            elif column in TEXT_COLUMNS:
                row.append(neutralise_text(str(value)))
            else:
                row.append(str(value))
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def to_json(period_code: str, records: list[dict]) -> bytes:
    document = {
        "title": f"Contract KPI ratings, {period_code}",
        "period": period_code,
        "licence": LICENCE,
        "columns": list(OPEN_DATA_COLUMNS),
        "records": [
            {
                column: (
                    _digits(Decimal(record[column]))
                    if column in NUMBER_COLUMNS and record[column] is not None
                    else record[column]
                )
                for column in OPEN_DATA_COLUMNS
            }
            for record in records
        ],
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def etag(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
