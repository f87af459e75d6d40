"""Open data files: the published figures of a period as CSV and JSON, byte-for-byte stable."""

from __future__ import annotations

import csv
import io
import json

from marketplace.spreadsheets import neutralise_text

COLUMNS = (
    "period",
    "centre",
    "centre_name",
    "metric",
    "metric_version",
    "metric_name",
    "service_line",
    "unit",
    "direction",
    "value",
    "numerator",
    "denominator",
    "peer_n",
    "peer_median",
    "percentile",
    "band",
    "rank",
    "restated",
)
TEXT_COLUMNS = frozenset({"centre", "centre_name", "metric_name", "service_line"})
NUMBER_COLUMNS = frozenset({"value", "numerator", "denominator", "peer_median", "percentile"})
LICENCE = "Open Government Licence v3.0"


def safe_cell(text: str) -> str:
    """Spreadsheets run formulas: defuse text the one way (marketplace.spreadsheets)."""
    return neutralise_text(text)


def to_csv(data: dict) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for record in data["records"]:
        row = []
        for column in COLUMNS:
            value = record[column]
            if value is None:
                row.append("")
            elif isinstance(value, bool):
                row.append("true" if value else "false")
            elif column in TEXT_COLUMNS:
                row.append(safe_cell(str(value)))
            else:
                row.append(str(value))
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def _number(text: str):
    """A published figure as a JSON number with the same digits ('' becomes null)."""
    if text in ("", None):
        return None
    return int(text) if "." not in text else float(text)


def to_json(data: dict, envelope: dict) -> bytes:
    records = [
        {
            column: _number(record[column]) if column in NUMBER_COLUMNS else record[column]
            for column in COLUMNS
        }
        for record in data["records"]
    ]
    document = {
        "title": data["title"],
        "period": data["period"]["code"],
        "version": envelope["version"],
        "published_at": envelope["published_iso"],
        "publisher": envelope["author"],
        "licence": LICENCE,
        "method_version": data["method_version"],
        "change_note": envelope["change_note"],
        "columns": list(COLUMNS),
        "records": records,
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
