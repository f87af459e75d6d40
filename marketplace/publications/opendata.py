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


LEAGUE_COLUMNS = (
    "period",
    "service_line",
    "metric",
    "metric_version",
    "metric_name",
    "direction",
    "ranked",
    "peer_n",
    "rank",
    "centre",
    "centre_name",
    "value",
    "band",
)


def league_csv(documents: list[dict]) -> bytes:
    """Service lines' league tables as one CSV, one row per centre and metric, best first.

    Exactly the published documents' rows, for people who want to sort or filter them in a
    spreadsheet; the open data (to_csv) holds the same ranks beside every other figure.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LEAGUE_COLUMNS)
    for document in documents:
        for table in document["tables"]:
            for entry in table["entries"]:
                writer.writerow(
                    [
                        document["period"]["code"],
                        safe_cell(table["service_line"]),
                        table["code"],
                        table["version"],
                        safe_cell(table["name"]),
                        table["direction"],
                        "true" if table["ranked"] else "false",
                        table["n"],
                        "" if entry["rank"] is None else entry["rank"],
                        safe_cell(entry["centre_slug"]),
                        safe_cell(entry["centre_name"]),
                        entry["value"],
                        "" if entry["band"] is None else entry["band"],
                    ]
                )
    return buffer.getvalue().encode("utf-8")
