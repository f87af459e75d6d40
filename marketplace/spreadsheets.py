"""The one place that makes text safe to open in a spreadsheet ("CSV injection").

Excel, LibreOffice and Google Sheets run a cell that starts with = + - @ (or a tab or
carriage return) as a formula. A CSV file may be split on `;` as well as `,` (a spreadsheet
set to a European locale does), so `Q3 review;=1+2` holds a formula in its second field:
each field is checked after splitting on both, and a dangerous one gets a leading single
quote, which the spreadsheet shows as text. Numbers we write ourselves stay numbers (a
negative score is a number, not a formula). In an .xlsx file, text cells are written with
the string type, so nothing in them is ever read as a formula.

Every spreadsheet-bound output uses this module: open data, the audit trail export, the
comparison and evaluation downloads, and the upload templates (CSV and Excel).
"""

from __future__ import annotations

import re
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_FIELDS = re.compile(r"([,;])")


def neutralise_text(text: str) -> str:
    """The text with every `,`- or `;`-separated field that could run as a formula defused."""
    if not text:
        return text
    if "," not in text and ";" not in text:
        return _defuse(text)
    return "".join(
        _defuse(part) if part not in (",", ";") else part for part in _FIELDS.split(text)
    )


def _defuse(field: str) -> str:
    stripped = field.lstrip(" ")
    if stripped.startswith(FORMULA_STARTS):
        return "'" + field
    return field


def neutralise(cell):
    """A cell for a CSV row: numbers as they are, None as empty, text defused."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, Decimal):
        # Fixed point: str() would write a rounded zero such as 0E-7 in scientific notation.
        return f"{cell:f}"
    if isinstance(cell, int | float):
        return cell
    return neutralise_text(str(cell))


def xlsx_cell(sheet, value):
    """A write-only sheet's cell: numbers and None as they are, text typed as a string."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=str(value))
    cell.data_type = "s"  # openpyxl would otherwise store '=…' as a formula
    return cell
