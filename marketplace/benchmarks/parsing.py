"""Reading an uploaded file into raw rows: CSV (long or wide), Excel .xlsx and JSON bodies.

Nothing here judges the values; it only finds out what kind of file it is, refuses files
that cannot be read safely (binary, HTML, macro workbooks, zip bombs), and yields one
RawRow per observation with the row number and column name a person sees in the file.
CSV and the table layouts are read here; workbooks.py opens an .xlsx and json_bodies.py a
JSON body, both into the same RawRows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from marketplace.errors import DomainError, FieldError, ValidationFailed

PERIOD_HEADER = re.compile(r"^\d{4}-[Qq][1-4]$")
# Headers people write for a period in the wide layout that we can point at the right form.
LOOSE_PERIOD_HEADER = re.compile(
    r"^(?:[Qq][1-4][\s/_-]*\d{4}|\d{4}[\s/_]*[Qq][1-4]|\d{4}[Qq][1-4])$"
)
LONG_COLUMNS = ("metric", "period", "value", "numerator", "denominator", "comment")
REQUIRED_LONG = ("metric", "period", "value")

CSV_TYPES = {
    "text/csv",
    "text/plain",
    "application/csv",
    "text/comma-separated-values",
    # What Windows browsers send for .csv when Excel is installed.
    "application/vnd.ms-excel",
}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_TYPES = {"application/json"}
GENERIC_TYPES = {"", "application/octet-stream", "multipart/form-data"}
MACRO_TYPES = {
    "application/vnd.ms-excel.sheet.macroenabled.12",
    "application/vnd.ms-excel.sheet.binary.macroenabled.12",
}


ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary .xls (and .doc)


class UploadTooLarge(DomainError):
    status = 413
    title = "The file is too large"


class UnsupportedMediaType(DomainError):
    status = 415
    title = "That type of file is not supported"


class UnreadableFile(DomainError):
    status = 400
    title = "The file could not be read"


class RawRow(NamedTuple):
    """One observation as written in the file; cells are text, numbers or None.

    A NamedTuple rather than a dataclass: a large file makes hundreds of thousands.
    """

    row: int
    metric: object
    period: object
    value: object
    numerator: object = None
    denominator: object = None
    comment: object = None
    # Where each cell came from, as the person sees it (the wide layout's value column is
    # the period header, e.g. "2026-Q1").
    value_column: str = "value"
    period_column: str = "period"
    # Non-empty cells beyond the header's columns, e.g. the '000' of an unquoted 40,000.
    extra: str | None = None


@dataclass
class ParsedFile:
    file_format: str  # csv_long, csv_wide, xlsx_long, xlsx_wide, json
    rows: Iterator[RawRow]
    errors: list[FieldError] = field(default_factory=list)
    reason: str | None = None  # a JSON body may carry its own reason


def refuse(message: str, *, status_cls=ValidationFailed) -> DomainError:
    return status_cls(message, errors=[FieldError(message, field="file")])


def detect_kind(content: bytes, filename: str, content_type: str) -> str:
    """'csv', 'xlsx' or 'json' — or a clean refusal saying what to send instead."""
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    name = (filename or "").lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ctype in MACRO_TYPES or ext in ("xlsm", "xlsb", "xltm"):
        raise refuse(
            "Macro-enabled workbooks (.xlsm) are not accepted because they can carry code. "
            "Save the workbook as an Excel Workbook (.xlsx) or as CSV and upload that."
        )
    known = CSV_TYPES | JSON_TYPES | GENERIC_TYPES | {XLSX_TYPE}
    if ctype not in known:
        raise UnsupportedMediaType(
            f"Files of type '{ctype}' are not accepted. Upload a CSV file (text/csv), an Excel "
            f"workbook (.xlsx) or a JSON body (application/json)."
        )
    if content.startswith(OLE2_MAGIC):
        raise refuse(
            "This is an old-style Excel file (.xls). Save it as an Excel Workbook (.xlsx) "
            "or as CSV and upload that."
        )
    if content.startswith(ZIP_MAGIC):
        # Whatever it is called, a zip can only be a workbook here; inspect it as one.
        return "xlsx"
    if ctype == XLSX_TYPE or ext == "xlsx":
        raise refuse(
            "The file is named as an Excel workbook but is not one. Open it in Excel, save it "
            "as an Excel Workbook (.xlsx) and upload it again."
        )
    if ctype in JSON_TYPES or ext == "json":
        return "json"
    if ctype in CSV_TYPES or ext in ("csv", "txt", "") or ctype in GENERIC_TYPES:
        return "csv"
    raise UnsupportedMediaType(
        f"Files ending '.{ext}' are not accepted. Upload a CSV file, an Excel workbook "
        "(.xlsx) or a JSON body."
    )


def decode_text(content: bytes) -> str:
    if b"\x00" in content[:8192]:
        raise refuse(
            "This is not a text file (it contains binary data). Export your data as CSV "
            "(UTF-8) or save it as an Excel Workbook (.xlsx).",
            status_cls=UnreadableFile,
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise refuse(
            f"The file is not valid UTF-8 text (byte {error.start + 1} cannot be read). In "
            "Excel choose 'Save as' and 'CSV UTF-8 (Comma delimited)', then upload again.",
            status_cls=UnreadableFile,
        ) from None
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype", "<html", "<?xml", "<head", "<body", "<table", "<meta")):
        raise refuse(
            "This file is a web page (HTML), not CSV, even though it is named like one. "
            "Export the data from your spreadsheet as CSV and upload that file."
        )
    return text


def normalise_header(cell: object) -> str:
    return re.sub(r"\s+", " ", str(cell if cell is not None else "")).strip().lower()


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_table(header: list, body: Iterator[tuple[int, list]], prefix: str) -> ParsedFile:
    """Work out the layout from the header row and turn table rows into RawRows."""
    names = [normalise_header(c) for c in header]
    while names and names[-1] == "" and len(names) > 1:
        names.pop()
    errors: list[FieldError] = []
    if not names or names[0] != "metric":
        found = str(header[0]).strip() if header else ""
        errors.append(
            FieldError(
                f"The first column must be headed 'metric' (found '{found}'). Start the header "
                "row with: metric,period,value — or download a template.",
                field=found or "A",
                row=1,
            )
        )
        return ParsedFile(f"{prefix}_long", iter(()), errors)
    if "period" in names or "value" in names:
        rows = _long_rows(header, names, body, errors)
        return ParsedFile(f"{prefix}_long", rows, errors)
    rows = _wide_rows(header, names, body, errors)
    return ParsedFile(f"{prefix}_wide", rows, errors)


def _no_rows() -> Iterator[RawRow]:
    return iter(())


def _long_rows(header, names, body, errors) -> Iterator[RawRow]:
    """Check the header now (errors are filled in at once); the rows stream later."""
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        label = str(header[index]).strip() if header[index] is not None else ""
        if name in LONG_COLUMNS:
            if name in positions:
                errors.append(
                    FieldError(f"The column '{name}' appears twice. Keep one.", field=label, row=1)
                )
            positions[name] = index
        elif name == "":
            continue
        else:
            errors.append(
                FieldError(
                    f"Unknown column '{label}'. The columns are: metric, period, value and "
                    "optionally numerator, denominator, comment. Rename or delete it.",
                    field=label,
                    row=1,
                )
            )
    for name in REQUIRED_LONG:
        if name not in positions:
            errors.append(
                FieldError(f"Add a column headed '{name}'.", field=name, row=1),
            )
    if errors:
        return _no_rows()
    get = {name: positions.get(name) for name in LONG_COLUMNS}
    return _stream_long(body, get, len(names))


def _is_blank(cells) -> bool:
    try:
        return not "".join(cells).strip()
    except TypeError:  # workbook cells: numbers, dates, None
        return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _stream_long(body, get: dict, width: int) -> Iterator[RawRow]:
    metric, period, value = get["metric"], get["period"], get["value"]
    numerator, denominator, comment = get["numerator"], get["denominator"], get["comment"]
    for row_number, cells in body:
        if _is_blank(cells):
            continue  # blank lines (often at the end of an export) carry nothing
        count = len(cells)
        if count != width:
            if count < width:
                cells = [*cells, *([None] * (width - count))]
                extra = None
            else:
                extra = _overflow(cells[width:])
        else:
            extra = None
        yield RawRow(
            row_number,
            cells[metric],
            cells[period],
            cells[value],
            None if numerator is None else cells[numerator],
            None if denominator is None else cells[denominator],
            None if comment is None else cells[comment],
            "value",
            "period",
            extra,
        )


def _overflow(cells) -> str | None:
    text = ",".join("" if c is None else str(c).strip() for c in cells).strip(",")
    return text or None


def _wide_rows(header, names, body, errors) -> Iterator[RawRow]:
    periods: list[tuple[int, str]] = []
    for index, name in enumerate(names[1:], start=1):
        label = str(header[index]).strip() if header[index] is not None else ""
        if name == "":
            continue
        if PERIOD_HEADER.match(label):
            periods.append((index, label.upper()))
        elif LOOSE_PERIOD_HEADER.match(label):
            digits = re.findall(r"\d{4}", label)[0]
            quarter = re.findall(r"[Qq]([1-4])", label)[0]
            errors.append(
                FieldError(
                    f"Write the period heading as {digits}-Q{quarter}, not '{label}'.",
                    field=label,
                    row=1,
                )
            )
        else:
            errors.append(
                FieldError(
                    f"Unknown column '{label}'. In the wide layout every column after 'metric' "
                    "is a period written like 2026-Q1; in the long layout the columns are "
                    "metric, period, value.",
                    field=label,
                    row=1,
                )
            )
    if not periods and not errors:
        errors.append(
            FieldError(
                "Add at least one period column (for example 2026-Q1) after 'metric'.",
                field="metric",
                row=1,
            )
        )
    if errors:
        return _no_rows()
    return _stream_wide(body, periods)


def _stream_wide(body, periods: list[tuple[int, str]]) -> Iterator[RawRow]:
    for row_number, cells in body:
        if _is_blank(cells):
            continue
        metric = cells[0] if cells else None
        extra = _overflow(cells[periods[-1][0] + 1 :]) if len(cells) > periods[-1][0] + 1 else None
        for index, label in periods:
            value = cells[index] if index < len(cells) else None
            yield RawRow(
                row=row_number,
                metric=metric,
                period=label,
                value=value,
                value_column=label,
                period_column=label,
                extra=extra if index == periods[-1][0] else None,
            )


def parse_csv(content: bytes) -> ParsedFile:
    text = decode_text(content)
    if not text.strip():
        raise refuse("The file is empty. Download a template, fill it in and upload it.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        header = next(reader)
    except csv.Error as error:
        raise refuse(f"The CSV file could not be read: {error}.") from None

    def body() -> Iterator[tuple[int, list]]:
        row_number = 1
        try:
            for cells in reader:
                row_number += 1
                yield row_number, cells
        except csv.Error as error:
            message = f"Row {row_number + 1} of the CSV file could not be read: {error}."
            raise refuse(message) from None

    return read_table(header, body(), "csv")


def parse(content: bytes, *, filename: str, content_type: str) -> ParsedFile:
    """Read the file with every parser failure a plain refusal (never a 500)."""
    try:
        return _parse(content, filename=filename, content_type=content_type)
    except DomainError:
        raise
    except RecursionError:
        raise refuse("The file is nested too deeply to be read.") from None
    except (ArithmeticError, ValueError, UnicodeError, csv.Error) as error:
        raise refuse(
            f"The file could not be read ({type(error).__name__}). Check it holds only a "
            "benchmark table and upload it again.",
            status_cls=UnreadableFile,
        ) from None


def _parse(content: bytes, *, filename: str, content_type: str) -> ParsedFile:
    kind = detect_kind(content, filename, content_type)
    if kind == "xlsx":
        from marketplace.benchmarks.workbooks import parse_xlsx

        return parse_xlsx(content)
    if kind == "json":
        from marketplace.benchmarks.json_bodies import parse_json

        return parse_json(content)
    return parse_csv(content)
