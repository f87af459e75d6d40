"""Excel workbooks: opened only after their zip directory shows they are safe to unpack.

openpyxl reads the first sheet in read-only mode; cells come back as the person sees them
(a number formatted as a percentage is the percentage). Macro workbooks and zip bombs are
refused before anything is decompressed.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from decimal import Decimal

from marketplace.benchmarks.parsing import ParsedFile, UnreadableFile, read_table, refuse

# A workbook this much larger unpacked than packed is a zip bomb, not a spreadsheet.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 150
MAX_ZIP_MEMBERS = 500


def check_zip(content: bytes) -> zipfile.ZipFile:
    """Open a workbook's zip only after its directory shows it is safe to unpack."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise refuse(
            "The workbook is damaged and cannot be opened. Open it in Excel, save it again "
            "as an Excel Workbook (.xlsx) and upload it.",
            status_cls=UnreadableFile,
        ) from None
    unpacked = sum(m.file_size for m in members)
    worst = max((m.file_size / max(m.compress_size, 1) for m in members), default=0)
    if (
        len(members) > MAX_ZIP_MEMBERS
        or unpacked > MAX_UNPACKED_BYTES
        or (worst > MAX_COMPRESSION_RATIO and unpacked > 10 * 1024 * 1024)
    ):
        raise refuse(
            "The workbook unpacks to far more data than a benchmark return holds, so it was "
            "not opened. Upload a workbook with just the benchmark sheet, or a CSV file."
        )
    names = {m.filename for m in members}
    types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
    if "xl/vbaProject.bin" in names or b"macroEnabled" in types:
        raise refuse(
            "This workbook contains macros. Save it as an Excel Workbook (.xlsx) without "
            "macros, or as CSV, and upload that."
        )
    if "xl/workbook.xml" not in names:
        raise refuse(
            "This zip file is not an Excel workbook. Upload an Excel Workbook (.xlsx) or a "
            "CSV file."
        )
    return archive


def _as_seen(cells) -> list:
    """Cell values as the person sees them: a number shown as 85% is 85, not 0.85."""
    values = []
    for cell in cells:
        value = cell.value
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and "%" in (getattr(cell, "number_format", None) or "")
        ):
            value = Decimal(repr(value)) * 100
        values.append(value)
    return values


def parse_xlsx(content: bytes) -> ParsedFile:
    import warnings

    import openpyxl

    check_zip(content)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about unsupported extensions (data validation, styles) it skips.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(
                io.BytesIO(content), read_only=True, data_only=True, keep_links=False
            )
    except Exception:  # openpyxl raises many kinds for damaged files
        raise refuse(
            "The workbook could not be opened. Open it in Excel, save it again as an Excel "
            "Workbook (.xlsx) and upload it.",
            status_cls=UnreadableFile,
        ) from None
    sheet = book.worksheets[0]
    rows = (_as_seen(row) for row in sheet.iter_rows())
    header = None
    header_row = 0
    for header_row, cells in enumerate(rows, start=1):  # noqa: B007 - used after the loop
        if any(c is not None and str(c).strip() for c in cells):
            header = list(cells)
            break
    if header is None:
        book.close()
        raise refuse("The first sheet of the workbook is empty. Put the data on the first sheet.")

    def body() -> Iterator[tuple[int, list]]:
        try:
            yield from enumerate(rows, start=header_row + 1)
        finally:
            book.close()

    return read_table(header, body(), "xlsx")
