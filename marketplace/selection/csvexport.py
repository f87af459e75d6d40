"""CSV downloads that are safe to open in a spreadsheet.

A text cell that starts with = + - @ (or a tab or carriage return) would be read as a formula
by Excel, LibreOffice and Google Sheets ("CSV injection"); such cells are prefixed with a
single quote, which the spreadsheet shows as text. Numbers we write ourselves are left as
numbers: a negative score is a number, not a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response

from marketplace.spreadsheets import FORMULA_STARTS as FORMULA_PREFIXES  # noqa: F401
from marketplace.spreadsheets import neutralise


def to_csv(rows: Iterable[Sequence]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue()


def csv_response(rows: Iterable[Sequence], filename: str) -> Response:
    # A BOM so that Excel reads UTF-8 (the £ sign) correctly.
    body = "\ufeff" + to_csv(rows)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
